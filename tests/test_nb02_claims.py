"""Notebook 02 (GD variants): every quantitative claim, through the functions the notebook calls.

Expected values come from formulas written out here (or from brute force, e.g. every
subset of a small data set), never from the code under test.
"""

import itertools
import math
import warnings

import numpy as np
import pytest

from gdcourse import schedules
from gdcourse.data import batch_indices, num_batches
from gdcourse.experiments import variants as E

SEEDS = range(20)
"""Random-outcome claims are measured over at least 20 seeds and asserted as intervals on the rate."""


@pytest.fixture(scope="module")
def problem():
    """The notebook's main problem."""
    return E.regression_problem(n=500, d=10, noise=0.5, scales=np.geomspace(1, 0.3, 10), rng=0)


@pytest.fixture(scope="module")
def curvatures(problem):
    eig = np.linalg.eigvalsh(problem.X.T @ problem.X / problem.n)
    return eig[0], eig[-1]


def _spread(X, y, w):
    """σ² = (1/N) Σ‖g_i − ḡ‖², computed row by row (independent of the package's vectorized code)."""
    grads = np.array([x * (x @ w - t) for x, t in zip(X, y, strict=True)])
    return float(np.mean([np.sum((g - grads.mean(axis=0)) ** 2) for g in grads]))


# ---------------------------------------------------------------- the problem and the runner

def test_least_squares_gradient_matches_central_differences():
    p = E.regression_problem(n=30, d=4, noise=0.3, rng=1)
    rng = np.random.default_rng(0)
    w = rng.standard_normal(4)
    h = 1e-6
    numeric = np.array([(p.loss(w + h * e) - p.loss(w - h * e)) / (2 * h) for e in np.eye(4)])
    np.testing.assert_allclose(p.gradient(w), numeric, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(p.per_example_gradients(w).mean(axis=0), p.gradient(w), rtol=1e-12)
    idx = np.array([3, 7, 11])
    by_hand = sum(p.X[i] * (p.X[i] @ w - p.y[i]) for i in idx) / 3
    np.testing.assert_allclose(p.gradient(w, idx), by_hand, rtol=1e-12)
    # the minimizer solves the normal equations XᵀX w = Xᵀy; the loss of a stack is the stack of losses
    np.testing.assert_allclose(p.X.T @ p.X @ p.minimizer, p.X.T @ p.y, rtol=1e-9)
    stack = rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(p.loss(stack), [[p.loss(v) for v in row] for row in stack], rtol=1e-12)


def test_run_sgd_is_mini_batch_sgd_over_fresh_permutations():
    p = E.regression_problem(n=23, d=3, rng=2)
    trace = E.run_sgd(p, 0.1, batch_size=5, epochs=2, rng=7)
    rng, w, ws = np.random.default_rng(7), np.zeros(3), [np.zeros(3)]
    for _ in range(2):
        order = rng.permutation(23)
        for start in range(0, 23, 5):
            idx = order[start:start + 5]
            w = w - 0.1 * p.X[idx].T @ (p.X[idx] @ w - p.y[idx]) / len(idx)
            ws.append(w)
    np.testing.assert_allclose(trace.weights, ws, rtol=1e-12)
    assert list(trace.epoch_ends) == [5, 10]                     # ceil(23/5) = 5 updates per epoch
    assert trace.examples[-1] == 46 and trace.epochs[-1] == 2.0
    assert not trace.diverged


def test_run_sgd_full_batch_is_gradient_descent_and_takes_a_schedule():
    p = E.regression_problem(n=40, d=3, rng=3)
    schedule = schedules.InverseTimeDecay(0.5, 0.1)
    trace = E.run_sgd(p, schedule, batch_size=40, epochs=4)
    w = np.zeros(3)
    for t in range(4):
        w = w - 0.5 / (1 + 0.1 * t) * p.X.T @ (p.X @ w - p.y) / 40
    np.testing.assert_allclose(trace.weights[-1], w, rtol=1e-12)
    np.testing.assert_allclose(trace.lrs, [0.5 / (1 + 0.1 * t) for t in range(4)])


def test_run_sgd_flags_divergence_without_warnings(problem, curvatures):
    _, L = curvatures
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trace = E.run_sgd(problem, 2.5 / L, batch_size=problem.n, epochs=200)
    assert trace.diverged and len(trace.lrs) < 200


def test_with_replacement_batches_repeat_examples():
    p = E.regression_problem(n=100, d=2, rng=4)
    idx = np.concatenate(batch_indices(100, 10, replacement=True, rng=0))
    assert len(np.unique(idx)) < 100
    assert not E.run_sgd(p, 0.05, 10, 2, rng=0, replacement=True).diverged


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda p: E.run_sgd(p, 0.1, 0, 1), "batch_size"),
        (lambda p: E.run_sgd(p, 0.1, 11, 1), "at most N=10"),
        (lambda p: E.run_sgd(p, -0.1, 2, 1), "lr"),
        (lambda p: E.run_sgd(p, 0.1, 2, 1, w0=np.zeros(3)), "w0"),
        (lambda p: p.loss(np.zeros(5)), "w: expected shape"),
        (lambda p: E.gradient_noise(p, np.zeros(2), [1.5]), "batch_sizes"),
        (lambda p: E.make_schedule("linear", 0.1, 10), "kind"),
        (lambda p: E.scaled_lr(0.1, 2, 4, "cubic"), "rule"),
        (lambda p: E.simulate_sync_sgd(p, 0.1, workers=4, steps=1, batch_size=3), "at most N=10"),
    ],
)
def test_bad_input_names_the_argument(call, message):
    p = E.regression_problem(n=10, d=2, rng=0)
    with pytest.raises(ValueError, match=message):
        call(p)


def test_non_problem_is_a_type_error():
    with pytest.raises(TypeError, match="problem: expected a LeastSquares"):
        E.run_sgd("data", 0.1, 1, 1)


# ---------------------------------------------------------------- VAR-01: batch gradient descent

def test_full_batch_is_monotone_with_rate_one_minus_mu_over_l_squared(problem, curvatures):
    mu, L = curvatures
    trace = E.run_sgd(problem, 1 / L, batch_size=problem.n, epochs=60)
    excess = trace.excess(problem)
    assert np.all(np.diff(trace.loss) < 0)
    assert excess[60] / excess[59] == pytest.approx((1 - mu / L) ** 2, rel=2e-3)
    assert np.all(excess[1:] / excess[:-1] <= (1 - mu / L) ** 2 + 1e-12)


# ---------------------------------------------------------------- VAR-02 and VAR-03: noise of the estimate

def test_finite_population_correction_by_enumerating_every_batch():
    p = E.regression_problem(n=6, d=2, rng=5)
    w = np.array([0.3, -1.0])
    G = np.array([x * (x @ w - t) for x, t in zip(p.X, p.y, strict=True)])
    full = G.mean(axis=0)
    sigma2 = _spread(p.X, p.y, w)
    for B in range(1, 7):
        without = np.mean([np.sum((G[list(s)].mean(axis=0) - full) ** 2)
                           for s in itertools.combinations(range(6), B)])
        with_repl = np.mean([np.sum((G[list(s)].mean(axis=0) - full) ** 2)
                             for s in itertools.product(range(6), repeat=B)]) if B <= 4 else sigma2 / B
        assert E.gradient_noise_variance(p, w, B) == pytest.approx(without, rel=1e-10, abs=1e-14)
        fpc = sigma2 / B * (6 - B) / 5
        assert E.gradient_noise_variance(p, w, B) == pytest.approx(fpc, rel=1e-10, abs=1e-14)
        assert E.gradient_noise_variance(p, w, B, replacement=True) == pytest.approx(with_repl, rel=1e-10)


def test_single_example_gradient_is_unbiased_and_noisy(problem):
    w0 = np.zeros(problem.dim)
    one = E.gradient_noise(problem, w0, [1], draws=20_000, rng=np.random.default_rng(0))
    sigma2 = _spread(problem.X, problem.y, w0)
    assert one.variance[0] == pytest.approx(sigma2, rel=0.05)
    assert one.bias[0] < 3 * one.bias_error[0]
    assert np.sqrt(sigma2) > 4 * one.full_gradient_norm          # noise std 2.3 vs |grad| 0.52


def test_one_epoch_of_sgd_beats_one_full_batch_step(problem, curvatures):
    """VAR-02: one epoch of B = 1 SGD ends ~10x closer than one exact step, in every one of 20 seeds."""
    _, L = curvatures
    gd = E.run_sgd(problem, 1 / L, problem.n, 1).excess(problem)[-1]
    sgd = np.array([E.run_sgd(problem, 0.02, 1, 1, rng=s).excess(problem)[-1] for s in SEEDS])
    assert np.mean(sgd < gd / 5) >= 0.9                     # measured 20/20
    assert gd / 15 < np.median(sgd) < gd / 5                # measured gd/9.5


def test_mini_batch_noise_scales_like_one_over_b(problem):
    w0 = np.zeros(problem.dim)
    B = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 400, 500])
    noise = E.gradient_noise(problem, w0, B, draws=2000, rng=np.random.default_rng(0))
    sigma2 = _spread(problem.X, problem.y, w0)
    exact = sigma2 / B * (500 - B) / 499
    np.testing.assert_allclose(noise.expected, exact, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(noise.variance[:-1], exact[:-1], rtol=0.1)
    assert noise.variance[-1] < 1e-20                           # B = N: the exact gradient
    small = B <= 64
    assert E.loglog_slope(B[small], noise.variance[small]) == pytest.approx(-1, abs=0.1)
    repl = E.gradient_noise(problem, w0, B[:-1], draws=2000, replacement=True, rng=np.random.default_rng(1))
    assert E.loglog_slope(B[:-1], repl.variance) == pytest.approx(-1, abs=0.05)
    assert (500 - 256) / 499 == pytest.approx(0.489, abs=1e-3)


def test_minibatch_noise_of_two_examples_by_hand():
    G = np.array([[1.0, 0.0], [3.0, 0.0]])                   # ∇J = (2, 0); a single row is 1 away from it
    variance, bias = E.minibatch_noise(G, 1, draws=4000, rng=0, replacement=True)
    assert variance == pytest.approx(1.0, rel=1e-12)
    assert bias < 4 * math.sqrt(1.0 / 4000)                  # unbiased, up to Monte Carlo error
    assert E.minibatch_noise(G, 2, draws=10, rng=0) == (0.0, 0.0)   # B = N without replacement: exact


def test_run_sgd_is_the_mini_batch_rule_step_by_step():
    p = E.regression_problem(n=6, d=2, rng=4)
    trace = E.run_sgd(p, 0.1, batch_size=4, epochs=2, rng=5)
    rng, w, expected = np.random.default_rng(5), np.zeros(2), [np.zeros(2)]
    for _ in range(2):
        for batch in batch_indices(6, 4, rng=rng):
            w = w - 0.1 * p.X[batch].T @ (p.X[batch] @ w - p.y[batch]) / len(batch)
            expected.append(w)
    np.testing.assert_allclose(trace.weights, expected, rtol=1e-12)
    assert trace.examples.tolist() == [0, 4, 6, 10, 12] and trace.epoch_ends.tolist() == [2, 4]


def test_loglog_slope_of_a_power_law():
    x = np.array([1.0, 2, 4, 8])
    assert E.loglog_slope(x, 3 / x) == pytest.approx(-1)
    assert E.loglog_slope(x, x**2) == pytest.approx(2)


# ---------------------------------------------------------------- VAR-04: side by side

def test_per_update_exact_wins_per_epoch_noisy_wins(problem, curvatures):
    """VAR-04's three orderings, as rates over 20 seeds (each measured 20/20)."""
    _, L = curvatures
    gd = E.run_sgd(problem, 1 / L, 500, 10).excess(problem)
    holds = []
    for seed in SEEDS:
        mb = E.run_sgd(problem, 0.2, 32, 10, rng=seed).excess(problem)
        sgd = E.run_sgd(problem, 0.02, 1, 10, rng=seed).excess(problem)
        holds.append((gd[10] < mb[10] < sgd[10],                              # after 10 updates
                      sgd[500] < mb[16] < gd[1],                              # after 1 epoch
                      mb[-16:].mean() < sgd[-500:].mean() < gd[-1]))          # the last epoch
    assert np.all(np.mean(holds, axis=0) >= 0.9)


# ---------------------------------------------------------------- VAR-05: arithmetic

@pytest.mark.parametrize(("n", "b", "kept", "dropped", "last"),
                         [(50_000, 128, 391, 390, 80), (1000, 64, 16, 15, 40), (200, 5, 40, 40, 5),
                          (10, 3, 4, 3, 1)])
def test_iterations_per_epoch(n, b, kept, dropped, last):
    assert num_batches(n, b) == kept == math.ceil(n / b)
    assert num_batches(n, b, drop_last=True) == dropped == n // b
    assert len(batch_indices(n, b, rng=0)[-1]) == last
    assert 1000 * num_batches(200, 5) == 40_000


# ---------------------------------------------------------------- VAR-06: epochs vs replacement

@pytest.mark.parametrize(("n", "tol"), [(10, 0.02), (100, 0.01), (1000, 0.005)])
def test_about_one_over_e_is_never_drawn(n, tol):
    unseen = E.unseen_fraction(n, trials=200, rng=np.random.default_rng(0))
    assert unseen.mean() == pytest.approx((1 - 1 / n) ** n, abs=tol)
    assert (1 - 1 / 1000) ** 1000 == pytest.approx(1 / math.e, abs=2e-4)


def test_reshuffling_settles_lower_and_its_floor_falls_faster():
    """VAR-06 over 30 seeds: reshuffling lower in (nearly) every seed; floors ∝ η^1.0 with replacement and
    ∝ η^2.7 reshuffled (the quadratic's η³ rather than the general bound's η²)."""
    small = E.regression_problem(n=50, d=3, noise=0.5, rng=0)
    floor, per_seed = {}, {}
    lrs = [0.05, 0.02, 0.01]
    for lr in lrs:
        for replacement in [False, True]:
            excess = E.epoch_end_excess(small, lr, 1, 40, replacement, seeds=range(30))
            per_seed[lr, replacement] = excess[:, 20:].mean(axis=1)
            floor[lr, replacement] = per_seed[lr, replacement].mean()
    for lr in lrs:
        assert np.mean(per_seed[lr, False] < per_seed[lr, True]) >= 0.9      # measured 30/30 at each rate
    slope = {r: np.polyfit(np.log(lrs), np.log([floor[lr, r] for lr in lrs]), 1)[0] for r in (False, True)}
    assert 0.8 < slope[True] < 1.2                                            # measured 1.00
    assert 2.4 < slope[False] < 3.2                                           # measured 2.75
    assert floor[0.02, False] / floor[0.01, False] > 2**2.5                  # last halving: 7.6


# ---------------------------------------------------------------- VAR-07: the noise floor

@pytest.mark.parametrize("lr", [0.05, 0.1, 0.2, 1.0])
def test_stationary_variance_of_constant_rate_sgd(lr):
    x = E.noisy_quadratic_sgd(1.0, 1.0, lr, 400, walkers=4000, rng=np.random.default_rng(0))
    formula = lr * 1.0 / (1.0 * (2 - lr * 1.0))
    assert E.stationary_variance(1.0, 1.0, lr) == pytest.approx(formula)
    assert x[200:].var(axis=1).mean() == pytest.approx(formula, rel=0.05)


def test_stationary_variance_is_infinite_past_two_over_lambda():
    assert E.stationary_variance(2.0, 1.0, 1.0) == math.inf
    assert E.stationary_variance(2.0, 0.5, 0.5) == pytest.approx(0.5 * 0.25 / (2.0 * 1.0))


def test_a_one_over_t_rate_keeps_shrinking_the_cloud():
    x = E.noisy_quadratic_sgd(1.0, 1.0, schedules.InverseTimeDecay(0.5, 0.05), 2000, walkers=4000, x0=3.0,
                              rng=np.random.default_rng(1))
    second = (x[[100, 500, 2000]] ** 2).mean(axis=1)
    assert second[0] > 3 * second[1] > 9 * second[2] / 2


def test_constant_rates_stall_on_floors_that_fall_with_the_rate(problem):
    """VAR-07: smaller constant rate, lower floor; the 1/t rate ends lowest. Ordering in 20/20 seeds."""
    settings = [0.05, 0.025, 0.0125, schedules.InverseTimeDecay(0.05, 0.005)]
    ordered = []
    for seed in SEEDS:
        last = [E.run_sgd(problem, lr, 1, 12, rng=seed).excess(problem)[-500:].mean() for lr in settings]
        ordered.append(last[0] > last[1] > last[2] > last[3])
    assert np.mean(ordered) >= 0.9


# ---------------------------------------------------------------- VAR-08: batch size

def test_bias_is_at_monte_carlo_level_and_variance_halves(problem):
    B = np.array([1, 2, 4, 8, 16, 32])
    noise = E.gradient_noise(problem, np.zeros(problem.dim), B, draws=2000, rng=np.random.default_rng(0))
    assert np.all(noise.bias < 3.5 * noise.bias_error)
    ratios = noise.variance[:-1] / noise.variance[1:]
    assert np.all((ratios > 1.7) & (ratios < 2.4))


def test_linear_scaling_until_the_cap_then_no_gain(problem, curvatures):
    _, L = curvatures
    B = [1, 2, 4, 8, 16, 32, 64, 128, 256, 500]
    runs = E.steps_to_target(problem, B, lambda b: min(0.02 * b, 1 / L), 0.02, 1000, seeds=SEEDS)
    assert np.all(np.isfinite(runs))
    per_seed_halving = runs[:5] / runs[1:6]                    # every seed, not only the median
    assert np.mean((per_seed_halving > 1.6) & (per_seed_halving < 2.4)) >= 0.9
    steps = np.median(runs, axis=1)
    halving = steps[:5] / steps[1:6]
    assert np.all((halving > 1.8) & (halving < 2.2))
    examples = steps * np.array(B)
    assert np.ptp(examples[:6]) < 0.1 * examples[0]          # same compute up to B = 32
    assert steps[-1] >= steps[7] - 1                          # no fewer steps past B = 128
    assert examples[-1] > 5 * examples[0]


def test_smallest_batch_below_a_noise_std_and_the_naive_answer():
    p = E.batch_size_problem()
    sigma2 = _spread(p.X, p.y, E.BATCH_SIZE_START)
    exact = next(b for b in range(1, 201) if math.sqrt(sigma2 / b * (200 - b) / 199) < 0.5)
    naive = next(b for b in range(1, 201) if math.sqrt(sigma2 / b) < 0.5)
    assert E.smallest_batch_for_noise(0.5) == exact == 40
    assert naive == 50


# ---------------------------------------------------------------- VAR-09: scaling the rate

def test_scaled_lr_rules():
    assert E.scaled_lr(0.01, 2, 128, "linear") == pytest.approx(0.64)
    assert E.scaled_lr(0.01, 2, 128, "sqrt") == pytest.approx(0.08)
    assert E.scaled_lr(0.01, 2, 128, "none") == 0.01


def test_linear_scaling_matches_per_epoch_and_sqrt_lags(problem):
    """VAR-09 over 20 seeds: linear-rule curves within 16 % of B = 2's at every epoch end (worst seed 0.162);
    the square-root rule falls behind with B in every seed."""
    deviation, lags = [], []
    for seed in SEEDS:
        curves = {}
        for rule in ["linear", "sqrt"]:
            for b in [2, 8, 32, 128]:
                t = E.run_sgd(problem, E.scaled_lr(0.01, 2, b, rule), b, 6, rng=seed)
                curves[rule, b] = t.excess(problem)[np.concatenate([[0], t.epoch_ends])]
        linear = np.array([curves["linear", b] for b in [2, 8, 32, 128]])
        deviation.append(np.abs(linear / linear[0] - 1).max())
        sqrt_final = [curves["sqrt", b][-1] for b in [2, 8, 32, 128]]
        lags.append(np.all(np.diff(sqrt_final) > 0) and sqrt_final[-1] > 10 * sqrt_final[0])
    assert max(deviation) < 0.2 and np.median(deviation) < 0.15
    assert np.mean(lags) >= 0.9


def test_update_noise_constant_under_sqrt_and_growing_under_linear(problem):
    sigma2 = _spread(problem.X, problem.y, np.zeros(problem.dim))
    one = E.gradient_noise_variance(problem, np.zeros(problem.dim), 1, replacement=True)
    assert one == pytest.approx(sigma2)
    sqrt_noise = [E.scaled_lr(0.01, 2, b, "sqrt") ** 2 * sigma2 / b for b in [2, 8, 32, 128]]
    linear_noise = [E.scaled_lr(0.01, 2, b, "linear") ** 2 * sigma2 / b for b in [2, 8, 32, 128]]
    np.testing.assert_allclose(sqrt_noise, sqrt_noise[0])
    np.testing.assert_allclose(np.array(linear_noise) / linear_noise[0], [1, 4, 16, 64])
    assert [E.scaled_lr(0.01, 2, b, "linear") / b for b in [2, 8, 32, 128]] == pytest.approx([0.005] * 4)


def test_linear_rule_breaks_at_the_stability_limit(problem, curvatures):
    _, L = curvatures
    lr = E.scaled_lr(0.01, 2, 500, "linear")
    assert lr > 2 / L
    trace = E.run_sgd(problem, lr, 500, 60)
    excess = trace.excess(problem)
    assert trace.diverged and excess[10] > 10 * excess[0] and excess[20] > 1e3 * excess[10]


# ---------------------------------------------------------------- VAR-10: schedules

def test_make_schedule_formulas():
    t = np.arange(0, 1000, 37)
    np.testing.assert_allclose(E.make_schedule("step", 0.3, 1000, step_size=250, gamma=0.5).values(t),
                               0.3 * 0.5 ** (t // 250))
    np.testing.assert_allclose(E.make_schedule("exponential", 0.3, 1000, step_size=250, gamma=0.5).values(t),
                               0.3 * 0.5 ** (t / 250))
    np.testing.assert_allclose(E.make_schedule("inverse_time", 0.3, 1000, decay_rate=0.01).values(t),
                               0.3 / (1 + 0.01 * t))
    np.testing.assert_allclose(E.make_schedule("cosine", 0.3, 1000).values(t),
                               0.15 * (1 + np.cos(np.pi * t / 1000)))
    warm = E.make_schedule("constant", 0.3, 1000, warmup_steps=100).values(t)
    np.testing.assert_allclose(warm, 0.3 * np.minimum(t / 100, 1))
    curves = E.schedule_curves(0.3, 50, warmup_steps=10)
    assert set(curves) == set(E.SCHEDULE_KINDS)
    assert all(c.shape == (50,) and c[0] == 0 for c in curves.values())


def test_two_forms_of_the_one_over_t_schedule_agree():
    t = np.arange(0, 2000, 250)
    a = schedules.InverseTimeDecay(0.1, 0.02).values(t)
    b = schedules.InverseTimeDecay.from_t0_t1(5, 50).values(t)
    np.testing.assert_allclose(a, 5 / (t + 50), rtol=1e-12)
    np.testing.assert_allclose(b, 5 / (t + 50), rtol=1e-12)


def test_every_decay_beats_the_constant_floor(problem):
    T = 10 * problem.n // 4
    kinds = {"constant": ("constant", {}), "step": ("step", dict(step_size=T // 4, gamma=0.3)),
             "exponential": ("exponential", dict(step_size=T // 4, gamma=0.3)),
             "1/t": ("inverse_time", dict(decay_rate=10 / T)), "cosine": ("cosine", {}),
             "cosine + warmup": ("cosine", dict(warmup_steps=T // 20))}
    ratios = []
    for seed in SEEDS:
        tail = {}
        for name, (kind, settings) in kinds.items():
            trace = E.run_sgd(problem, E.make_schedule(kind, 0.3, T, **settings), 4, 10, rng=seed)
            tail[name] = trace.excess(problem)[1:][-T // 10:].mean()
        ratios.append({k: tail["constant"] / v for k, v in tail.items() if k != "constant"})
    lowest = min(min(r.values()) for r in ratios)
    highest = max(max(r.values()) for r in ratios)
    assert 10 < lowest < 40                   # "never less than 20x": measured 20.7 (1/t)
    assert 1000 < highest < 6000              # "up to 2,600x": measured 2611 (exponential)


def test_noise_free_full_batch_needs_no_decay(problem, curvatures):
    _, L = curvatures
    excess = E.run_sgd(problem, 1 / L, problem.n, 200).excess(problem)
    assert excess[150] < 1e-10 and excess[100] < excess[50] < 1e-3


# ---------------------------------------------------------------- VAR-11: learning-rate curves and warmup

@pytest.fixture(scope="module")
def digits():
    return E.digits_subset()


def test_too_low_good_too_high(digits):
    curves = E.lr_loss_curves((0.003, 0.3, 1.5), data=digits)
    spe = curves.steps_per_epoch
    assert spe == math.ceil(600 / 32) and curves.losses.shape == (3, 8 * spe)
    last_epoch = np.nanmean(curves.losses[:, -spe:], axis=1)
    low, good, high = last_epoch
    assert low > 1.5 and high > 1.0 and good < 0.1                      # slow / erratic / converged
    assert np.nanmax(curves.losses[2, spe:]) > 2 * np.nanmax(curves.losses[1, spe:])   # spikes after epoch 1
    first_epoch = np.nanmean(curves.losses[0, :spe])
    assert first_epoch > last_epoch[0] > 0                              # too low: still falling


def test_a_huge_rate_explodes_and_a_non_finite_loss_is_flagged(digits):
    curves = E.lr_loss_curves((1e3, 1e200), epochs=2, data=digits)
    assert not curves.diverged[0] and np.nanmax(curves.losses[0]) > 1e6 * curves.losses[0, 0]
    assert curves.diverged[1] and np.all(np.isnan(curves.losses[1, 1:]))


def test_warmup_removes_adams_early_spike(digits):
    """VAR-11 over the notebook's 30 seeds: early peak > 1.2x in 77 % ± 8 %, > 1.5x in 40 % ± 9 % without
    warmup, 0 % with; final losses 0.50 ± 0.16 and 0.53 ± 0.28, no measurable difference."""
    no_warmup = E.warmup_runs(0.03, 0, seeds=range(30), depth=8, epochs=6, data=digits)
    warmup = E.warmup_runs(0.03, 25, seeds=range(30), depth=8, epochs=6, data=digits)
    np.testing.assert_allclose(no_warmup[:, 0], warmup[:, 0])          # same init and first batch
    peak_no = no_warmup[:, :25].max(axis=1) / no_warmup[:, 0]
    peak_warm = warmup[:, :25].max(axis=1) / warmup[:, 0]
    assert 0.55 <= np.mean(peak_no > 1.2) <= 0.95          # measured 0.77
    assert 0.2 <= np.mean(peak_no > 1.5) <= 0.65           # measured 0.40
    assert 2.5 < peak_no.max() < 5                         # measured 3.5
    assert np.mean(peak_warm > 1.2) <= 0.1                 # measured 0
    final_no, final_warm = no_warmup[:, -10:].mean(axis=1), warmup[:, -10:].mean(axis=1)
    assert final_no.mean() < 1.0 and final_warm.mean() < 1.0          # both recover on this small net
    standard_error = math.hypot(final_no.std(), final_warm.std()) / math.sqrt(30)
    assert abs(final_warm.mean() - final_no.mean()) < 3 * standard_error   # no measurable difference


# ---------------------------------------------------------------- VAR-12: synchronous vs asynchronous

def _delayed_gd_radius(a, tau):
    """Spectral radius of x_{t+1} = x_t − a x_{t−τ} (companion matrix of z^{τ+1} − z^τ + a)."""
    coefficients = np.zeros(tau + 2)
    coefficients[0] += 1.0
    coefficients[1] -= 1.0
    coefficients[-1] += a
    return np.max(np.abs(np.roots(coefficients)))


def test_stability_limit_closed_form():
    assert E.stable_lr_limit(2.0, 0) == pytest.approx(1.0)                 # 2/λ
    assert E.stable_lr_limit(1.0, 1) == pytest.approx(1.0)                 # z² − z + a: stable iff a < 1
    assert E.stable_lr_limit(1.0, 50) == pytest.approx(math.pi / 101, rel=1e-3)
    for tau in range(11):
        limit = E.stable_lr_limit(1.0, tau)
        assert _delayed_gd_radius(0.98 * limit, tau) < 1 < _delayed_gd_radius(1.02 * limit, tau)


def test_async_with_no_staleness_is_gd_and_stale_steps_use_old_weights():
    p = E.regression_problem(n=20, d=2, rng=6)
    w, history = np.zeros(2), [np.zeros(2)]
    for t in range(6):
        read = history[max(t - 2, 0)]
        w = w - 0.1 * p.X.T @ (p.X @ read - p.y) / 20
        history.append(w)
    np.testing.assert_allclose(E.simulate_async_sgd(p, 0.1, 2, 6).weights, history, rtol=1e-12)
    np.testing.assert_allclose(E.simulate_async_sgd(p, 0.1, 0, 6).weights[-1],
                               E.run_sgd(p, 0.1, 20, 6).weights[-1], rtol=1e-12)


def test_async_explorer_problem_diverges_exactly_past_the_limit():
    p = E.async_problem()
    L = np.linalg.eigvalsh(p.X.T @ p.X / p.n)[-1]
    by_formula = next(tau for tau in range(100) if 0.3 * L >= 2 * math.sin(math.pi / (4 * tau + 2)))
    assert E.smallest_unstable_staleness(0.3, L) == by_formula == 6
    for tau in [5, 6]:
        trace = E.simulate_async_sgd(p, 0.3, tau, 400)
        growing = trace.excess(p)[-1] > trace.excess(p)[0]
        assert growing == (tau >= 6)


def test_simulated_stability_map_agrees_with_the_formula_away_from_the_boundary():
    p = E.async_problem()
    L = p.curvatures[-1]
    for tau in range(0, 13, 3):
        for lr in np.geomspace(0.06, 2.5, 14):
            ratio = lr / E.stable_lr_limit(L, tau)
            if abs(ratio - 1) < 0.05:
                continue
            diverged = E.simulate_async_sgd(p, lr, tau, 300).excess(p)[-1] > 1.0
            assert diverged == (ratio > 1), (tau, lr)


def test_noise_floor_rises_with_staleness():
    p = E.async_problem()
    def floor_of(tau):
        runs = [E.simulate_async_sgd(p, 0.3, tau, 300, batch_size=10, rng=s) for s in SEEDS]
        return np.array([r.excess(p)[-100:].mean() for r in runs])

    floor = {tau: floor_of(tau) for tau in [0, 4, 5, 6]}
    means = {tau: f.mean() for tau, f in floor.items()}
    assert means[0] < means[4] < means[5] < 1 < means[6]
    assert np.mean(floor[6] > 1) >= 0.9 and np.mean(floor[4] < 0.1) >= 0.9      # measured 20/20 each


def test_sync_sgd_is_one_step_on_the_union_of_the_workers_batches():
    p = E.regression_problem(n=40, d=3, rng=7)
    trace = E.simulate_sync_sgd(p, 0.2, workers=4, steps=3, batch_size=5, rng=11)
    rng, w = np.random.default_rng(11), np.zeros(3)
    for _ in range(3):
        union = rng.choice(40, 20, replace=False)
        w = w - 0.2 * p.X[union].T @ (p.X[union] @ w - p.y[union]) / 20
    np.testing.assert_allclose(trace.weights[-1], w, rtol=1e-12)
    assert trace.examples[-1] == 60


@pytest.mark.parametrize("workers", [1, 2, 8, 32])
def test_stragglers_cost_the_harmonic_number(workers):
    harmonic = sum(1 / k for k in range(1, workers + 1))
    assert E.straggler_slowdown(workers, rounds=20_000, rng=0) == pytest.approx(harmonic, rel=0.03)


# ---------------------------------------------------------------- VAR-10b: per-step vs per-epoch counting

def _notebook_problem():
    return E.regression_problem(n=500, d=10, noise=0.5, scales=np.geomspace(1, 0.3, 10), rng=0)


def test_schedule_modes_use_the_rates_their_counter_gives():
    per_epoch, epochs = 50, 20
    rates = {m: np.array([E.schedule_mode(m, 0.1, epochs, per_epoch)(t) for t in range(epochs * per_epoch)])
             for m in E.SCHEDULE_MODES}
    cosine = 0.05 * (1 + np.cos(np.pi * np.arange(1000) / 1000))
    np.testing.assert_allclose(rates["per step"], cosine, atol=1e-12)
    staircase = 0.05 * (1 + np.cos(np.pi * (np.arange(1000) // 50) / 20))
    np.testing.assert_allclose(rates["per epoch (staircase)"], staircase, atol=1e-12)
    bug = rates["per-step schedule stepped per epoch (bug)"]
    assert bug[-1] == pytest.approx(0.05 * (1 + np.cos(np.pi * 19 / 1000)))     # still 99.9 % of the peak
    assert np.all(rates["constant"] == 0.1)
    with pytest.raises(ValueError, match="mode"):
        E.schedule_mode("per week", 0.1, 2, 2)


def test_stepping_a_per_step_schedule_per_epoch_never_decays():
    # Notebook VAR-10b, 20 seeds: medians 2.5e-5 (per step), 2.0e-5 (staircase), 8.2e-4 (bug) = constant.
    problem = _notebook_problem()
    finals = {m: np.array([E.final_excess_loss(problem, E.schedule_mode(m, 0.1, 20, 50), 10, 20, rng=s)
                           for s in range(20)]) for m in E.SCHEDULE_MODES}
    med = {m: np.median(v) for m, v in finals.items()}
    per_step, staircase = med["per step"], med["per epoch (staircase)"]
    bug, constant = med["per-step schedule stepped per epoch (bug)"], med["constant"]
    assert 2.0e-5 < per_step < 3.2e-5 and 1.4e-5 < staircase < 2.8e-5
    assert 15 < bug / per_step < 60
    assert bug == pytest.approx(constant, rel=0.05)
    assert np.all(finals["per-step schedule stepped per epoch (bug)"] > finals["per step"])


def test_tuned_schedule_shapes_on_the_same_budget():
    # Notebook VAR-10c: same budget (7 epochs, batch 10), peaks tuned on seeds 0-4, measured on seeds 5-24.
    problem = _notebook_problem()
    result = E.tuned_schedule_losses(problem, (0.1, 0.3, 0.6, 1.0), 10, 7, range(5), range(5, 25))
    peaks = {shape: peak for shape, (peak, _) in result.items()}
    assert peaks == {"constant": 0.1, "cosine": 0.3, "warm restarts": 0.3, "one-cycle": 0.3}
    med = {shape: np.median(losses) for shape, (_, losses) in result.items()}
    assert med["cosine"] < med["one-cycle"] < med["warm restarts"] < med["constant"]
    np.testing.assert_allclose([med["constant"], med["cosine"], med["one-cycle"], med["warm restarts"]],
                               [1.4e-3, 7.9e-5, 1.4e-4, 2.2e-4], rtol=0.2)
    cosine = result["cosine"][1]
    beats_both = (cosine < result["one-cycle"][1]) & (cosine < result["warm restarts"][1])
    assert np.sum(beats_both) >= 19                          # "beats both others in 19 of 20 seeds" (VAR-10c)


def test_schedule_shapes_match_their_definitions():
    lr = E.schedule_shape("warm restarts", 0.3, 350, 50)
    assert lr(0) == pytest.approx(0.3) and lr(50) == pytest.approx(0.3) and lr(150) == pytest.approx(0.3)
    assert lr(25) == pytest.approx(0.15)                         # half-way through the first one-epoch cycle
    one = E.schedule_shape("one-cycle", 0.3, 350, 50)
    rates = one.values(350)
    assert rates[0] == pytest.approx(0.3 / 25) and rates.max() == pytest.approx(0.3, rel=1e-3)
    assert 95 <= int(np.argmax(rates)) <= 110 and rates[-1] < 0.3 / 25 / 100     # 30 % warm-up, deep anneal
    with pytest.raises(ValueError, match="shape"):
        E.schedule_shape("triangle", 0.3, 10, 5)
