"""Tests of gdcourse.graph: the scalar autograd Value, its drawing and the expression parser."""

import math
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gdcourse import nn  # noqa: E402
from gdcourse.graph import Value, draw, edges, nodes, parse  # noqa: E402


def central_difference(f, args, i, h=1e-6):
    """d f / d args[i] of a plain float function, written independently of Value."""
    up, down = list(args), list(args)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


# Each case: the expression written with Values, the same expression with the math module,
# and a point. Together they use every operation, including the reflected ones (2 - x, 3 / x).
CASES = [
    (lambda a, b: (a * b + b.exp()).tanh(), lambda a, b: math.tanh(a * b + math.exp(b)), (0.3, -0.7)),
    (lambda a, b: a / b - b**3 + (-a).sigmoid(), lambda a, b: a / b - b**3 + sigmoid(-a), (1.2, 0.8)),
    (lambda a, b: (a * a + 1).log() * b.relu(), lambda a, b: math.log(a * a + 1) * max(b, 0), (-0.4, 2.0)),
    (lambda a, b: 2 - a / (1 + b**2) + 3 / a, lambda a, b: 2 - a / (1 + b**2) + 3 / a, (1.5, -0.5)),
    (lambda a, b: (a - b) ** 0.5 * 4 + b.sigmoid() * a, lambda a, b: (a - b) ** 0.5 * 4 + sigmoid(b) * a,
     (2.0, 0.5)),
    (lambda a, b, c: (a * b + c).tanh() * (a * c).exp() - c, lambda a, b, c: math.tanh(a * b + c)
     * math.exp(a * c) - c, (0.2, -1.1, 0.6)),
]


@pytest.mark.parametrize("value_fn, float_fn, point", CASES, ids=[f"expr{i}" for i in range(len(CASES))])
def test_gradients_match_central_differences(value_fn, float_fn, point):
    inputs = [Value(p, label=f"x{i}") for i, p in enumerate(point)]
    out = value_fn(*inputs)
    assert out.data == pytest.approx(float_fn(*point), rel=1e-14)
    out.backward()
    for i, v in enumerate(inputs):
        numeric = central_difference(float_fn, point, i)
        assert abs(v.grad - numeric) <= 1e-7 * max(abs(numeric), 1.0), f"input {i}"


def test_reused_node_x_times_x():
    x = Value(3.0)
    y = x * x
    y.backward()
    assert x.grad == 6.0


def test_reused_node_a_plus_a():
    a = Value(-2.0)
    (a + a).backward()
    assert a.grad == 2.0


def test_reused_node_a_times_b_plus_a():
    a, b = Value(2.0), Value(-5.0)
    (a * b + a).backward()
    assert a.grad == -5.0 + 1.0
    assert b.grad == 2.0


def test_reuse_through_an_intermediate_node():
    # y = t * t with t = x + 1: the gradient must be summed over both uses of t before
    # flowing into x (dy/dx = 2 (x + 1)), which needs a topological order, not a plain DFS.
    x = Value(2.0)
    t = x + 1
    y = t * t + t.exp()
    y.backward()
    assert t.grad == pytest.approx(2 * 3.0 + math.exp(3.0), rel=1e-15)
    assert x.grad == pytest.approx(2 * 3.0 + math.exp(3.0), rel=1e-15)


def _small_graph():
    a, b = Value(0.5, "a"), Value(-1.5, "b")
    c = a * b
    d = (c + a).tanh()
    return a, b, c, d * d + b


def test_backward_twice_after_zero_grad_gives_the_same_gradients():
    a, b, c, out = _small_graph()
    out.backward()
    first = [n.grad for n in nodes(out)]
    out.zero_grad()
    assert all(n.grad == 0.0 for n in nodes(out))  # intermediates too
    out.backward()
    assert [n.grad for n in nodes(out)] == first


def test_backward_twice_without_zero_grad_accumulates_only_in_inputs():
    a, b, c, out = _small_graph()
    out.backward()
    once = {n: n.grad for n in nodes(out)}
    out.backward()
    for n in nodes(out):
        expected = 2 * once[n] if not n._parents else once[n]
        assert n.grad == pytest.approx(expected, rel=1e-15)


def test_ten_thousand_node_chain_does_not_recurse():
    assert sys.getrecursionlimit() < 10_000  # otherwise this test proves nothing
    x = Value(0.5, "x")
    y = x
    for _ in range(10_000):
        y = y + x  # y = (k + 1) x, every node on one chain
    y.backward()
    assert x.grad == 10_001.0
    assert len(nodes(y)) == 10_001
    assert len(edges(y)) == 2 * 10_000 - 1  # the first sum x + x has a single edge from x

    z = Value(0.3)
    w = z
    for _ in range(10_000):
        w = (w * 0.999).tanh()
    w.backward()
    assert np.isfinite(z.grad) and z.grad > 0
    w.zero_grad()
    assert z.grad == 0.0


def test_nodes_are_topologically_ordered_and_edges_unique():
    a, b, c, out = _small_graph()
    order = nodes(out)
    position = {n: i for i, n in enumerate(order)}
    assert order[-1] is out
    assert len(order) == len(set(order)) == 7  # a, b, c, c+a, tanh, tanh*tanh, +b
    for parent, child in edges(out):
        assert position[parent] < position[child]
    assert len(edges(out)) == 8
    x = Value(1.0)
    square = x * x
    assert nodes(square) == [x, square]
    assert edges(square) == [(x, square)]


def _value_mlp(params, x_row):
    """2-3-1 network with tanh hidden units, written with Values."""
    w1, b1, w2, b2 = params
    hidden = [(sum((w1[i][j] * x_row[i] for i in range(2)), b1[j])).tanh() for j in range(3)]
    return sum((w2[j][0] * hidden[j] for j in range(3)), b2[0])


def test_value_mlp_gradients_equal_the_nn_gradients():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(2, 3, rng=1), nn.Tanh(), nn.Linear(3, 1, rng=2))
    model[0].bias.value = rng.standard_normal(3)
    model[2].bias.value = rng.standard_normal(1)
    x = rng.standard_normal((4, 2))
    target = rng.standard_normal((4, 1))

    # gdcourse.nn with a hand-written mean squared error: L = mean((pred - t)²), dL/dpred = 2 (pred - t) / N
    model.zero_grad()
    pred = model(x)
    model.backward(2 * (pred - target) / len(x))

    arrays = [model[0].weight.value, model[0].bias.value, model[2].weight.value, model[2].bias.value]
    params = [
        [[Value(w) for w in row] for row in arrays[0]],
        [Value(b) for b in arrays[1]],
        [[Value(w) for w in row] for row in arrays[2]],
        [Value(b) for b in arrays[3]],
    ]
    losses = [(_value_mlp(params, row) - t[0]) ** 2 for row, t in zip(x, target, strict=True)]
    loss = sum(losses[1:], losses[0]) / len(x)
    loss.backward()

    assert loss.data == pytest.approx(np.mean((pred - target) ** 2), rel=1e-12)
    grads = [
        np.array([[v.grad for v in row] for row in params[0]]),
        np.array([v.grad for v in params[1]]),
        np.array([[v.grad for v in row] for row in params[2]]),
        np.array([v.grad for v in params[3]]),
    ]
    for layer_grad, p in zip(grads, [model[0].weight, model[0].bias, model[2].weight, model[2].bias],
                             strict=True):
        np.testing.assert_allclose(layer_grad, p.grad, rtol=0, atol=1e-10)


# --- Value construction and bad input ------------------------------------------------

def test_value_rejects_non_numbers():
    with pytest.raises(TypeError, match="real number"):
        Value("3")
    with pytest.raises(TypeError, match="constant int or float exponent"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(TypeError):
        Value(1.0) + "a"


def test_value_math_domain_errors_are_clear():
    with pytest.raises(ValueError, match="log: expected a positive argument, got -1"):
        Value(-1.0).log()
    with pytest.raises(ValueError, match="integer exponent"):
        Value(-8.0) ** (1 / 3)
    with pytest.raises(ZeroDivisionError, match="divisor"):
        Value(1.0) / Value(0.0)


def test_value_sigmoid_is_stable_at_the_extremes():
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(-1000.0).sigmoid().data == 0.0
    s = Value(-30.0).sigmoid()
    assert s.data == pytest.approx(math.exp(-30) / (1 + math.exp(-30)), rel=1e-14)


# --- parse -------------------------------------------------------------------------

def test_parse_builds_the_same_graph_as_python_arithmetic():
    y = parse("tanh(w * x + b) ** 2 - -x / 2 + exp(log(x)) + sigmoid(relu(b))", w=0.5, x=2.0, b=-1.0)
    expected = math.tanh(0.5 * 2 - 1) ** 2 + 2.0 / 2 + 2.0 + sigmoid(0.0)
    assert y.data == pytest.approx(expected, rel=1e-14)


def test_parse_shares_one_leaf_per_variable():
    x = Value(3.0, "x")
    y = parse("x * x + 2 * x", x=x)
    y.backward()
    assert x.grad == 2 * 3.0 + 2
    leaves = [n for n in nodes(y) if n.label == "x"]
    assert leaves == [x]


def test_parse_labels_variables_with_their_names():
    y = parse("a * b", a=1.0, b=2.0)
    assert sorted(n.label for n in nodes(y) if not n._parents) == ["a", "b"]


def test_parse_accepts_negative_exponents():
    assert parse("x ** -2", x=2.0).data == 0.25


@pytest.mark.parametrize(
    "expression, message",
    [
        ("__import__('os')", "calling '__import__' is not allowed"),
        ("x.__class__", "attribute access is not allowed: 'x.__class__'"),
        ("exp.__globals__", "attribute access is not allowed"),
        ("y + 1", "unknown name 'y'; the variables given are: x"),
        ("open('f')", "calling 'open' is not allowed"),
        ("x ** x", "exponent must be a number, got 'x'"),
        ("x[0]", "Subscript is not allowed"),
        ("exp(x, x)", "exp takes exactly one argument"),
        ("'text'", "only numbers are allowed as constants"),
        ("x +", "not a valid expression"),
        ("x @ x", "operator MatMult is not allowed"),
        ("[x for x in ()]", "ListComp is not allowed"),
    ],
)
def test_parse_rejects_anything_but_arithmetic(expression, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        parse(expression, x=1.0)


def test_parse_rejects_overlong_input():
    with pytest.raises(ValueError, match="at most 2000 characters"):
        parse("+".join(["x"] * 1500), x=1.0)


def test_parse_handles_a_long_sum_without_recursion():
    y = parse("+".join(["x"] * 900), x=1.0)  # the AST nests 900 deep on the left
    y.backward()
    assert y.data == 900.0


# --- draw ----------------------------------------------------------------------------

def test_draw_has_one_text_per_node_and_one_arrow_per_edge():
    y = parse("tanh(w * x + b)", w=0.5, x=2.0, b=-1.0)
    y.backward()
    ax = draw(y)
    try:
        assert isinstance(ax, matplotlib.axes.Axes)
        assert len(ax.texts) == len(nodes(y)) == 6
        assert len(ax.patches) == len(edges(y)) == 5
        texts = [t.get_text() for t in ax.texts]
        for name in ("w", "x", "b"):
            assert sum(t.startswith(name + "\n") for t in texts) == 1
        assert sum(t.startswith("tanh") for t in texts) == 1
        assert any("grad 1" in t for t in texts)  # the output's own gradient
        # layered layout: inputs in the leftmost column, the output alone in the rightmost
        xs = {t.get_text().split("\n")[0]: t.get_position()[0] for t in ax.texts}
        assert xs["w"] == xs["x"] == xs["b"] == min(xs.values())
        assert xs["tanh"] == max(xs.values())
    finally:
        plt.close(ax.figure)


def test_draw_on_given_axes():
    fig, ax = plt.subplots()
    try:
        a = Value(1.0, "a")
        assert draw(a * a, ax=ax) is ax
        assert len(ax.texts) == 2 and len(ax.patches) == 1
    finally:
        plt.close(fig)


def test_draw_refuses_huge_graphs():
    x = Value(1.0)
    y = x
    for _ in range(300):
        y = y + x
    with pytest.raises(ValueError, match="301 nodes, more than max_nodes=200"):
        draw(y)


def test_the_package_exports_the_engine_the_parser_and_the_drawing_from_their_modules():
    from gdcourse import graph
    from gdcourse.graph import drawing, engine, expression

    assert graph.Value is engine.Value and graph.nodes is engine.nodes and graph.edges is engine.edges
    assert graph.parse is expression.parse and graph.FUNCTIONS is expression.FUNCTIONS
    assert graph.draw is drawing.draw and graph.layout is drawing.layout
    assert set(engine.__all__) == {"Value", "nodes", "edges"}  # the file a learner reads holds only the engine


def test_layout_puts_inputs_left_the_output_right_and_columns_by_longest_path():
    from gdcourse.graph import layout

    x, w, b = Value(2.0, "x"), Value(0.5, "w"), Value(-1.0, "b")
    z = x * w            # depth 1
    out = (z + b).tanh()  # + at depth 2, tanh at depth 3
    position = layout(out)
    assert {position[n][0] for n in (x, w, b)} == {0.0}
    assert position[z][0] == 2.0 and position[out][0] == 6.0
    assert position[out][0] == max(p[0] for p in position.values())
