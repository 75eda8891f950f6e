"""The benchmark compares like with like: every contender computes the same update.

Not a timing test. An independent float64 forward/backward written here (checked
against central differences) gives the expected update of one SGD step; the
gdcourse step, the hand-written NumPy step and PyTorch (when installed) must all
produce it, and the GEMM bound, fed the same activations and deltas, must compute
exactly the matrix products that update needs.
"""

import dataclasses
import json

import numpy as np
import pytest

from gdcourse import bench, cli
from gdcourse.bench import GdcourseStep, GemmBound, MLPSpec, NumpyStep, OptimizerStep, make_problem
from gdcourse.bench_contenders import UPDATE_RULES, AdamAsTheFormula
from gdcourse.nn import Parameter
from gdcourse.optim import Adam

LR = bench.LEARNING_RATE

SMALL_SPECS = [
    MLPSpec((5, 6, 4, 3), 7, "cross_entropy", 1.0),  # three layers: 8 products
    MLPSpec((4, 6, 3), 5, "cross_entropy", 1.0),  # two layers: 5 products
    MLPSpec((2, 16, 16, 1), 8, "mse", 1.0),
]


# --- an independent reference, float64 ------------------------------------------------

def reference_loss(problem, weights, biases):
    """The loss written as its definition: mean of −log softmax at the label, or of squared errors."""
    h = problem.x.astype(np.float64)
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ w + b
        if i < len(weights) - 1:
            h = np.where(h > 0, h, 0.0)
    if problem.spec.loss == "mse":
        return np.mean((h - problem.y) ** 2)
    log_norm = np.log(np.sum(np.exp(h - h.max(axis=1, keepdims=True)), axis=1)) + h.max(axis=1)
    return np.mean(log_norm - h[np.arange(len(h)), problem.y])


def reference_backprop(problem):
    """Loss, inputs h_i of each layer, pre-activations z_i, deltas dL/dz_i and gradients."""
    weights = [w.astype(np.float64) for w in problem.weights]
    biases = [b.astype(np.float64) for b in problem.biases]
    n, layers = problem.spec.batch, len(weights)
    inputs, pre = [problem.x.astype(np.float64)], []
    for i in range(layers):
        pre.append(inputs[i] @ weights[i] + biases[i])
        if i < layers - 1:
            inputs.append(np.maximum(pre[i], 0.0))
    out = pre[-1]
    if problem.spec.loss == "mse":
        delta = 2.0 * (out - problem.y) / out.size
    else:
        p = np.exp(out - out.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        delta = (p - np.eye(out.shape[1])[problem.y]) / n
    deltas = [None] * layers
    deltas[-1] = delta
    for i in range(layers - 1, 0, -1):
        deltas[i - 1] = (deltas[i] @ weights[i].T) * (pre[i - 1] > 0)
    grad_w = [inputs[i].T @ deltas[i] for i in range(layers)]
    grad_b = [deltas[i].sum(axis=0) for i in range(layers)]
    return dict(loss=reference_loss(problem, weights, biases), inputs=inputs, pre=pre, deltas=deltas,
                grad_w=grad_w, grad_b=grad_b)


def expected_update(problem):
    ref = reference_backprop(problem)
    new_w = [w.astype(np.float64) - LR * g for w, g in zip(problem.weights, ref["grad_w"], strict=True)]
    new_b = [b.astype(np.float64) - LR * g for b, g in zip(problem.biases, ref["grad_b"], strict=True)]
    return ref, new_w, new_b


@pytest.mark.parametrize("spec", SMALL_SPECS, ids=lambda s: s.name)
def test_reference_gradient_matches_central_differences(spec):
    problem = make_problem(spec, dtype=np.float64, rng=3)
    ref = reference_backprop(problem)
    weights = [w.copy() for w in problem.weights]
    biases = [b.copy() for b in problem.biases]
    h = 1e-6
    for arrays, grads in ((weights, ref["grad_w"]), (biases, ref["grad_b"])):
        for a, g in zip(arrays, grads, strict=True):
            numeric = np.zeros_like(a)
            for idx in np.ndindex(a.shape):
                old = a[idx]
                a[idx] = old + h
                up = reference_loss(problem, weights, biases)
                a[idx] = old - h
                down = reference_loss(problem, weights, biases)
                a[idx] = old
                numeric[idx] = (up - down) / (2 * h)
            np.testing.assert_allclose(g, numeric, rtol=1e-6, atol=1e-9)


# --- every contender computes the reference update --------------------------------------

def _gdcourse_params(step):
    return ([layer.weight.value for layer in step.linears], [layer.bias.value for layer in step.linears])


def _numpy_params(step):
    return step.weights, step.biases


def _torch_params(step):
    return step.weights(), [layer.bias.detach().numpy() for layer in step.linears]


def _contenders():
    found = [(GdcourseStep, _gdcourse_params), (NumpyStep, _numpy_params)]
    try:
        import torch  # noqa: F401
    except ImportError:
        return found
    return found + [(bench.TorchStep, _torch_params)]


@pytest.mark.parametrize("make_step, params_of", _contenders(), ids=lambda c: getattr(c, "__name__", ""))
@pytest.mark.parametrize("spec", SMALL_SPECS, ids=lambda s: s.name)
def test_two_steps_give_the_reference_updates_float64(spec, make_step, params_of):
    # the second step also proves zero_grad ran: left-over gradients would be added to it
    problem = make_problem(spec, dtype=np.float64, rng=3)
    step = make_step(problem)
    for _ in range(2):
        ref, new_w, new_b = expected_update(problem)
        assert step() == pytest.approx(ref["loss"], rel=1e-12)
        got_w, got_b = params_of(step)
        for got, want in zip(got_w + got_b, new_w + new_b, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
        problem = dataclasses.replace(problem, weights=new_w, biases=new_b)


@pytest.mark.parametrize("make_step, params_of", _contenders(), ids=lambda c: getattr(c, "__name__", ""))
@pytest.mark.parametrize("spec", bench.SPECS, ids=lambda s: s.name)
def test_benchmarked_float32_step_keeps_float32_and_matches_the_reference(spec, make_step, params_of):
    problem = make_problem(spec, dtype=np.float32, rng=0)
    _, new_w, new_b = expected_update(problem)
    step = make_step(problem)
    step()
    got_w, got_b = params_of(step)
    for old, got, want in zip(problem.weights + problem.biases, got_w + got_b, new_w + new_b, strict=True):
        assert got.dtype == np.float32  # a contender silently in float64 would not be comparable
        # compare the updates: float32 rounding of W itself (~6e-8 |W|) is of no interest
        change, expected_change = got.astype(np.float64) - old, want - old
        scale = np.abs(expected_change).max()
        assert scale > 0
        assert np.abs(change - expected_change).max() <= 2e-3 * scale + 1e-6 * np.abs(old).max()


@pytest.mark.parametrize("make_step, params_of", _contenders(), ids=lambda c: getattr(c, "__name__", ""))
def test_reset_restores_the_initial_weights(make_step, params_of):
    problem = make_problem(SMALL_SPECS[0], dtype=np.float64, rng=3)
    step = make_step(problem)
    step()
    step.reset()
    got_w, got_b = params_of(step)
    for got, want in zip(got_w + got_b, problem.weights + problem.biases, strict=True):
        np.testing.assert_array_equal(got, want)
    assert step() == pytest.approx(reference_loss(problem, problem.weights, problem.biases), rel=1e-12)


# --- the GEMM bound ---------------------------------------------------------------------

@pytest.mark.parametrize("spec", SMALL_SPECS, ids=lambda s: s.name)
def test_gemm_bound_computes_the_products_of_the_reference_step(spec):
    problem = make_problem(spec, dtype=np.float64, rng=3)
    ref, new_w, _ = expected_update(problem)
    bound = GemmBound(problem)
    for i, h in enumerate(ref["inputs"]):
        bound.inputs[i][...] = h
    for i, d in enumerate(ref["deltas"]):
        bound.deltas[i][...] = d
    bound()
    for i in range(spec.num_layers):
        np.testing.assert_allclose(bound.outputs[i], ref["pre"][i] - problem.biases[i],
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(problem.weights[i] - LR * bound.weight_grads[i], new_w[i], rtol=1e-12,
                                   atol=1e-14)
    for i in range(1, spec.num_layers):  # dL/dh_i, masked by ReLU', is the previous layer's delta
        masked = bound.input_grads[i] * (ref["pre"][i - 1] > 0)
        np.testing.assert_allclose(masked, ref["deltas"][i - 1], rtol=1e-12, atol=1e-14)


def test_gemm_bound_runs_exactly_the_step_products_for_the_digits_mlp():
    problem = make_problem(MLPSpec((64, 128, 10), 64, "cross_entropy", 1.6), dtype=np.float32)
    bound = GemmBound(problem)
    shapes = [(a.shape, b.shape, out.shape) for a, b, out in bound.products]
    assert shapes == [
        ((64, 64), (64, 128), (64, 128)),  # forward layer 1: x @ W1
        ((64, 128), (128, 10), (64, 10)),  # forward layer 2: h @ W2
        ((128, 64), (64, 10), (128, 10)),  # dW2 = hᵀ @ d2
        ((64, 10), (10, 128), (64, 128)),  # dh = d2 @ W2ᵀ
        ((64, 64), (64, 128), (64, 128)),  # dW1 = xᵀ @ d1 (no dx for the first layer)
    ]
    operands = [m for triple in bound.products for m in triple]
    assert all(m.dtype == np.float32 for m in operands)


@pytest.mark.parametrize("spec, count", list(zip(bench.SPECS, (8, 5, 8), strict=True)),
                         ids=lambda s: getattr(s, "name", ""))
def test_gemm_bound_has_three_products_per_layer_minus_one(spec, count):
    assert len(GemmBound(make_problem(spec)).products) == count


class _CountingStep:
    def __init__(self):
        self.calls = self.resets = 0

    def __call__(self):
        self.calls += 1

    def reset(self):
        self.resets += 1


def test_measure_interleaves_rounds_and_stops_at_the_budget_after_five():
    steps = {"a": _CountingStep(), "b": _CountingStep()}
    times = bench.measure(steps, rounds=12, batch_seconds=1e-4, warmup_seconds=0.0)
    assert [len(t) for t in times.values()] == [12, 12]
    assert all(t > 0 for ts in times.values() for t in ts)
    assert all(step.resets > 12 for step in steps.values())  # every timed batch starts from reset()
    cut = bench.measure(steps, rounds=12, batch_seconds=1e-4, warmup_seconds=0.0, budget_seconds=0.0)
    assert [len(t) for t in cut.values()] == [5, 5]


# --- report and command line ------------------------------------------------------------

def _report(ratio, vs_torch):
    return {
        "environment": dict(dtype="float32", repeats=3, numpy="x", blas="openblas", blas_threads=2,
                            torch="2.0", torch_threads=2, cpu_count=2, python="3.11",
                            load_average_before=0.0, other_cpu_load=0.0),
        "results": [{
            "name": "2-16-16-1", "spec": {"batch": 32}, "target": 2.5,
            "contenders": {"gemm": dict(median_us=10.0, iqr_us=1.0, vs_gemm=1.0)},
            **bench._verdicts(MLPSpec((2, 16, 16, 1), 32, "mse", 2.5), {
                "gdcourse": dict(median_us=10.0 * ratio, vs_gemm=ratio),
                "torch": dict(median_us=10.0 * ratio / vs_torch),
            }),
        }],
    }


@pytest.mark.parametrize("ratio, vs_torch, verdicts", [
    (2.4, 0.5, ["PASS", "PASS"]), (2.6, 0.5, ["MISS", "PASS"]), (2.0, 1.2, ["PASS", "MISS"]),
])
def test_report_marks_pass_and_miss_against_the_targets(ratio, vs_torch, verdicts):
    last_row = [line for line in bench.format_report(_report(ratio, vs_torch)).splitlines()
                if line.startswith("2-16-16-1")][-1]
    assert [w for w in last_row.split() if w in ("PASS", "MISS")] == verdicts
    assert f"{ratio:.2f}" in last_row and f"{vs_torch:.2f}" in last_row


def test_command_saves_json_with_consistent_ratios(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "SPECS", (MLPSpec((3, 4, 2), 5, "cross_entropy", 1e9),))
    path = tmp_path / "bench.json"
    assert cli.main(["bench", "--quick", "--repeats", "2", "--no-torch", "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    (result,) = report["results"]
    rows = result["contenders"]
    assert list(rows) == ["gemm", "gdcourse", "numpy"]
    assert all(row["rounds"] == 2 for row in rows.values())
    assert result["ratio"] == pytest.approx(rows["gdcourse"]["median_us"] / rows["gemm"]["median_us"])
    assert result["ratio_pass"] is True  # the target 1e9 cannot be missed
    assert "3-4-2" in capsys.readouterr().out


def test_command_rejects_non_positive_repeats(capsys):
    assert cli.main(["bench", "--repeats", "0"]) == 2
    assert "repeats: expected an int >= 1, got 0" in capsys.readouterr().err


def test_command_rejects_cpu_time_with_several_threads(capsys):
    assert cli.main(["bench", "--cpu-time", "--threads", "2"]) == 2
    assert "cpu_time: expected threads=1" in capsys.readouterr().err


# --- update rules alone (--optimizers) --------------------------------------------------

@pytest.mark.parametrize("name", list(UPDATE_RULES))
def test_optimizer_step_moves_every_parameter_and_reset_puts_them_back(name):
    problem = make_problem(SMALL_SPECS[0], dtype=np.float32, rng=3)
    step = OptimizerStep(problem, UPDATE_RULES[name])
    before = [p.value.copy() for p in step.model.parameters()]
    step()
    assert all(not np.array_equal(p.value, b) for p, b in zip(step.model.parameters(), before, strict=True))
    step.reset()
    for p, b in zip(step.model.parameters(), before, strict=True):
        np.testing.assert_array_equal(p.value, b)


def test_adam_as_the_formula_takes_the_steps_of_optim_adam():
    g = np.random.default_rng(5)
    buffered, formula = Parameter(g.standard_normal(6)), Parameter(np.zeros(6))
    formula.value = buffered.value
    opts = Adam([buffered], lr=0.1), AdamAsTheFormula([formula], lr=0.1)
    for _ in range(3):
        grad = g.standard_normal(6)
        for p, opt in zip((buffered, formula), opts, strict=True):
            p.grad = grad
            opt.step()
        np.testing.assert_allclose(formula.value, buffered.value, rtol=1e-13, atol=1e-15)


def test_command_times_each_update_rule_on_the_first_mlp(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(bench, "SPECS", (MLPSpec((3, 4, 2), 5, "cross_entropy", 1e9),))
    path = tmp_path / "bench.json"
    argv = ["bench", "--quick", "--repeats", "2", "--no-torch", "--optimizers", "--json", str(path)]
    assert cli.main(argv) == 0
    rules = json.loads(path.read_text())["update_rules"]
    assert rules["name"] == "3-4-2" and rules["entries"] == 3 * 4 + 4 + 4 * 2 + 2
    assert list(rules["rules"]) == list(UPDATE_RULES)
    sgd = rules["rules"]["SGD"]["median_us"]
    for row in rules["rules"].values():
        assert row["vs_sgd"] == pytest.approx(row["median_us"] / sgd)
    assert "one optimizer.step() on the 26 parameters of 3-4-2" in capsys.readouterr().out
