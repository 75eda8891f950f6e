"""Every quantitative claim of notebook 04 (backpropagation and gradient flow), through the package.

Expected values come from hand calculations, closed forms or an independent method
(central differences, a formula written out here), never from the function under test.
"""

import math

import numpy as np
import pytest

from gdcourse import functional, gradcheck, graph, losses, nn, optim, regularization
from gdcourse.curvature import hessian_vector_product, power_iteration
from gdcourse.experiments import backprop as E

# ---------------------------------------------------------------- BP-01: the cost of gradients


def test_finite_differences_need_two_forward_passes_per_parameter():
    cost = E.finite_difference_cost(sizes=(4, 16, 16, 1), batch=32, rng=0)
    assert cost.num_params == (4 * 16 + 16) + (16 * 16 + 16) + (16 * 1 + 1) == 369
    assert cost.fd_forward_passes == 2 * 369
    assert cost.relative_error < 1e-6          # backprop and central differences agree
    assert cost.speedup > 5                    # 1 forward + 1 backward vs 738 forward passes


def test_mlp_flops_by_hand():
    # sizes (2, 3, 1), batch 4: products 2·4·2·3 = 48 and 2·4·3·1 = 24.
    # Backward: dW of both (48 + 24) and dx of the second layer only (24).
    assert E.mlp_flops((2, 3, 1), batch=4) == (72, 96)


@pytest.mark.parametrize("sizes", [(4, 8, 1), (4, 16, 16, 1), (64, 128, 10), (784, 256, 256, 10)])
def test_backward_costs_less_than_twice_the_forward_products(sizes):
    forward, backward = E.mlp_flops(sizes, batch=32)
    assert forward < backward < 2 * forward


def test_parameter_count_of_the_mnist_sized_network():
    assert E.mlp((784, 256, 256, 10), rng=0).num_parameters() == 784 * 256 + 256 + 256 * 256 + 256 + 2560 + 10
    assert 2 * (784 * 256 + 256 + 256 * 256 + 256 + 2560 + 10) > 500_000


# ---------------------------------------------------------------- BP-02: backprop vs gradient descent

def _xor_step_setup():
    from gdcourse import data

    X, y = data.make_xor(200, rng=0)
    model = E.mlp((2, 8, 1), rng=0)
    bce = losses.BCEWithLogitsLoss()
    model.zero_grad()
    bce.forward(model(X), y[:, None].astype(float))
    return model, bce


def test_backward_does_not_change_the_weights_and_sgd_steps_by_minus_lr_grad():
    model, bce = _xor_step_setup()
    start = [p.value.copy() for p in model.parameters()]
    model.backward(bce.backward())
    assert all(np.array_equal(p.value, s) for p, s in zip(model.parameters(), start, strict=True))
    grads = [p.grad.copy() for p in model.parameters()]
    assert any(np.abs(g).max() > 0 for g in grads)
    optim.SGD(model.parameters(), lr=0.5).step()
    for p, s, g in zip(model.parameters(), start, grads, strict=True):
        np.testing.assert_allclose(p.value - s, -0.5 * g, rtol=1e-12, atol=1e-15)


def test_adam_with_the_same_gradients_takes_a_different_step_of_size_lr():
    model, bce = _xor_step_setup()
    start = [p.value.copy() for p in model.parameters()]
    model.backward(bce.backward())
    grads = [p.grad.copy() for p in model.parameters()]
    optim.Adam(model.parameters(), lr=0.5).step()
    steps = [p.value - s for p, s in zip(model.parameters(), start, strict=True)]
    # Adam's first bias-corrected step is lr · g / (|g| + eps): size lr where |g| >> eps.
    for step, g in zip(steps, grads, strict=True):
        big = np.abs(g) > 1e-4
        np.testing.assert_allclose(step[big], -0.5 * np.sign(g[big]), rtol=1e-3)
    assert not all(np.allclose(s, -0.5 * g) for s, g in zip(steps, grads, strict=True))


# ---------------------------------------------------------------- BP-03: the worked example

def _random_two_layer(rng, n=4, d=3, h=5, c=1):
    return (rng.standard_normal((n, d)), rng.standard_normal((d, h)), rng.standard_normal(h),
            rng.standard_normal((h, c)), rng.standard_normal(c))


def test_sigmoid_output_with_cross_entropy_gives_p_minus_y_over_n():
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((6, 1)), (rng.random((6, 1)) < 0.5).astype(float)
    bce = losses.BCEWithLogitsLoss()
    bce.forward(z, y)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(bce.backward(), (p - y) / 6, rtol=1e-12)


@pytest.mark.parametrize("shape", [(4, 3, 5, 1), (6, 4, 4, 4), (1, 2, 3, 2)])
def test_two_layer_backward_matches_central_differences(shape):
    n, d, h, c = shape
    rng = np.random.default_rng(sum(shape))
    x, W1, b1, W2, b2 = _random_two_layer(rng, n, d, h, c)
    dout = rng.standard_normal((n, c))
    got = dict(zip(["x", "W1", "b1", "W2", "b2"], E.two_layer_backward(x, W1, b1, W2, b2, dout), strict=True))
    arrays = {"x": x, "W1": W1, "b1": b1, "W2": W2, "b2": b2}
    for name, array in arrays.items():
        assert got[name].shape == array.shape

        def f(value, name=name):
            out = E.two_layer_forward(**{**arrays, name: value})[0]
            return float(np.sum(out * dout))

        assert gradcheck.relative_error(got[name], gradcheck.numerical_gradient(f, array.copy())) < 1e-6


def test_two_layer_backward_matches_the_package_layers():
    rng = np.random.default_rng(3)
    x, W1, b1, W2, b2 = _random_two_layer(rng, 5, 3, 4, 2)
    dout = rng.standard_normal((5, 2))
    net = E.two_layer_as_module({"W1": W1, "b1": b1, "W2": W2, "b2": b2})
    net.zero_grad()
    np.testing.assert_allclose(net(x), E.two_layer_forward(x, W1, b1, W2, b2)[0], rtol=1e-12)
    dx = net.backward(dout)
    mine = E.two_layer_backward(x, W1, b1, W2, b2, dout)
    theirs = (dx, net[0].weight.grad, net[0].bias.grad, net[2].weight.grad, net[2].bias.grad)
    for a, b in zip(mine, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_two_layer_forward_by_an_independent_formula():
    rng = np.random.default_rng(4)
    x, W1, b1, W2, b2 = _random_two_layer(rng, 3, 2, 2, 1)
    h = np.array([[1 / (1 + math.exp(-(x[n] @ W1[:, j] + b1[j]))) for j in range(2)] for n in range(3)])
    out, hidden = E.two_layer_forward(x, W1, b1, W2, b2)
    np.testing.assert_allclose(hidden, h, rtol=1e-12)
    np.testing.assert_allclose(out, h @ W2 + b2, rtol=1e-12)


def test_two_layer_validation_names_the_argument():
    rng = np.random.default_rng(5)
    x, W1, b1, W2, b2 = _random_two_layer(rng, 3, 2, 4, 1)
    with pytest.raises(ValueError, match=r"b1: expected shape \(4,\)"):
        E.two_layer_forward(x, W1, np.zeros(3), W2, b2)
    with pytest.raises(ValueError, match=r"W1: expected shape"):
        E.two_layer_forward(x, W1.T, b1, W2, b2)
    with pytest.raises(ValueError, match=r"dout: expected the output's shape \(3, 1\)"):
        E.two_layer_backward(x, W1, b1, W2, b2, np.zeros((3, 2)))


# ---------------------------------------------------------------- BP-04: the training loop

def test_hand_written_loop_equals_the_package_loop_and_learns_xor():
    from gdcourse import data

    X, y = data.make_xor(200, rng=0)
    params = E.two_layer_params(2, 8, 1, rng=0)
    by_hand, final = E.train_two_layer_by_hand(X, y, params, lr=2.0, steps=500)
    package, model = E.train_two_layer_with_package(X, y, params, lr=2.0, steps=500)
    assert np.max(np.abs(by_hand - package)) < 1e-12
    np.testing.assert_allclose(final["W1"], model[0].weight.value, rtol=1e-9, atol=1e-12)
    assert by_hand[0] > 0.6 and by_hand[-1] < 0.02
    assert np.array_equal(params["W1"], E.two_layer_params(2, 8, 1, rng=0)["W1"])  # input not modified


# ---------------------------------------------------------------- BP-05: computational graphs

def test_squared_error_graph_gradients_by_hand():
    w, x, b, y = (graph.Value(v, n) for v, n in ((0.5, "w"), (2.0, "x"), (-1.0, "b"), (1.5, "y")))
    loss = (w * x + b - y) ** 2
    loss.backward()
    r = 0.5 * 2.0 - 1.0 - 1.5
    assert (w.grad, x.grad, b.grad, y.grad) == pytest.approx((2 * r * 2.0, 2 * r * 0.5, 2 * r, -2 * r))
    order = graph.nodes(loss)
    position = {id(n): i for i, n in enumerate(order)}
    assert order[-1] is loss
    assert all(position[id(p)] < position[id(c)] for p, c in graph.edges(loss))


def test_reused_node_sums_and_second_backward_accumulates():
    x = graph.Value(3.0, "x")
    f = x * x
    f.backward()
    assert x.grad == 6.0
    g = x * x + x
    x.zero_grad()
    g.backward()
    assert x.grad == 7.0
    g.backward()
    assert x.grad == 14.0


def test_graph_view_good_expression():
    view = E.graph_view("sigmoid(w * x + b)", "w=0.5, x=2, b=-1")
    assert view.ok and view.values == {"w": 0.5, "x": 2.0, "b": -1.0}
    assert view.root.data == pytest.approx(0.5)                       # σ(0) = 1/2
    grads = {name: grad for name, _, _, grad in view.rows}
    assert grads["w"] == pytest.approx(0.25 * 2.0) and grads["x"] == pytest.approx(0.25 * 0.5)
    assert grads["b"] == pytest.approx(0.25)
    assert view.rows[-1][1] == "sigmoid" and len(view.rows) == 6


@pytest.mark.parametrize(("expression", "values", "message"), [
    ("x ^ 2", "x=2", "not allowed"),
    ("sin(x)", "x=2", "calling 'sin' is not allowed"),
    ("x * q", "x=2", "unknown name 'q'"),
    ("1 / x", "x=0", "divisor"),
    ("log(x)", "x=-1", "positive"),
    ("x +", "x=1", "not a valid expression"),
    ("x * 2", "x=abc", "values: x must be a number"),
    ("x * 2", "x 2", "values: expected name=number"),
    ("x" + " + x" * 80, "x=1", "at most 60"),
])
def test_graph_view_reports_bad_input_instead_of_raising(expression, values, message):
    view = E.graph_view(expression, values)
    assert not view.ok and view.root is None and message in view.error


def test_parse_values():
    assert E.parse_values("a=1; b = -2.5e-1, c=3") == {"a": 1.0, "b": -0.25, "c": 3.0}
    assert E.parse_values("  ") == {}
    with pytest.raises(ValueError, match="finite"):
        E.parse_values("x=inf")
    with pytest.raises(TypeError, match="values"):
        E.parse_values(3)


# ---------------------------------------------------------------- BP-06: vanishing gradients

def test_sigmoid_derivative_bound_and_ten_layers():
    z = np.linspace(-8, 8, 16001)
    d = functional.sigmoid_grad(z)
    assert d.max() == pytest.approx(0.25) and z[d.argmax()] == pytest.approx(0.0)
    assert 0.25 ** 10 == pytest.approx(9.54e-7, rel=1e-3)
    assert functional.tanh_grad(z).max() == pytest.approx(1.0)


def test_sigmoid_network_loses_four_to_five_per_layer():
    prof = E.depth_gradient_profile("sigmoid", "xavier", depth=10)
    v = prof.weight_norms
    per_layer = np.exp(np.mean(np.log(v[1:-1] / v[:-2])))
    assert 4.0 < per_layer < 5.5
    assert np.all(prof.mean_derivative <= 0.25) and np.all(prof.mean_derivative > 0.2)


def test_the_notebook_uses_gradient_norms_from_diagnostics():
    from gdcourse import diagnostics

    model, _ = E.deep_mlp("sigmoid", "xavier", depth=4, width=8, rng=0)
    X, y = np.ones((5, 8)), np.zeros((5, 1))
    norms = diagnostics.gradient_norms(model, losses.MSELoss(), X, y)
    assert [name for _, name, _ in norms] == ["Linear"] * 5
    assert [i for i, _, _ in norms] == [0, 2, 4, 6, 8]          # Linear, Sigmoid, …: one flat layer list


def test_depth_twenty_sigmoid_vanishes_tanh_and_relu_he_do_not():
    sigmoid = E.depth_gradient_profile("sigmoid", "xavier", depth=20)
    assert sigmoid.ratio < 1e-11
    for activation, init in (("tanh", "xavier"), ("relu", "he")):
        prof = E.depth_gradient_profile(activation, init, depth=20)
        assert prof.weight_norms.max() / prof.weight_norms.min() < 10   # within an order of magnitude
    tanh = E.depth_gradient_profile("tanh", "xavier", depth=20)
    assert 0.6 <= tanh.mean_derivative.min() and tanh.mean_derivative.max() <= 1.0
    relu = E.depth_gradient_profile("relu", "he", depth=20)
    assert 0.35 < relu.mean_derivative.mean() < 0.65                   # about half the units active


def test_vanishing_depth_is_the_first_depth_below_the_threshold():
    assert E.vanishing_depth("sigmoid", "xavier", threshold=1e-6) == 10
    assert E.depth_gradient_profile("sigmoid", "xavier", depth=10).ratio < 1e-6
    assert all(E.depth_gradient_profile("sigmoid", "xavier", depth=d).ratio >= 1e-6 for d in range(1, 10))
    assert E.vanishing_depth("relu", "he", threshold=1e-6, max_depth=5) is None


def test_same_seed_same_profile_and_first_layers_shared_across_depths():
    a = E.depth_gradient_profile("tanh", "xavier", depth=5, rng=3)
    b = E.depth_gradient_profile("tanh", "xavier", depth=5, rng=3)
    np.testing.assert_array_equal(a.weight_norms, b.weight_norms)
    short, _ = E.deep_mlp("tanh", "xavier", 3, width=8, rng=1)
    long, _ = E.deep_mlp("tanh", "xavier", 6, width=8, rng=1)
    np.testing.assert_array_equal(short[0].weight.value, long[0].weight.value)
    np.testing.assert_array_equal(short[-1].weight.value, long[-1].weight.value)


def test_signal_norms_by_an_independent_backward_pass():
    prof = E.depth_gradient_profile("tanh", "xavier", depth=3, width=8, rng=2, batch=5)
    data_rng, model_rng = np.random.default_rng(2).spawn(2)
    X, y = data_rng.standard_normal((5, 8)), data_rng.standard_normal((5, 1))
    model, _ = E.deep_mlp("tanh", "xavier", 3, width=8, rng=model_rng)
    # by hand: h_l = tanh(h_{l-1} W_l + b_l), out = h_3 W + b, L = mean((out − y)²)
    hs = [X]
    linears = [model[0], model[2], model[4]]                   # Linear, Tanh, Linear, Tanh, Linear, Tanh, Linear
    for linear in linears:
        hs.append(np.tanh(hs[-1] @ linear.weight.value + linear.bias.value))
    out = hs[-1] @ model[6].weight.value + model[6].bias.value
    g = 2 * (out - y) / out.size
    expected = [np.linalg.norm(g @ model[6].weight.value.T)]
    g = g @ model[6].weight.value.T
    for layer in (2, 1, 0):
        g = (g * (1 - hs[layer + 1] ** 2)) @ linears[layer].weight.value.T
        expected.append(np.linalg.norm(g))
    np.testing.assert_allclose(prof.signal_norms, expected[::-1], rtol=1e-10)


def test_deep_mlp_layout_with_norm_or_residual_and_its_activation_layers():
    model, acts = E.deep_mlp("tanh", "xavier", 3, width=4, rng=0, norm="batch")
    assert [type(layer).__name__ for layer in model] == ["Linear", "BatchNorm1d", "Tanh"] * 3 + ["Linear"]
    assert model[0].bias is not None                                 # hidden Linear layers keep their bias
    assert len(acts) == 3 and all(a is model[i] for a, i in zip(acts, (2, 5, 8), strict=True))
    res, res_acts = E.deep_mlp("relu", "he", 2, width=4, rng=0, residual=True)
    assert [type(layer).__name__ for layer in res] == ["Residual", "Residual", "Linear"]
    assert all(a is block.block[1] for a, block in zip(res_acts, res[:2], strict=True))


def test_weight_norms_are_those_of_the_linear_layers_when_a_norm_is_used():
    prof = E.depth_gradient_profile("tanh", "xavier", depth=3, width=8, rng=2, batch=5, norm="batch")
    data_rng, model_rng = np.random.default_rng(2).spawn(2)
    X, y = data_rng.standard_normal((5, 8)), data_rng.standard_normal((5, 1))
    model, _ = E.deep_mlp("tanh", "xavier", 3, width=8, rng=model_rng, norm="batch")
    mse = losses.MSELoss()
    mse.forward(model(X), y)
    model.backward(mse.backward())
    expected = [np.linalg.norm(layer.weight.grad) for layer in model if isinstance(layer, nn.Linear)]
    assert len(expected) == 4
    np.testing.assert_allclose(prof.weight_norms, expected, rtol=1e-12)


def test_deep_mlp_validation():
    with pytest.raises(ValueError, match="activation: expected one of"):
        E.deep_mlp("swish", "he", 2)
    with pytest.raises(ValueError, match="init: expected one of"):
        E.deep_mlp("relu", "kaiming", 2)
    with pytest.raises(ValueError, match="norm: expected one of"):
        E.deep_mlp("relu", "he", 2, norm="group")
    with pytest.raises(ValueError, match="depth: expected an int >= 1"):
        E.deep_mlp("relu", "he", 0)


# ---------------------------------------------------------------- BP-07: exploding gradients

def test_unit_normal_init_explodes_per_layer():
    he = E.depth_gradient_profile("relu", "he", depth=10)
    big = E.depth_gradient_profile("relu", "unit normal", depth=10)
    assert he.weight_norms.max() < 10 and big.weight_norms.min() > 1e13
    growth = np.exp(np.mean(np.log(big.signal_norms[:-1] / big.signal_norms[1:])))
    assert abs(growth - math.sqrt(64 / 2)) < 0.5


def test_training_runs_diverge_or_not_as_the_notebook_says():
    too_high = E.divergence_run(lr=0.1)
    assert too_high.diverged and too_high.diverged_at == 5
    assert np.all(np.diff(too_high.grad_norms) > 0)                    # growth before the NaN
    assert "training diverged at step 5" in too_high.message and "learning rate 0.1" in too_high.message
    clipped = E.divergence_run(lr=0.1, clip_norm=1.0)
    slower = E.divergence_run(lr=0.01)
    assert not clipped.diverged and not slower.diverged
    assert clipped.losses[-1] < 0.2 and slower.losses[-1] < 0.2
    bad_init = E.divergence_run(lr=0.001, init="unit normal")
    assert bad_init.diverged and bad_init.grad_norms[0] > 1e7
    bad_init_clipped = E.divergence_run(lr=0.01, init="unit normal", clip_norm=1.0)
    assert not bad_init_clipped.diverged and bad_init_clipped.losses[-1] > 1e3


# ---------------------------------------------------------------- BP-08: recurrent networks

@pytest.mark.parametrize("scale", [0.5, 0.9, 1.0, 1.1, 1.5, 2.0])
def test_rnn_gradient_never_exceeds_scale_to_the_k(scale):
    run = E.rnn_gradient_vs_steps(scale, steps=50)
    k = np.arange(50)
    assert np.all(run.norms <= run.norms[0] * scale ** k * (1 + 1e-9))
    np.testing.assert_allclose(run.bound, run.norms[0] * scale ** k, rtol=1e-12)   # the dashed line drawn


def test_rnn_gradient_by_an_independent_forward_and_backward_loop():
    scale, steps, hidden = 1.3, 12, 6
    run = E.rnn_gradient_vs_steps(scale, steps=steps, hidden=hidden, rng=7, batch=3)
    rng = np.random.default_rng(7)                      # replay the draws of rnn_gradient_vs_steps
    nn.RNN(hidden, hidden, rng=rng)
    q, r = np.linalg.qr(rng.standard_normal((hidden, hidden)))
    W = scale * q * np.sign(np.diag(r))
    x = 0.1 * rng.standard_normal((3, steps, hidden))
    g = rng.standard_normal((3, hidden))
    h = [np.zeros((3, hidden))]
    for t in range(steps):
        h.append(np.tanh(x[:, t] + h[-1] @ W))         # W_xh = I, b = 0
    expected = []
    for t in range(steps, 0, -1):                       # the gradient at input x_t, last step first
        da = g * (1 - h[t] ** 2)
        expected.append(np.linalg.norm(da))
        g = da @ W.T
    np.testing.assert_allclose(run.norms, expected, rtol=1e-10)
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False), scale, rtol=1e-12)


def test_rnn_vanishes_below_one_and_grows_above():
    ratio = {s: (lambda r: r.norms[-1] / r.norms[0])(E.rnn_gradient_vs_steps(s, steps=50))
             for s in (0.5, 1.0, 1.5, 2.0)}
    assert 0.3 * 0.5 ** 49 < ratio[0.5] <= 0.5 ** 49       # close to its bound
    assert ratio[1.0] < 0.2                                 # still decays at 1 (tanh' < 1)
    for s in (1.5, 2.0):
        assert ratio[s] > 10 and ratio[s] < 1e-3 * s ** 49  # grows, far below the bound


def test_spectral_norm_not_entry_size():
    assert np.linalg.norm(np.full((64, 64), 0.2), 2) == pytest.approx(12.8)
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((64, 64)))[0]
    assert np.linalg.norm(q, 2) == pytest.approx(1.0)


def test_truncated_bptt_equals_full_within_the_window_and_is_zero_beyond():
    full = E.rnn_gradient_vs_steps(1.5, steps=50)
    cut = E.rnn_gradient_vs_steps(1.5, steps=50, bptt_steps=10)
    np.testing.assert_allclose(cut.norms[:10], full.norms[:10], rtol=1e-12)
    assert np.all(cut.norms[10:] == 0)


def test_forget_gate_path_is_the_product_of_the_gates():
    path = E.forget_gate_path(2.0, steps=10, noise=0.0)
    np.testing.assert_allclose(path, (1 / (1 + math.exp(-2.0))) ** np.arange(11), rtol=1e-12)
    assert E.forget_gate_path(5.0, steps=50)[-1] > 0.5
    assert E.forget_gate_path(0.0, steps=50)[-1] < 1e-10
    vanilla = E.rnn_gradient_vs_steps(1.0, steps=50)
    assert E.forget_gate_path(5.0, steps=50)[-1] > vanilla.norms[-1] / vanilla.norms[0]


@pytest.mark.parametrize("scale", [0.5, 2.0])
def test_clipping_only_shrinks(scale):
    before, after, oldest_before, oldest_after = E.clipping_effect(scale, max_norm=1.0)
    assert after <= before and after <= 1.0 + 1e-9 and oldest_after <= oldest_before
    if scale == 0.5:
        assert oldest_before < 1e-12 and oldest_after < 1e-12    # the vanishing gradient stays vanished


def test_clip_grad_norm_never_lengthens_a_gradient():
    rng = np.random.default_rng(0)
    param = nn.Parameter(np.zeros(100))
    for size in np.geomspace(1e-8, 1e8, 200):
        param.grad = size * rng.standard_normal(100)
        norm = np.linalg.norm(param.grad)
        regularization.clip_grad_norm([param], max_norm=1.0)
        assert np.linalg.norm(param.grad) <= norm * (1 + 1e-12)


# ---------------------------------------------------------------- BP-09, BP-10: remedies, skip connections

def test_remedies_lift_the_first_layer_gradient():
    base = dict(depth=30)
    baseline = E.depth_gradient_profile("sigmoid", "xavier", **base).weight_norms[0]
    assert baseline < 1e-15
    for kw in (dict(activation="sigmoid", init="xavier", norm="batch"),
               dict(activation="sigmoid", init="xavier", residual=True),
               dict(activation="tanh", init="xavier"), dict(activation="relu", init="he")):
        assert 0.2 < E.depth_gradient_profile(**kw, **base).weight_norms[0] < 10
    lecun = E.depth_gradient_profile("relu", "lecun", **base).weight_norms[0]
    assert 1e-5 < lecun < 1e-3


def test_residual_block_with_zero_branch_passes_the_gradient_unchanged():
    block = nn.Residual(nn.Sequential(nn.Linear(4, 4, init="zeros"), nn.Tanh()))
    rng = np.random.default_rng(0)
    x, dy = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_array_equal(block(x), x)
    np.testing.assert_array_equal(block.backward(dy), dy)


def test_plain_stack_with_batch_norm_does_not_vanish():
    # BP-10 (notebook and bank): He et al.'s degradation was not vanishing gradients; 20 seeds.
    reach = np.array([E.depth_gradient_profile("relu", "he", depth=30, norm="batch", rng=s).signal_norms[[0, -1]]
                      for s in range(20)])
    ratio = reach[:, 0] / reach[:, 1]
    assert np.all(ratio > 10)                          # "no vanishing": it grows towards the input
    assert 80 < np.median(ratio) < 400                 # "about 180 times"


def test_plain_vs_residual_stack():
    plain = E.depth_gradient_profile("sigmoid", "xavier", depth=30)
    residual = E.depth_gradient_profile("sigmoid", "xavier", depth=30, residual=True)
    assert plain.signal_norms[0] / plain.signal_norms[-1] < 1e-15
    assert residual.signal_norms[0] / residual.signal_norms[-1] > 0.5
    assert residual.mean_derivative[0] > 2 * residual.mean_derivative[-1]   # the stream grows, units saturate
    assert residual.name == "sigmoid, xavier init + residual"


# ---------------------------------------------------------------- BP-11: a hidden unit's error term

def test_hidden_error_terms_scenarios():
    unit, others = 2, np.arange(8) != 2
    base = E.hidden_error_terms("baseline", unit=unit)
    large = E.hidden_error_terms("large outgoing weights", unit=unit)
    saturated = E.hidden_error_terms("saturated unit", unit=unit)
    bug = E.hidden_error_terms("bug: no σ' in backward", unit=unit)
    assert large[unit] > 5 * np.median(large[others])
    assert 8 < large[unit] / base[unit] < 15                          # outgoing weights ×10 → error ×~10
    assert saturated[unit] < 1e-3 * base[unit]
    assert np.all(bug >= 4 * base)                     # 1/σ' ≥ 4 for every unit


def test_hidden_error_terms_by_hand():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((128, 8))
    y = np.sin(X[:, :1]) + 0.5 * rng.standard_normal((128, 1))
    p = E.two_layer_params(8, 8, 1, rng)
    h = 1 / (1 + np.exp(-(X @ p["W1"] + p["b1"])))
    out = h @ p["W2"] + p["b2"]
    delta = (2 * (out - y) / 128) @ p["W2"].T * h * (1 - h)
    np.testing.assert_allclose(E.hidden_error_terms("baseline"), np.abs(delta).mean(axis=0), rtol=1e-12)
    with pytest.raises(ValueError, match="scenario"):
        E.hidden_error_terms("typo")


def test_a_gradient_check_catches_the_missing_derivative():
    def network(layer):
        return nn.Sequential(nn.Linear(8, 8, init="xavier_normal", rng=0), layer,
                             nn.Linear(8, 1, init="xavier_normal", rng=1))

    x = np.random.default_rng(0).standard_normal((5, 8))
    assert gradcheck.check_module(network(nn.Sigmoid()), x, rng=0).worst < 1e-7
    assert gradcheck.check_module(network(E.SigmoidWithoutDerivative()), x, rng=0).worst > 0.1


# ---------------------------------------------------------------- BP-12: gradient checking

def test_check_module_on_a_small_network():
    mlp = nn.Sequential(nn.Linear(5, 7, rng=0), nn.Tanh(), nn.Linear(7, 3, rng=1))
    assert gradcheck.check_module(mlp, np.random.default_rng(0).standard_normal((4, 5)), rng=0).worst < 1e-7


def test_step_size_and_precision():
    hs = 10.0 ** np.arange(-12, 0, 0.5)
    central64 = E.difference_errors(hs, "float64", "central")
    forward64 = E.difference_errors(hs, "float64", "forward")
    central32 = E.difference_errors(hs, "float32", "central")
    best = np.nanargmin(central64)
    assert central64[best] < 1e-9 and 1e-6 <= hs[best] <= 1e-4        # near ε^(1/3) ≈ 6e-6
    assert np.nanmin(forward64) > 10 * central64[best]                  # O(h) vs O(h²)
    assert np.nanmin(central32) > 1e-6                                  # float32 cannot reach 1e-7
    assert np.isnan(central32[0])                                       # w ± 1e-12 rounds back to w
    assert np.finfo(np.float64).eps ** (1 / 3) == pytest.approx(6.06e-6, rel=1e-2)


def test_difference_errors_by_an_independent_formula():
    # For a large h the central difference of the same loss, computed here without the function under test.
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((16, 3)), (rng.random((16, 1)) < 0.5).astype(float)
    p = E.two_layer_params(3, 4, 1, rng, scale=2.0)

    def loss(W1):
        h = 1 / (1 + np.exp(-(X @ W1 + p["b1"])))
        z = h @ p["W2"] + p["b2"]
        return np.mean(np.logaddexp(0, z) - y * z)

    exact = gradcheck.numerical_gradient(loss, p["W1"].copy(), eps=1e-5)
    numeric = np.zeros_like(exact)
    for i in np.ndindex(exact.shape):
        up, down = p["W1"].copy(), p["W1"].copy()
        up[i] += 0.1
        down[i] -= 0.1
        numeric[i] = (loss(up) - loss(down)) / 0.2
    expected = np.linalg.norm(numeric - exact) / (np.linalg.norm(numeric) + np.linalg.norm(exact))
    assert E.difference_errors([0.1], "float64", "central")[0] == pytest.approx(expected, rel=1e-4)


def test_pitfalls_kink_dropout_regularization_float32():
    away = np.array([[0.5, -0.3, 1.2, -2.0]])
    near = np.array([[0.5, -0.3, 1e-8, -2.0]])
    assert gradcheck.check_module(nn.ReLU(), away, rng=0).worst < 1e-9
    assert gradcheck.check_module(nn.ReLU(), near, rng=0).worst > 0.1

    rng = np.random.default_rng(1)
    drop = nn.Dropout(0.5, rng=0)
    x, dy = rng.standard_normal((4, 6)), rng.standard_normal((4, 6))
    assert gradcheck.check_module(drop, x, dy).worst < 1e-9
    drop(x)
    analytic = drop.backward(dy)
    assert gradcheck.relative_error(analytic, gradcheck.numerical_input_gradient(drop, x.copy(), dy)) > 0.1

    layer, mse, target = nn.Linear(4, 3, rng=0), losses.MSELoss(), np.zeros((5, 3))
    xr = rng.standard_normal((5, 4))
    layer.zero_grad()
    mse.forward(layer(xr), target)
    layer.backward(mse.backward())
    numeric = gradcheck.numerical_gradient(
        lambda w: mse.forward(layer(xr), target) + regularization.l2_penalty(layer.parameters(), 0.1),
        layer.weight.value)
    assert gradcheck.relative_error(layer.weight.grad, numeric) > 0.01
    regularization.add_l2_grad(layer.parameters(), 0.1)
    assert gradcheck.relative_error(layer.weight.grad, numeric) < 1e-7

    with pytest.raises(ValueError, match="expected dtype float64, got float32"):
        gradcheck.check_module(nn.Linear(3, 2, dtype=np.float32, rng=0), np.ones((2, 3), np.float32))


def test_central_difference_has_error_h_squared_and_restores_the_weight():
    # ((w + h)³ − (w − h)³) / 2h = 3w² + h² exactly: the O(h²) truncation error, written out.
    w = np.array([0.5, -2.0, 3.0])
    for i, h in ((0, 1e-2), (1, 1e-3), (2, 0.1)):
        got = E.central_difference(lambda: float(np.sum(w ** 3)), w, i, h)
        assert got == pytest.approx(3 * w[i] ** 2 + h ** 2, rel=1e-9)
    np.testing.assert_array_equal(w, [0.5, -2.0, 3.0])


def test_spot_check_of_a_big_network():
    rng = np.random.default_rng(0)
    net = E.mlp((64, 128, 10), rng=0)
    assert net.num_parameters() == 64 * 128 + 128 + 128 * 10 + 10 == 9610
    x, labels = rng.standard_normal((32, 64)), rng.integers(0, 10, 32)
    ce = losses.CrossEntropyLoss()
    assert E.spot_check(net, ce, x, labels, num_coords=20, rng=0) < 1e-6
    broken = nn.Sequential(nn.Linear(64, 128, rng=0), E.SigmoidWithoutDerivative(), nn.Linear(128, 10, rng=1))
    assert E.spot_check(broken, ce, x, labels, num_coords=20, rng=0) > 0.1


def test_relative_error_reference_cases():
    # The formula of exercise 3, evaluated by hand.
    assert gradcheck.relative_error(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.003])) == pytest.approx(
        0.003 / 6.003)
    assert gradcheck.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert gradcheck.relative_error(np.array([1.0, -1.0]), np.array([-1.0, 1.0])) == 1.0


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: E.mlp((4,)), ValueError, r"sizes: expected at least \(in, out\)"),
    (lambda: E.mlp((4, 0, 1)), ValueError, "sizes entries: expected an int >= 1"),
    (lambda: E.mlp_flops((4, 2), batch=0), ValueError, "batch: expected an int >= 1"),
    (lambda: E.difference_errors([1e-5], dtype="float16"), ValueError, "dtype: expected 'float32' or"),
    (lambda: E.difference_errors([1e-5], kind="backward"), ValueError, "kind: expected 'central' or"),
    (lambda: E.rnn_gradient_vs_steps(scale=-1.0), ValueError, "scale: expected a number > 0"),
    (lambda: E.rnn_gradient_vs_steps(steps=0), ValueError, "steps: expected an int >= 1"),
    (lambda: E.vanishing_depth(threshold=0.0), ValueError, "threshold: expected a number > 0"),
    (lambda: E.divergence_run(lr=0.0), ValueError, "lr: expected a number > 0"),
    (lambda: E.train_two_layer_by_hand(np.ones((3, 2)), np.ones(3), E.two_layer_params(2, 4, 1, rng=0),
                                       lr=0.1, steps=0), ValueError, "steps: expected an int >= 1"),
    (lambda: E.spot_check(E.mlp((2, 3, 1), rng=0), losses.MSELoss(), np.full((2, 2), np.nan),
                          np.ones((2, 1))), ValueError, "X: expected finite values"),
])
def test_bad_input_names_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---------------------------------------------------------------- BP-08: a real LSTM cell through time

def test_lstm_cell_backward_matches_central_differences():
    steps, hidden = 12, 6
    run = E.lstm_cell_gradient(1.0, steps=steps, hidden=hidden, rng=3)
    rng = np.random.default_rng(3)                      # the same draws as inside lstm_cell_gradient
    params = E.lstm_params(hidden, forget_bias=1.0, rng=rng)
    xs = rng.standard_normal((steps, 1, hidden))
    zeros = np.zeros((1, hidden))
    hs, cs, gates = E.lstm_forward(params, xs, zeros, zeros)
    u = rng.standard_normal((1, hidden))
    for k in (0, 1, 5, 11):
        s = steps - k
        o_s = gates[s - 1][2]

        def loss_of(c, s=s, o_s=o_s):                   # perturbing c_s also changes h_s = o_s tanh(c_s)
            return float(np.sum(u * E.lstm_forward(params, xs[s:], o_s * np.tanh(c), c)[1][-1]))

        numeric = gradcheck.numerical_gradient(loss_of, cs[s].copy())
        assert gradcheck.relative_error(run.grads[k], numeric) < 1e-7, k
        assert run.full[k] == pytest.approx(np.linalg.norm(numeric) / np.linalg.norm(u), rel=1e-6)


def test_whole_lstm_cell_gradient_vs_the_forget_gate_product():
    # BP-08, BP-08a (notebook and bank): 20 random cells per forget bias, 49 steps back.
    full, direct = {}, {}
    for bias in (0.0, 1.0, 3.0, 5.0):
        cells = [E.lstm_cell_gradient(bias, steps=50, rng=s) for s in range(20)]
        full[bias] = np.array([c.full[-1] for c in cells])
        direct[bias] = np.array([c.direct[-1] for c in cells])
        assert np.all(full[bias] > direct[bias])                           # "in every one of the 20 cells"
    assert np.median(full[0.0]) < 1e-8                                     # closed gate: vanishes
    assert 0.3 < np.median(full[3.0]) < 2                                  # "about 0.8 is left"
    assert np.all(full[5.0] > 1) and 2 < np.median(full[5.0]) < 10        # "grows, about 4x"
    assert np.median(full[1.0] / direct[1.0]) > 10 and np.median(full[0.0] / direct[0.0]) > 1e3


def test_divergence_settings_over_20_seeds():
    # BP-07: the rates the notebook quotes (measured: 14, 0, 0, 15, 0 diverged of 20).
    settings = {"lr 0.1": dict(lr=0.1), "clip": dict(lr=0.1, clip_norm=1.0), "lr 0.01": dict(lr=0.01),
                "unit": dict(lr=0.001, init="unit normal"),
                "unit clip": dict(lr=0.01, init="unit normal", clip_norm=1.0)}
    seeded = E.divergence_seeds(settings, seeds=20)
    assert 8 <= seeded["lr 0.1"][0].sum() <= 18                                # "about two in three"
    for name in ("clip", "lr 0.01", "unit clip"):
        assert not seeded[name][0].any()                                        # "from every seed"
    assert np.all(seeded["clip"][1] < 1) and np.all(seeded["lr 0.01"][1] < 1)   # "trains normally"
    diverged, final = seeded["unit"]
    assert diverged.sum() >= 10 and np.all(final[~diverged] > 1e30)            # "most; the rest beyond 1e30"
    assert np.all(seeded["unit clip"][1] > 1e3)                                 # "enormous"


def test_remedies_lift_the_first_layer_gradient_over_20_seeds():
    # BP-09: "from about 1e-19 to order 1 (0.17 to 40 over 20 seeds); LeCun with ReLU about 1e-4"
    def first(seed, **kw):
        return E.depth_gradient_profile(depth=30, rng=seed, **kw).weight_norms[0]

    seeds = range(20)
    base = np.array([first(s, activation="sigmoid", init="xavier") for s in seeds])
    assert np.all(base < 1e-17)
    for kw in (dict(activation="sigmoid", init="xavier", norm="batch"),
               dict(activation="sigmoid", init="xavier", residual=True),
               dict(activation="tanh", init="xavier"), dict(activation="relu", init="he")):
        lifted = np.array([first(s, **kw) for s in seeds])
        assert np.all((lifted > 0.05) & (lifted < 100)), kw
    lecun = np.array([first(s, activation="relu", init="lecun") for s in seeds])
    assert np.all((lecun > 3e-6) & (lecun < 2e-3)) and 1e-5 < np.median(lecun) < 3e-4



# ---- BP-12c: Hessian-vector products without the Hessian ----

def _logistic_hessian_by_hand(X, w):
    """Σᵢ pᵢ(1 − pᵢ) xᵢ xᵢᵀ / n, one sample at a time (independent of E.logistic_hessian)."""
    H = np.zeros((X.shape[1], X.shape[1]))
    for x in X:
        p = 1.0 / (1.0 + math.exp(-float(x @ w)))
        H += p * (1 - p) * np.outer(x, x)
    return H / len(X)


def test_logistic_gradient_is_the_closed_form():
    problem = E.logistic_problem(n=50, d=4, rng=2)
    p = 1.0 / (1.0 + np.exp(-(problem.X @ problem.w)))
    np.testing.assert_allclose(problem.grad(problem.w), problem.X.T @ (p - problem.y[:, 0]) / 50, rtol=1e-12)
    np.testing.assert_allclose(E.logistic_hessian(problem.X, problem.w),
                               _logistic_hessian_by_hand(problem.X, problem.w), rtol=1e-12)


def test_finite_difference_hvp_error_is_u_shaped_and_small_at_the_default():
    # BP-12c: error 7e-9 at eps 1e-4, minimum 8e-11 near 1e-5, falls ×100 per decade above it
    problem = E.logistic_problem(n=200, d=10, rng=0)
    eps = 10.0 ** np.arange(-10, 0.5, 1.0)
    errors = E.hvp_errors(eps, problem, rng=0)
    assert 3e-9 < errors[np.isclose(eps, 1e-4)][0] < 2e-8              # "about 7e-9": measured 7.4e-9
    assert errors.min() < 1e-9 and 1e-7 <= eps[errors.argmin()] <= 1e-4  # measured 8e-11 at 1e-5
    assert errors[0] > 100 * errors.min()                               # round-off wins at 1e-10
    slope = np.log10(errors[np.isclose(eps, 1e-2)][0] / errors[np.isclose(eps, 1e-3)][0])
    assert 1.8 <= slope <= 2.2                                          # O(h²): measured 2.0


def test_power_iteration_and_cg_on_hvps_match_the_exact_hessian():
    problem = E.logistic_problem(n=200, d=10, rng=0)
    H = _logistic_hessian_by_hand(problem.X, problem.w)
    hvp = lambda v: hessian_vector_product(problem.grad, problem.w, v)   # noqa: E731
    top = power_iteration(hvp, 10, rng=0, iters=200, tol=1e-10)
    assert abs(top.eigenvalue - np.linalg.eigvalsh(H)[-1]) < 1e-6 * np.linalg.eigvalsh(H)[-1]
    g = problem.grad(problem.w)
    cg = E.conjugate_gradient(hvp, -g)
    newton = np.linalg.solve(H, -g)
    assert cg.products == 10                                            # d = 10, as BP-12c says
    assert np.linalg.norm(cg.solution - newton) < 1e-8 * np.linalg.norm(newton)   # "matching solve to 1e-8"


def test_conjugate_gradient_solves_an_spd_system_in_at_most_d_products():
    A = np.random.default_rng(4).standard_normal((8, 8))
    A = A @ A.T + 8 * np.eye(8)
    b = np.arange(1.0, 9.0)
    result = E.conjugate_gradient(lambda v: A @ v, b, tol=1e-12)
    assert result.products <= 8
    np.testing.assert_allclose(A @ result.solution, b, rtol=1e-9)
    assert result.residuals[-1] <= 1e-12 * np.linalg.norm(b) * 10


def _mixed(z):
    x, y = z
    return x**2 * y + x.exp() * y.tanh() + x / y + (x * y).sigmoid() - (y**3).log()


def _mixed_hessian(x, y):
    """The Hessian of _mixed, differentiated by hand."""
    t, s = math.tanh(y), 1 / (1 + math.exp(-x * y))
    sp, spp = s * (1 - s), s * (1 - s) * (1 - 2 * s)
    fxx = 2 * y + math.exp(x) * t + spp * y * y
    fxy = 2 * x + math.exp(x) * (1 - t * t) - 1 / y**2 + sp + spp * x * y
    fyy = -2 * math.exp(x) * t * (1 - t * t) + 2 * x / y**3 + spp * x * x + 3 / y**2
    return np.array([[fxx, fxy], [fxy, fyy]])


def test_gradient_graph_matches_backward():
    xs = [graph.Value(0.7), graph.Value(1.3)]
    out = _mixed(xs)
    grads = E.gradient_graph(out, xs)
    out.backward()
    assert all(abs(g.data - x.grad) < 1e-12 for g, x in zip(grads, xs, strict=True))


def test_double_backprop_hessian_vector_product_is_exact():
    # BP-12c: Hv by double backprop on the scalar graph against the Hessian differentiated by hand
    rng = np.random.default_rng(0)
    for _ in range(5):
        point, v = rng.uniform(0.3, 1.5, 2), rng.standard_normal(2)
        hv = E.hessian_vector_product_exact(_mixed, point, v)
        np.testing.assert_allclose(hv, _mixed_hessian(*point) @ v, rtol=1e-10, atol=1e-12)


def test_double_backprop_relu_has_zero_curvature_and_unknown_ops_are_named():
    hv = E.hessian_vector_product_exact(lambda z: (z[0] * 3 - 1).relu() * 2, [1.0], [1.0])
    assert hv == [0.0]
    with pytest.raises(ValueError, match="x, v"):
        E.hessian_vector_product_exact(_mixed, [1.0, 2.0], [1.0])
