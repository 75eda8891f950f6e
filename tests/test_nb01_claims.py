"""Notebook 01 (gradient descent basics): every quantitative claim it makes, and the unit tests of
gdcourse.experiments.gd that produce them.

Expected values come from closed forms or from short independent loops written here, never from the
function under test. Tolerances are stated where they are not exact.
"""

import math

import numpy as np
import pytest

from gdcourse import landscapes as LS
from gdcourse import losses, nn, optim
from gdcourse.data import make_linear_regression
from gdcourse.experiments import gd as E
from gdcourse.functional import sigmoid


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def plain_gd(grad, x0, lr, steps):
    """An independent gradient-descent loop: the list of iterates."""
    xs = [np.array(x0, dtype=float)]
    for _ in range(steps):
        xs.append(xs[-1] - lr * grad(xs[-1]))
    return np.array(xs)


def quadratic_matrix(kappa, angle):
    c, s = math.cos(angle), math.sin(angle)
    R = np.array([[c, -s], [s, c]])
    return R @ np.diag([1.0, kappa]) @ R.T


# ---------------------------------------------------------------- functions of one variable

@pytest.mark.parametrize("name", sorted(E.FUNCTIONS_1D))
def test_derivatives_match_central_differences(name):
    f = E.get_function_1d(name)
    xs = np.linspace(*f.bounds, 13)
    np.testing.assert_allclose(f.derivative(xs), central(f.value, xs), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(f.second_derivative(xs), central(f.derivative, xs), rtol=1e-5, atol=1e-5)


def test_function_minima_are_minima_lowest_first():
    for name in ("parabola", "double well", "cliff"):
        f = E.get_function_1d(name)
        for m in f.minima:
            assert abs(f.derivative(m)) < 1e-12 and f.second_derivative(m) > 0
        assert f.lowest == pytest.approx(f.value(f.minima[0]))
        assert all(f.value(m) >= f.lowest for m in f.minima)
    well = E.double_well()
    assert len(well.minima) == 2 and well.minima[0] < 0 < well.minima[1]   # tilt 0.3 > 0: left is lower
    assert E.parabola().lowest == 5.0 and E.parabola().minima == (0.0,)
    assert E.sigmoid_plateau().minima == () and E.sigmoid_plateau().lowest == 0.0


def test_plateau_gradient_is_tiny_and_cliff_face_is_steep():
    plateau = E.sigmoid_plateau()
    assert plateau.derivative(-10.0) == pytest.approx(-2 * math.exp(-10), rel=1e-3)
    assert abs(plateau.derivative(-6.0)) < 0.006
    cliff = E.cliff()
    assert cliff.derivative(2.0) == pytest.approx(0.1 * (2 - 4) - 10 * 20 / 4)     # σ'(0) = 1/4


def test_function_arguments_are_validated():
    with pytest.raises(ValueError, match="tilt"):
        E.double_well(tilt=2.0)
    with pytest.raises(ValueError, match="function"):
        E.get_function_1d("sinc")
    with pytest.raises(ValueError, match="height"):
        E.cliff(height=-1)


# ---------------------------------------------------------------- gd_path

def test_gd_on_parabola_from_three_is_geometric():
    """GD-05: x_t = 3 · 0.8^t on x² + 5 with lr 0.1; x_20 ≈ 0.0346, x_50 ≈ 4.28e-5."""
    xs = E.gd_path(E.parabola().derivative, 3.0, 0.1, 50)
    np.testing.assert_allclose(xs, 3 * 0.8 ** np.arange(51), rtol=1e-12)
    assert xs[20] == pytest.approx(0.0346, abs=5e-5) and xs[50] == pytest.approx(4.28e-5, rel=1e-3)
    assert (xs[1], xs[2]) == (pytest.approx(2.4), pytest.approx(1.92))


def test_seed_example_starting_at_the_minimum_never_moves():
    """GD-05 common wrong answer: from x = 0 (the minimum of x² + 5) nothing happens."""
    xs = E.gd_path(E.parabola().derivative, 0.0, 0.1, 100)
    assert np.all(xs == 0.0)


def test_gd_path_bounces_at_lr_one_and_stops_when_diverging():
    xs = E.gd_path(E.parabola().derivative, 3.0, 1.0, 6)
    np.testing.assert_array_equal(xs, [3, -3, 3, -3, 3, -3, 3])
    diverging = E.gd_path(E.parabola().derivative, 3.0, 2.0, 50)   # factor 1 − 4 = −3
    assert len(diverging) == 13                                    # x_12 = 3·3^12 > 1e6 ≥ 3·3^11 = x_11
    assert abs(diverging[-1]) > 1e6 >= abs(diverging[-2])
    np.testing.assert_allclose(diverging, 3.0 * (-3.0) ** np.arange(13))


def test_gd_path_matches_an_independent_loop_in_many_dimensions():
    A = quadratic_matrix(7.0, 0.3)
    path = E.gd_path(lambda w: A @ w, np.array([1.0, -2.0]), 0.1, 25)
    np.testing.assert_allclose(path, plain_gd(lambda w: A @ w, [1.0, -2.0], 0.1, 25), rtol=1e-13)
    assert E.gd_path(lambda w: A @ w, np.array([1.0, -2.0]), 0.1, 0).shape == (1, 2)


def test_gd_path_clip_norm_bounds_every_step():
    cliff = E.cliff()
    clipped = E.gd_path(cliff.derivative, cliff.start, 0.5, 40, clip_norm=1.0)
    assert np.max(np.abs(np.diff(clipped))) <= 0.5 + 1e-12
    plain = E.gd_path(cliff.derivative, cliff.start, 0.5, 40)
    assert np.max(np.diff(plain)) > 15                                # GD-08: thrown far past w = 4
    assert abs(clipped[-1] - 4) < abs(plain[-1] - 4)


def test_clip_to_norm_shortens_only_long_vectors():
    np.testing.assert_allclose(E.clip_to_norm(np.array([3.0, 4.0]), 1.0), [0.6, 0.8], rtol=1e-15)
    np.testing.assert_array_equal(E.clip_to_norm(np.array([0.3, 0.4]), 1.0), [0.3, 0.4])
    np.testing.assert_array_equal(E.clip_to_norm(np.zeros(2), 1.0), [0.0, 0.0])


def test_gd_path_validates_its_arguments():
    with pytest.raises(TypeError, match="grad_fn"):
        E.gd_path(3.0, 0.0, 0.1, 5)
    with pytest.raises(ValueError, match="grad_fn: expected a gradient of shape"):
        E.gd_path(lambda w: np.zeros(3), np.zeros(2), 0.1, 5)
    with pytest.raises(ValueError, match="lr"):
        E.gd_path(lambda w: w, 1.0, -0.1, 5)
    with pytest.raises(ValueError, match="steps"):
        E.gd_path(lambda w: w, 1.0, 0.1, -1)
    with pytest.raises(ValueError, match="x0"):
        E.gd_path(lambda w: w, [np.nan], 0.1, 1)


def test_sequential_update_differs_from_simultaneous_only_with_coupling():
    """GD-02: one coordinate at a time is coordinate descent; equal to GD when A is diagonal."""
    w = np.array([-4.0, 2.0])
    for angle, same in ((0.0, True), (math.pi / 6, False)):
        A = quadratic_matrix(10.0, angle)
        simultaneous = w - 0.05 * A @ w
        first = w[0] - 0.05 * (A @ w)[0]                           # by hand: coordinate 1, then 2
        second = w[1] - 0.05 * (A @ np.array([first, w[1]]))[1]
        got = E.sequential_coordinate_step(lambda v, A=A: A @ v, w, 0.05)
        np.testing.assert_allclose(got, [first, second], rtol=1e-13)
        assert np.allclose(got, simultaneous) == same
    assert np.array_equal(w, [-4.0, 2.0])                          # input untouched


def test_sgd_without_momentum_is_the_vanilla_update():
    """GD-02: one optim.SGD step equals θ − η∇J computed by hand, exactly."""
    X, y, _, _ = make_linear_regression(n=32, d=3, noise=0.1, rng=0)
    layer = nn.Linear(3, 1, rng=0)
    loss = losses.MSELoss()
    before = [p.value.copy() for p in layer.parameters()]
    layer.zero_grad()
    loss.forward(layer(X), y[:, None])
    layer.backward(loss.backward())
    grads = [p.grad.copy() for p in layer.parameters()]
    optim.SGD(layer.parameters(), lr=0.1).step()
    for p, old, g in zip(layer.parameters(), before, grads, strict=True):
        np.testing.assert_array_equal(p.value, old - 0.1 * g)


# ---------------------------------------------------------------- step-size theory

@pytest.mark.parametrize("kappa", [1.0, 10.0, 25.0, 100.0])
def test_threshold_factors_and_optimal_rate_closed_forms(kappa):
    q = LS.Quadratic(condition_number=kappa, angle=0.4)
    np.testing.assert_array_equal(E.curvatures(q), [1.0, kappa])
    assert E.divergence_threshold(q) == pytest.approx(2 / kappa)
    assert E.optimal_lr(q) == pytest.approx(2 / (1 + kappa))
    assert E.optimal_rate(q) == pytest.approx((kappa - 1) / (kappa + 1))
    lrs = np.array([0.0, 0.5 / kappa, 1.5 / kappa])
    np.testing.assert_allclose(E.contraction_factors(q, lrs), np.abs(1 - lrs[:, None] * [1.0, kappa]))


def test_curvatures_of_other_landscapes_by_hand():
    # Himmelblau's Hessian at (3, 2): [[12·9 + 8 − 42, 4·5], [20, 12·4 + 12 − 26]] = [[74, 20], [20, 34]]
    lam = E.curvatures(LS.Himmelblau())
    np.testing.assert_allclose(lam, [54 - math.sqrt(800), 54 + math.sqrt(800)])
    assert E.divergence_threshold(LS.Himmelblau()) == pytest.approx(2 / (54 + math.sqrt(800)))
    well = E.double_well()
    assert E.curvatures(well, at=well.minima[1])[0] == pytest.approx(12 * well.minima[1] ** 2 - 4)
    with pytest.raises(ValueError, match="no minimum"):
        E.curvatures(LS.Saddle())
    np.testing.assert_array_equal(E.curvatures(LS.Saddle(), at=(0.0, 0.0)), [-2.0, 2.0])
    with pytest.raises(ValueError, match="not all positive"):
        E.optimal_lr(LS.Saddle(), at=(0.0, 0.0))
    with pytest.raises(TypeError, match="landscape"):
        E.curvatures("quadratic")


def test_classify_lr_around_the_thresholds():
    q = LS.Quadratic(condition_number=10)          # 1/L = 0.1, 2/L = 0.2
    assert E.classify_lr(q, 0.0) == "does not move"
    assert E.classify_lr(q, 0.05) == "converges"
    assert E.classify_lr(q, 0.1) == "converges"
    assert E.classify_lr(q, 0.15) == "converges, oscillating"
    assert E.classify_lr(q, 0.2) == "bounces forever"
    assert E.classify_lr(q, 0.2001) == "diverges"


@pytest.mark.parametrize("kappa,angle", [(10.0, 0.0), (25.0, 0.7), (100.0, 1.2)])
def test_gd_converges_just_below_two_over_L_and_diverges_just_above(kappa, angle):
    """GD-03: the threshold is exact. Independent loop: x ← x − η A x."""
    q = LS.Quadratic(condition_number=kappa, angle=angle)
    A = quadratic_matrix(kappa, angle)
    start_value = q.value(q.start)
    for factor, converges in ((0.98, True), (1.02, False)):
        lr = factor * 2 / kappa
        x = plain_gd(lambda w: A @ w, q.start, lr, 300)[-1]
        independent = 0.5 * x @ A @ x
        got = E.final_gaps(q, np.array([lr]), 300)[0]
        if converges:
            assert independent < 1e-3 * start_value and got == pytest.approx(independent, rel=1e-9)
        else:
            assert independent > 1e3 * start_value and (got == math.inf or got == pytest.approx(independent))


def test_final_gaps_marks_divergence_and_matches_the_best_rate():
    q = LS.Quadratic(condition_number=10)
    lrs = np.linspace(0.01, 0.3, 200)
    gaps = E.final_gaps(q, lrs, 300)
    assert np.all(np.isinf(gaps[lrs > 0.205])) and np.all(np.isfinite(gaps[lrs < 0.2]))
    best = np.argmin(gaps)
    assert abs(lrs[best] - 2 / 11) < 0.3 / 200                      # the minimum sits at 2/(L + μ)
    just = E.final_gaps(q, np.array([0.98, 1.02]) * 0.2, 300)
    assert just[0] < 1e-8 < 1e10 < just[1]                           # printed: 4.6e-10 and 3.3e11
    assert E.contraction_factors(q, 0.98 * 0.2)[1] == pytest.approx(0.96)   # the steep factor just below


def test_per_eigendirection_factors_are_measured_exactly():
    """GD-03 experiment 3: at angle 0 the coordinates are the eigendirections."""
    for lr in (0.05, 0.1, 2 / 11, 0.19):
        points = E.explore_lr_quadratic(10, lr, steps=5).path.points
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.abs(points[1:] / points[:-1])
        np.testing.assert_allclose(ratios[:, 0], abs(1 - lr), rtol=1e-12)
        if lr != 0.1:                                                # lr = 1/L zeroes w₂ in one step
            np.testing.assert_allclose(ratios[:, 1], abs(1 - 10 * lr), rtol=1e-9)
        else:
            assert np.all(np.abs(points[1:, 1]) < 1e-15)


def test_best_fixed_rate_shrinks_the_distance_by_exactly_kappa_ratio():
    for kappa, angle in ((10.0, 0.0), (25.0, 0.9)):
        A = quadratic_matrix(kappa, angle)
        xs = plain_gd(lambda w, A=A: A @ w, [-4.0, 2.0], 2 / (1 + kappa), 10)
        ratios = np.linalg.norm(xs[1:], axis=1) / np.linalg.norm(xs[:-1], axis=1)
        np.testing.assert_allclose(ratios, (kappa - 1) / (kappa + 1), rtol=1e-12)
        q = LS.Quadratic(kappa, angle)
        assert E.optimal_rate(q) == pytest.approx((kappa - 1) / (kappa + 1))


def test_three_learning_rates_side_by_side():
    """GD-03 experiment 1 (κ = 10, 60 steps): too small stalls, best converges, 0.21 blows up."""
    small, best, large = (E.explore_lr_quadratic(10, lr, steps=60) for lr in (0.01, 2 / 11, 0.21))
    assert small.path.values[-1] > 1 and small.verdict == "converges"
    assert best.path.values[-1] < 1e-8 and best.rate == pytest.approx(9 / 11)
    assert large.path.values[-1] > 1e5 and large.verdict == "diverges" and large.rate == pytest.approx(1.1)
    assert np.all(np.diff(large.path.values[1:]) > 0)


def test_sufficient_decrease_holds_at_every_step():
    """GD-04: f(x − η∇f) ≤ f(x) − η(1 − ηL/2)|∇f|² for η < 2/L on an L-smooth quadratic."""
    A = quadratic_matrix(10.0, 0.4)
    for lr in (0.05, 0.15, 0.19):
        xs = plain_gd(lambda w: A @ w, [-4.0, 2.0], lr, 50)
        f = 0.5 * np.einsum("ti,ij,tj->t", xs, A, xs)
        g2 = np.sum((xs @ A) ** 2, axis=1)
        assert np.all(f[:-1] - f[1:] >= lr * (1 - lr * 10 / 2) * g2[:-1] * (1 - 1e-9))
        got = E.gd_path(LS.Quadratic(10.0, 0.4).gradient, np.array([-4.0, 2.0]), lr, 50)
        np.testing.assert_allclose(got, xs, rtol=1e-10, atol=1e-14)


def test_two_starts_reach_different_minima_and_steps_shrink():
    """GD-04: the sign of f' decides the direction; the step length shrinks geometrically."""
    well = E.double_well()
    left = E.gd_path(well.derivative, -0.3, 0.05, 40)
    right = E.gd_path(well.derivative, 0.4, 0.05, 40)
    assert left[1] < left[0] and right[1] > right[0]
    assert left[-1] == pytest.approx(well.minima[0], abs=1e-6)
    assert right[-1] == pytest.approx(well.minima[1], abs=1e-5)
    assert np.all(np.diff(np.abs(np.diff(left))[10:]) < 0)


def test_first_iterates_on_the_double_well():
    """GD-01: from 1.8 with lr 0.05 the first step is −0.05·f'(1.8) = −0.8214; 15 steps reach 0.96."""
    well = E.double_well()
    xs = E.gd_path(well.derivative, 1.8, 0.05, 15)
    assert xs[1] - xs[0] == pytest.approx(-0.05 * (4 * 1.8 * (1.8**2 - 1) + 0.3))
    assert xs[-1] == pytest.approx(well.minima[1], abs=1e-4)


# ---------------------------------------------------------------- the explorers' computations

def test_explore_lr_1d_verdicts():
    run = E.explore_lr_1d("double well", 0.05, 1.8)
    assert run.verdict == "converges to the local minimum" and run.minimum == pytest.approx(0.96015, abs=1e-5)
    assert run.above_lowest == pytest.approx(E.double_well().value(run.minimum) - E.double_well().lowest)
    assert run.threshold == pytest.approx(2 / (12 * run.minimum**2 - 4))
    assert run.gaps[-1] < 1e-12 and run.factor == pytest.approx(abs(1 - 0.05 * run.curvature))
    assert E.explore_lr_1d("parabola", 1.0, 3.0).verdict == "bounces forever"
    assert E.explore_lr_1d("parabola", 1.2, 3.0).verdict == "diverges"
    assert E.explore_lr_1d("parabola", 0.1, 3.0).verdict == "converges"
    assert E.explore_lr_1d("double well", 0.05, -1.8).verdict == "converges"
    with pytest.raises(ValueError, match="no minimum"):
        E.explore_lr_1d("plateau", 0.1)


def test_far_start_diverges_below_the_local_threshold():
    """GD-03 explorer text: 2/f''(x*) is local; from x0 = 2.5 with lr 0.2 the quartic blows up."""
    well = E.double_well()
    assert all(0.2 < 2 / well.second_derivative(m) for m in well.minima)
    run = E.explore_lr_1d(well, 0.2, 2.5)
    assert run.diverged and run.verdict == "diverges"


def test_explore_lr_quadratic_fields():
    run = E.explore_lr_quadratic(25, 0.079, steps=60)
    assert run.threshold == pytest.approx(0.08) and run.best_lr == pytest.approx(2 / 26)
    np.testing.assert_allclose(run.factors, [abs(1 - 0.079), abs(1 - 25 * 0.079)])
    assert run.rate == pytest.approx(0.975) and run.verdict == "converges, oscillating"
    assert not run.path.diverged and run.path.values[-1] < run.path.values[0]


# ---------------------------------------------------------------- what the gradient says

def test_steepest_slope_is_along_the_gradient_and_equals_its_norm():
    """GD-05: at (1, 1) on Himmelblau the best of 360 directions is the gradient's, within 1°."""
    h = LS.Himmelblau()
    p = np.array([1.0, 1.0])
    angles = np.linspace(-np.pi, np.pi, 361)
    slopes = E.slopes_along_directions(h, p, angles)
    # ∇f by hand: u = x² + y − 11 = −9, v = x + y² − 7 = −5 → (4xu + 2v, 2u + 4yv) = (−46, −38)
    g = np.array([-46.0, -38.0])
    np.testing.assert_allclose(slopes, g @ np.stack([np.cos(angles), np.sin(angles)]), rtol=1e-6, atol=1e-6)
    assert abs(angles[np.argmax(slopes)] - math.atan2(-38, -46)) <= math.radians(1)
    assert slopes.max() == pytest.approx(math.hypot(46, 38), rel=1e-4)
    with pytest.raises(ValueError, match="point"):
        E.slopes_along_directions(h, [1.0, 2.0, 3.0], angles)


def test_gradient_size_is_not_the_distance_to_the_minimum():
    narrow = LS.Quadratic(condition_number=100)
    assert np.linalg.norm(narrow.gradient(np.array([0.0, 0.1]))) == pytest.approx(10.0)
    assert np.linalg.norm(narrow.gradient(np.array([5.0, 0.0]))) == pytest.approx(5.0)


# ---------------------------------------------------------------- linear regression

def test_mse_and_its_gradient_by_hand_and_by_differences():
    rng = np.random.default_rng(5)
    X, y, w = rng.standard_normal((7, 3)), rng.standard_normal(7), rng.standard_normal(3)
    r = X @ w - y
    assert E.mse(w, X, y) == pytest.approx(np.sum(r**2) / 7)
    np.testing.assert_allclose(E.mse_gradient(w, X, y), 2 / 7 * X.T @ r)
    numeric = np.array([central(lambda t, j=j: E.mse(w + t * np.eye(3)[j], X, y), 0.0) for j in range(3)])
    np.testing.assert_allclose(E.mse_gradient(w, X, y), numeric, rtol=1e-7)
    with pytest.raises(ValueError, match="w: expected shape"):
        E.mse(np.zeros(2), X, y)
    with pytest.raises(ValueError, match="X and y"):
        E.mse_gradient(w, X, y[:5])


def test_mse_loss_backward_is_two_residuals_over_n():
    """GD-06: the package's MSELoss gradient w.r.t. the predictions is 2(ŷ − y)/n."""
    rng = np.random.default_rng(1)
    pred, target = rng.standard_normal((50, 1)), rng.standard_normal((50, 1))
    loss = losses.MSELoss()
    assert loss.forward(pred, target) == pytest.approx(np.mean((pred - target) ** 2))
    np.testing.assert_allclose(loss.backward(), 2 * (pred - target) / 50, atol=1e-15)


def test_least_squares_and_smoothness_by_independent_formulas():
    X, y, _, _ = make_linear_regression(n=200, d=5, noise=0.5, rng=3)
    Xb = np.column_stack([X, np.ones(200)])
    np.testing.assert_allclose(E.least_squares(Xb, y), np.linalg.solve(Xb.T @ Xb, Xb.T @ y), rtol=1e-10)
    assert E.mse_smoothness(Xb) == pytest.approx(np.linalg.eigvalsh(2 / 200 * Xb.T @ Xb)[-1])


def test_gd_reaches_the_normal_equation_solution():
    """GD-07 experiment 1: |w_gd − w*| ≈ 1e-4 after 10 steps and below 1e-12 after 50."""
    X, y, _, _ = make_linear_regression(n=200, d=5, noise=0.5, rng=3)
    Xb = np.column_stack([X, np.ones(200)])
    w_star = np.linalg.solve(Xb.T @ Xb, Xb.T @ y)
    W, J, lr = E.linear_regression_gd(Xb, y, steps=200)
    assert lr == pytest.approx(1 / np.linalg.eigvalsh(2 / 200 * Xb.T @ Xb)[-1])
    assert 1e-5 < np.linalg.norm(W[10] - w_star) < 1e-3
    assert np.linalg.norm(W[50] - w_star) < 1e-12 and np.linalg.norm(W[200] - w_star) < 1e-12
    np.testing.assert_allclose(J, [np.mean((Xb @ w - y) ** 2) for w in W])


def test_flop_counts_by_hand():
    """GD-07 experiment 2: break-even is about d/2 steps when n >> d."""
    assert E.direct_solve_flops(1000, 100) == 2 * 1000 * 100**2 + 100**3 / 3
    assert E.gd_step_flops(1000, 100) == 4 * 1000 * 100
    assert E.direct_solve_flops(10_000, 10) / E.gd_step_flops(10_000, 10) == pytest.approx(5.0, abs=0.01)
    assert E.direct_solve_flops(10**6, 10**5) / E.gd_step_flops(10**6, 10**5) == pytest.approx(
        10**5 / 2 + 10**10 / (12 * 10**6))
    with pytest.raises(ValueError, match="n"):
        E.direct_solve_flops(0, 3)


def test_steps_to_reach():
    assert E.steps_to_reach(np.array([1.0, 0.5, 1e-3, 1e-9]), 1e-8) == 3
    assert E.steps_to_reach(np.array([1.0, 0.5]), 1e-8) is None


def test_feature_scales_decide_gd_speed():
    """GD-07 experiment 3, each design at its own best fixed rate 2/(L+μ): raw κ ≈ 1082 needs ~5000 steps,
    standardized κ ≈ 1.2 needs 4; standardized but 0.998-correlated keeps κ ≈ (1+ρ)/(1−ρ) ≈ 1000;
    whitened κ = 1."""
    X, y, _, _ = make_linear_regression(n=200, d=3, noise=0.1, rng=0)
    raw = np.column_stack([X * [1, 5, 25] + [0, 3, 10], np.ones(200)])
    Z = (raw[:, :3] - raw[:, :3].mean(0)) / raw[:, :3].std(0)
    C = Z.copy()
    C[:, 1] = 0.998 * Z[:, 0] + math.sqrt(1 - 0.998**2) * Z[:, 1]
    C = (C - C.mean(0)) / C.std(0)
    evals, evecs = np.linalg.eigh(C.T @ C / 200)
    designs = {"raw": raw, "std": np.column_stack([Z, np.ones(200)]), "corr": np.column_stack([C, np.ones(200)]),
               "white": np.column_stack([C @ evecs / np.sqrt(evals), np.ones(200)])}
    results = {}
    for name, A in designs.items():
        lam = np.linalg.eigvalsh(2 / 200 * A.T @ A)
        lr = 2 / (lam[-1] + lam[0])
        w, path = np.zeros(A.shape[1]), []
        best = np.mean((A @ np.linalg.solve(A.T @ A, A.T @ y) - y) ** 2)
        for _ in range(6001):                              # an independent GD loop on the MSE
            path.append(np.mean((A @ w - y) ** 2) - best)
            w = w - lr * (2 / 200) * A.T @ (A @ w - y)
        gaps = np.array(path)
        hit = np.nonzero(gaps <= 1e-8 * gaps[0])[0]
        results[name] = (lam[-1] / lam[0], int(hit[0]) if hit.size else None)
        _, J, used = E.linear_regression_gd(A, y, steps=6000, lr=lr)
        assert E.steps_to_reach(J - E.mse(E.least_squares(A, y), A, y), 1e-8) == results[name][1]
    assert results["raw"][0] > 1000 and 4000 < results["raw"][1] < 6000           # 4957
    assert results["std"][0] < 1.5 and results["std"][1] <= 5                      # 4 (6 at 1/L)
    rho = np.corrcoef(C.T)[0, 1]
    assert rho == pytest.approx(0.998, abs=5e-4)
    assert 500 < results["corr"][0] < 1500 and results["corr"][0] == pytest.approx((1 + rho) / (1 - rho), rel=0.1)
    assert results["corr"][1] > 1000                                               # 3805
    assert results["white"][0] == pytest.approx(1.0, abs=1e-9) and results["white"][1] <= 2


def test_best_fixed_rate_beats_one_over_L_on_the_standardized_design():
    """The referee's point: 1/L is not GD's best fixed rate; 2/(L+μ) needs 4 steps where 1/L needs 6."""
    X, y, _, _ = make_linear_regression(n=200, d=3, noise=0.1, rng=0)
    raw = np.column_stack([X * [1, 5, 25] + [0, 3, 10], np.ones(200)])
    A = np.column_stack([(raw[:, :3] - raw[:, :3].mean(0)) / raw[:, :3].std(0), np.ones(200)])
    lam = np.linalg.eigvalsh(2 / 200 * A.T @ A)
    best = E.mse(E.least_squares(A, y), A, y)
    steps = {lr: E.steps_to_reach(E.linear_regression_gd(A, y, 50, lr=lr)[1] - best, 1e-8)
             for lr in (1 / lam[-1], 2 / (lam[-1] + lam[0]))}
    assert list(steps.values()) == [6, 4]


def test_separable_logistic_gradient_vanishes_without_a_stationary_point():
    """GD-04: |∇J| → 0 like 1/t while w grows like ln t; J' < 0 everywhere (no stationary point)."""
    x = np.array([-2.0, -1.0, 1.0, 2.0])
    y = np.sign(x)

    def grad(w):   # independent: d/dw mean log(1 + exp(−y x w)) = mean(−y x σ(−y x w))
        return np.array([np.mean(-y * x * sigmoid(-y * x * w[0]))])

    for w in (-5.0, 0.0, 3.0, 30.0):
        assert E.separable_logistic_gradient(np.array([w]))[0] == pytest.approx(grad(np.array([w]))[0], rel=1e-12)
        assert E.separable_logistic_gradient(np.array([w]))[0] < 0
    ws = plain_gd(grad, np.zeros(1), 1.0, 10_000)
    np.testing.assert_allclose(E.gd_path(E.separable_logistic_gradient, np.zeros(1), 1.0, 10_000), ws, rtol=1e-12)
    g = {t: abs(grad(ws[t])[0]) for t in (100, 1000, 10_000)}
    assert 8 < g[100] / g[1000] < 12 and 8 < g[1000] / g[10_000] < 12                 # ~1/t
    for a, b in ((100, 1000), (1000, 10_000)):
        assert ws[b, 0] - ws[a, 0] == pytest.approx(math.log(10), abs=0.1)           # ~ln t per decade
    assert np.all(np.diff(ws[:, 0]) > 0)                                             # w never stops growing


# ---------------------------------------------------------------- non-convex landscapes

def himmelblau_gradient(p):
    x, y = p
    u, v = x * x + y - 11, x + y * y - 7
    return np.array([4 * x * u + 2 * v, 2 * u + 4 * y * v])


def test_two_close_starts_reach_different_himmelblau_minima():
    """GD-08 experiment 1, with an independent loop on the hand-written gradient."""
    ends = [plain_gd(himmelblau_gradient, start, 0.005, 300)[-1] for start in ([-0.1, -2.5], [0.1, -2.5])]
    np.testing.assert_allclose(ends[0], [-3.779310253377747, -3.2831859912861696], atol=1e-6)
    np.testing.assert_allclose(ends[1], [3.5844283403304917, -1.8481265269644034], atol=1e-6)


def test_basins_label_each_start_by_the_minimum_reached():
    h = LS.Himmelblau()
    X, Y, labels = E.basins_of_attraction(h, lr=0.005, steps=300, n=40)
    assert labels.shape == (40, 40) and set(np.unique(labels)) == {0, 1, 2, 3}
    shares = np.bincount(labels.ravel(), minlength=4) / labels.size
    assert np.all((shares > 0.2) & (shares < 0.3))
    for i, j in ((3, 5), (20, 20), (35, 2), (10, 30)):
        end = plain_gd(himmelblau_gradient, [X[i, j], Y[i, j]], 0.005, 300)[-1]
        assert np.linalg.norm(end - h.minima[labels[i, j]]) < 1e-3
    _, _, diverged = E.basins_of_attraction(h, lr=0.05, steps=50, n=10)  # lr far above 2/λ_max
    assert np.any(diverged == -1)


def test_saddle_traps_only_the_stable_manifold():
    """GD-08 experiment 2: y0 = 0 converges to the saddle; y0 = 1e-8 escapes at step ⌈ln(1e8)/ln 1.2⌉."""
    saddle = LS.Saddle()
    runs = {y0: LS.run(lambda ps: optim.SGD(ps, lr=0.1), saddle, (-1.5, y0), steps=150)
            for y0 in (0, 1e-8, 1e-4)}
    t = np.arange(len(runs[1e-8].points))
    np.testing.assert_allclose(runs[1e-8].points[:, 0], -1.5 * 0.8**t, rtol=1e-12)
    np.testing.assert_allclose(runs[1e-8].points[:, 1], 1e-8 * 1.2**t, rtol=1e-12)
    assert runs[0].grad_norms[-1] < 1e-12 and E.steps_to_escape(runs[0]) is None
    assert E.steps_to_escape(runs[1e-8]) == math.ceil(math.log(1e8) / math.log(1.2)) == 102
    assert E.steps_to_escape(runs[1e-4]) == math.ceil(math.log(1e4) / math.log(1.2)) == 51
    with pytest.raises(ValueError, match="saddle"):
        E.steps_to_escape(LS.run(lambda ps: optim.SGD(ps, lr=0.1), LS.Quadratic(), steps=3))


def test_plateau_stalls_then_drops():
    """GD-08 experiment 3: loss ≈ 1 for about 200 steps at lr 1, then below 0.5 near step 211."""
    ws = plain_gd(lambda w: -2 * sigmoid(w) * (1 - sigmoid(w)) ** 2, -6.0, 1.0, 400)
    loss = (1 - sigmoid(ws)) ** 2
    np.testing.assert_allclose(E.gd_path(E.sigmoid_plateau().derivative, -6.0, 1.0, 400), ws, rtol=1e-12)
    assert loss[150] > 0.98 and 200 < np.argmax(loss < 0.5) < 220 and loss[300] < 0.01


def test_random_symmetric_matrices_are_rarely_positive_definite():
    """GD-09: GOE fractions 1/2 and (2 − √2)/4 for d = 1, 2; below 2^-d from d = 3 on."""
    assert E.positive_definite_fraction(1, 50_000, rng=1) == pytest.approx(0.5, abs=0.01)
    assert E.positive_definite_fraction(2, 50_000, rng=2) == pytest.approx((2 - math.sqrt(2)) / 4, abs=0.01)
    fractions = [E.positive_definite_fraction(d, 50_000, rng=d) for d in range(3, 6)]
    assert all(f < 0.5**d / 4 for f, d in zip(fractions, range(3, 6), strict=True))
    assert fractions == sorted(fractions, reverse=True)
    assert E.positive_definite_fraction(3, 1000, rng=7) == E.positive_definite_fraction(3, 1000, rng=7)


def test_restarts_find_the_global_minimum_by_the_share_of_its_basin():
    """GD-09 experiment 1: from 1001 even starts the share reaching the global minimum is the share left
    of the hump (the middle root of f')."""
    well = E.double_well()
    starts = np.linspace(-2, 2, 1001)
    ends = E.gd_path(well.derivative, starts, 0.02, 300)[-1]
    hump = sorted(np.roots([4, 0, -4, 0.3]).real)[1]
    assert np.mean(np.isclose(ends, well.minima[0], atol=1e-6)) == pytest.approx((hump + 2) / 4, abs=0.002)
    assert np.all(np.isclose(ends, well.minima[0], atol=1e-6) | np.isclose(ends, well.minima[1], atol=1e-6))


def test_narrow_network_depends_on_the_seed_wide_one_does_not():
    """GD-09 experiment 3 (40 seeds, XOR): width 2 is stuck (final loss > 0.25) in 35 % ± 8 % of the
    seeds, two clusters near 0.05 and 0.37; width 32 in none, all near 0.01. Intervals, not counts."""
    finals = E.final_losses_by_width(widths=(2, 32), seeds=40, epochs=200)
    stuck = {w: np.mean(v > 0.25) for w, v in finals.items()}
    assert 0.15 <= stuck[2] <= 0.6                       # measured 0.35
    assert stuck[32] <= 0.05 and finals[32].max() < 0.02     # measured 0 of 40
    high, low = finals[2][finals[2] > 0.25], finals[2][finals[2] <= 0.25]
    assert np.all(np.abs(high - 0.37) < 0.05) and np.median(low) < 0.1   # two clusters, not a spread


# ---------------------------------------------------------------- stopping criteria

def test_relative_change_has_a_floor_of_one():
    assert E.relative_change(1e6, 1e6 - 1e-3) == pytest.approx(1e-9)
    assert E.relative_change(2e-10, 1e-10) == pytest.approx(1e-10)
    assert E.relative_change(1.0, 1.5) == pytest.approx(0.5 / 1.5)


def test_stopping_reason_order():
    kw = dict(max_steps=10, grad_tol=1e-6, rel_tol=1e-8)
    assert E.stopping_reason(10, 1.0, math.nan, 0.0, **kw) == "diverged"
    assert E.stopping_reason(10, 1.0, 1.0, 0.0, **kw) == "gradient"
    assert E.stopping_reason(10, 1.0, 1.0, 1.0, **kw) == "loss change"
    assert E.stopping_reason(10, 2.0, 1.0, 1.0, **kw) == "budget"
    assert E.stopping_reason(9, 2.0, 1.0, 1.0, **kw) is None
    assert E.stopping_reason(0, None, 1.0, 1.0, **kw) is None


def test_gd_until_criteria_and_the_scale_of_the_gradient():
    """GD-10 experiment 1: the same path on 1000·f with lr/1000 stops later on the gradient test."""
    q = LS.Quadratic(condition_number=10)
    by_gradient = E.gd_until(q.gradient, q.value, q.start, 0.15, max_steps=10_000, grad_tol=1e-6)
    assert by_gradient.reason == "gradient"
    assert by_gradient.grad_norms[-1] <= 1e-6 < by_gradient.grad_norms[-2]
    scaled = E.gd_until(lambda p: 1000 * q.gradient(p), lambda p: 1000 * q.value(p), q.start, 0.15 / 1000,
                        max_steps=10_000, grad_tol=1e-6)
    assert scaled.reason == "gradient" and scaled.steps > by_gradient.steps + 30
    np.testing.assert_allclose(scaled.xs[: by_gradient.steps + 1], by_gradient.xs, rtol=1e-9, atol=1e-15)
    by_loss = E.gd_until(q.gradient, q.value, q.start, 0.15, max_steps=10_000, rel_tol=1e-12)
    assert by_loss.reason == "loss change" and by_loss.losses[-1] < 1e-10
    budget = E.gd_until(q.gradient, q.value, q.start, 0.15, max_steps=50)
    assert budget.reason == "budget" and budget.steps == 50
    np.testing.assert_allclose(budget.xs, plain_gd(q.gradient, q.start, 0.15, 50), rtol=1e-12)
    diverging = E.gd_until(q.gradient, q.value, q.start, 0.5, max_steps=10_000)
    assert diverging.reason == "diverged"


def test_parameter_change_is_fooled_by_a_tiny_learning_rate():
    q = LS.Quadratic(condition_number=10)
    xs = E.gd_path(q.gradient, q.start, 1e-6, 1)
    assert np.linalg.norm(xs[1] - xs[0]) < 1e-4 and q.value(xs[1]) > 27


def test_early_stopping_beats_training_to_the_end():
    """GD-10 experiment 2: validation MSE 0.64 (early) < 2.6 (3000 steps) < 4.6 (exact fit)."""
    data = E.make_overfitting_regression()
    X, y, Xv, yv = data
    assert X.shape == (40, 36) and Xv.shape == (400, 36)
    assert all(np.array_equal(a, b) for a, b in zip(data, E.make_overfitting_regression(), strict=True))
    full = E.early_stopped_gd(X, y, Xv, yv, max_steps=3000, patience=10_000, eval_every=10)
    early = E.early_stopped_gd(X, y, Xv, yv, max_steps=3000, patience=10, eval_every=10)
    assert full.stop_step == 3000 and np.all(np.diff(full.train_loss) < 0)
    assert early.stop_step - early.best_step == 100
    assert early.best_step == full.eval_steps[np.argmin(full.val_loss)]
    exact = np.linalg.lstsq(X, y, rcond=None)[0]
    val = lambda w: np.mean((Xv @ w - yv) ** 2)
    assert val(early.w) < 0.5 * full.val_loss[-1] < full.val_loss[-1] < val(exact)
    w_best = plain_gd(lambda w: 2 / 40 * X.T @ (X @ w - y), np.zeros(36), 1 / E.mse_smoothness(X),
                      early.best_step)[-1]
    np.testing.assert_allclose(early.w, w_best, rtol=1e-10, atol=1e-12)


def test_bad_arguments_name_the_argument():
    q = LS.Quadratic()
    cases = [
        (lambda: E.final_gaps(q, np.array([-0.1]), 3), ValueError, "lrs"),
        (lambda: E.final_gaps("q", np.array([0.1]), 3), TypeError, "landscape"),
        (lambda: E.final_gaps(q, np.array([0.1]), 3, x0=[1.0]), ValueError, "x0"),
        (lambda: E.basins_of_attraction(LS.Saddle(), 0.1, 3), ValueError, "no minima"),
        (lambda: E.basins_of_attraction(q, 0.1, 3, n=0), ValueError, "n"),
        (lambda: E.contraction_factors(q, -1.0), ValueError, "lr"),
        (lambda: E.explore_lr_quadratic(0.5, 0.1), ValueError, "condition_number"),
        (lambda: E.gd_until(None, q.value, q.start, 0.1, max_steps=3), TypeError, "grad_fn"),
        (lambda: E.positive_definite_fraction(0), ValueError, "d"),
        (lambda: E.final_losses_by_width(widths=(0,), seeds=1, epochs=1), ValueError, "width"),
        (lambda: E.early_stopped_gd(np.ones((3, 2)), np.ones(3), np.ones((2, 2)), np.ones(2), max_steps=0,
                                    patience=1), ValueError, "max_steps"),
        (lambda: E.make_overfitting_regression(noise=-1.0), ValueError, "noise"),
        (lambda: E.steps_to_reach(np.array([1.0]), 0.0), ValueError, "rel_tol"),
        (lambda: E.least_squares(np.ones((3, 2)), np.ones(4)), ValueError, "X and y"),
    ]
    for make, error, fragment in cases:
        with pytest.raises(error, match=fragment):
            make()


# ---------------------------------------------------------------- GD-03c: edge of stability

def test_power_iteration_on_hessian_vector_products_finds_the_top_eigenvalue_of_a_quadratic():
    from gdcourse.curvature import hessian_vector_product, power_iteration
    A = np.diag([5.0, 2.0, 1.0, 0.5])
    result = power_iteration(lambda v: hessian_vector_product(lambda w: A @ w, np.ones(4), v), 4, rng=0,
                             iters=300, tol=1e-10)
    assert result.eigenvalue == pytest.approx(5.0, rel=1e-6)


def test_full_batch_gd_on_a_network_runs_at_the_edge_of_stability():
    # Notebook GD-03c: eta = 1.5 (2/eta = 1.33); measured over 20 seeds: lowest sharpness 0.75-0.91 of 2/eta,
    # median of the second half 0.91-1.04 of it in 20 of 20 seeds. Asserted: >= 17 of 20 within +-10 %, and
    # the sharpness climbs back by >= 5 % of 2/eta from its low in >= 17 of 20 (progressive sharpening).
    at_edge = rises = 0
    for seed in range(20):
        run = E.sharpness_during_gd(lr=1.5, steps=800, every=40, n=128, rng=seed)
        assert np.all(np.isfinite(run.loss)) and run.loss[-1] < 0.01 * run.loss[0]
        ratio = run.sharpness / run.threshold
        late = np.median(ratio[len(ratio) // 2:])
        at_edge += abs(late - 1.0) <= 0.10
        rises += late - ratio.min() >= 0.05
    assert at_edge >= 17 and rises >= 17


# ---------------------------------------------------------------- GD-07b: implicit bias

def test_gd_from_zero_finds_the_minimum_norm_solution_and_from_elsewhere_does_not():
    # Notebook GD-07b, 20 seeds: from zero ||w - pinv|| < 1e-8; from N(0, I) the distance equals the start's
    # null-space part, about sqrt(d - n) = sqrt(30).
    far = []
    for seed in range(20):
        zero = E.underdetermined_gd(n=20, d=50, steps=3000, rng=seed)
        assert zero.residual < 1e-8 and zero.distance < 1e-8
        start = E.underdetermined_gd(n=20, d=50, steps=3000, start_scale=1.0, rng=seed)
        assert start.residual < 1e-8 and start.norm_ratio > 1.0
        assert start.distance == pytest.approx(start.null_part, rel=1e-6)
        far.append(start.distance)
    assert 4.5 < np.median(far) < 6.5


def test_minimum_norm_solution_by_an_independent_formula():
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((5, 9)), rng.standard_normal(5)
    w = X.T @ np.linalg.solve(X @ X.T, y)                       # X^T (X X^T)^{-1} y
    fit = E.underdetermined_gd(n=5, d=9, steps=4000, rng=np.random.default_rng(3))
    np.testing.assert_allclose(fit.pinv, w, atol=1e-10)
    with pytest.raises(ValueError, match="d"):
        E.underdetermined_gd(n=10, d=5)


# ---------------------------------------------------------------- GD-09b: lazy training

def test_relative_weight_change_falls_with_width():
    # Notebook GD-09b: medians 0.39, 0.23, 0.12 for widths 16, 64, 256 over 20 seeds, falling in every seed.
    widths = (16, 64, 256)
    changes = E.weight_change_by_width(widths, seeds=20)
    assert np.all(np.diff(changes, axis=0) < 0)
    medians = np.median(changes, axis=1)
    np.testing.assert_allclose(medians, [0.39, 0.23, 0.12], rtol=0.15)
    slope = np.polyfit(np.log(widths), np.log(medians), 1)[0]
    assert -0.55 < slope < -0.3
