"""Tests of gdcourse.landscapes: hand-written derivatives against central differences, the known
critical points, and the runner: gradient descent on a quadratic converges exactly when lr < 2/L,
diverges (quietly, flagged) above it, and Newton's method lands on the minimum in one step."""

import contextlib
import itertools
import math
import warnings

import numpy as np
import pytest
from scipy.optimize import root

from gdcourse import landscapes as LS
from gdcourse.optim import SGD, Adam

ALL = {
    "quadratic": LS.Quadratic(),
    "quadratic_rotated": LS.Quadratic(condition_number=25.0, angle=0.7),
    "rosenbrock": LS.Rosenbrock(),
    "rosenbrock_a2": LS.Rosenbrock(a=2.0, b=10.0),
    "beale": LS.Beale(),
    "himmelblau": LS.Himmelblau(),
    "saddle": LS.Saddle(),
}


def sample_points(landscape, k=8, seed=0):
    """k points drawn uniformly inside the landscape's plotting window, plus its start."""
    (x0, x1), (y0, y1) = landscape.bounds
    rng = np.random.default_rng(seed)
    pts = np.c_[rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)]
    return np.vstack([pts, landscape.start])


def central_difference(f, p, h):
    """(f(p + h e_i) - f(p - h e_i)) / 2h for i = 0, 1, stacked on a new first axis."""
    steps = np.eye(2) * h
    return np.stack([(f(p + e) - f(p - e)) / (2 * h) for e in steps])


def relative_error(a, b):
    return np.max(np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), 1.0))


# ---------------------------------------------------------------- derivatives

# Tolerance: central differences with h = 1e-5 err by ~h²·f'''/6 (truncation) plus ~1e-16·|f|/h
# (round-off), measured relative to max(|derivative|, 1). The worst error seen on the sampled points
# is 2.2e-9 (the Hessians of Himmelblau and Beale; the gradients stay below 4e-10): 2e-8 leaves a
# margin of about 10, while a wrong term in a hand-written derivative is off by far more.
DERIV_TOL = 2e-8


@pytest.mark.parametrize("name", ALL)
def test_gradient_matches_central_differences(name):
    ls = ALL[name]
    for p in sample_points(ls):
        assert relative_error(ls.gradient(p), central_difference(ls.value, p, 1e-5)) < DERIV_TOL


@pytest.mark.parametrize("name", ALL)
def test_hessian_matches_central_differences_of_the_gradient(name):
    ls = ALL[name]
    for p in sample_points(ls, seed=1):
        H = ls.hessian(p)
        assert H.shape == (2, 2)
        np.testing.assert_array_equal(H, H.T)
        # central_difference stacks d/dp_i of the gradient as rows: H[i, j] = d grad_j / d p_i.
        assert relative_error(H, central_difference(ls.gradient, p, 1e-5)) < DERIV_TOL


@pytest.mark.parametrize("name", ALL)
def test_value_gradient_hessian_are_vectorized_over_trailing_axes(name):
    ls = ALL[name]
    P = np.random.default_rng(2).uniform(-2, 2, size=(2, 3, 4))
    V, G, H = ls.value(P), ls.gradient(P), ls.hessian(P)
    assert V.shape == (3, 4) and G.shape == (2, 3, 4) and H.shape == (2, 2, 3, 4)
    for i in range(3):
        for j in range(4):
            p = P[:, i, j]
            assert V[i, j] == pytest.approx(ls.value(p), rel=1e-14)
            np.testing.assert_allclose(G[:, i, j], ls.gradient(p), rtol=1e-14)
            np.testing.assert_allclose(H[:, :, i, j], ls.hessian(p), rtol=1e-14)


def test_values_by_hand():
    assert LS.Rosenbrock().value(np.array([-1.2, 1.0])) == pytest.approx(4.84 + 100 * 0.44**2)
    assert LS.Rosenbrock().value(np.array([0.0, 0.0])) == 1.0
    assert LS.Beale().value(np.array([0.0, 0.0])) == 1.5**2 + 2.25**2 + 2.625**2
    assert LS.Himmelblau().value(np.array([0.0, 0.0])) == 121 + 49
    assert LS.Saddle().value(np.array([1.0, 2.0])) == -3.0
    assert LS.Quadratic(condition_number=10).value(np.array([2.0, 1.0])) == 0.5 * (4 + 10)
    assert LS.Quadratic().value([1, 1]) == 5.5  # integer points are accepted as floats


# ---------------------------------------------------------------- critical points

# How many minima and saddle points each landscape has in its plotting window: a convex quadratic
# and Rosenbrock one minimum and no saddle; Beale one minimum and two saddles, (0, 1) and near
# (0.1, -2.6); Himmelblau four minima, four saddles and one maximum; x² - y² no minimum and one
# saddle. (test_no_critical_point_in_the_window_is_missing checks that there are no others.)
CRITICAL_POINTS = {"quadratic": (1, 0), "quadratic_rotated": (1, 0), "rosenbrock": (1, 0), "rosenbrock_a2": (1, 0),
                   "beale": (1, 2), "himmelblau": (4, 4), "saddle": (0, 1)}


@pytest.mark.parametrize("name", ALL)
def test_minima_have_zero_gradient_zero_value_and_positive_curvature(name):
    ls = ALL[name]
    assert len(ls.minima) == CRITICAL_POINTS[name][0]
    for m in ls.minima:
        assert np.linalg.norm(ls.gradient(m)) < 1e-12 * max(1.0, abs(ls.hessian(m)).max())
        assert abs(ls.value(m)) < 1e-24
        assert np.all(np.linalg.eigvalsh(ls.hessian(m)) > 0)


@pytest.mark.parametrize("name", ALL)
def test_saddle_points_have_zero_gradient_and_curvature_of_both_signs(name):
    ls = ALL[name]
    assert len(ls.saddle_points) == CRITICAL_POINTS[name][1]
    for s in ls.saddle_points:
        assert np.linalg.norm(ls.gradient(s)) < 1e-12
        low, high = np.linalg.eigvalsh(ls.hessian(s))
        assert low < 0 < high


@pytest.mark.parametrize("name", ALL)
def test_no_critical_point_in_the_window_is_missing(name):
    """Solving grad f = 0 (scipy's root finder) from a 15 x 15 grid of starts over the plotting window
    finds exactly the listed minima, saddle points and maxima."""
    ls = ALL[name]
    listed = [*ls.minima, *ls.saddle_points, *getattr(ls, "maxima", [])]
    (x0, x1), (y0, y1) = ls.bounds
    found = []
    for start in itertools.product(np.linspace(x0, x1, 15), np.linspace(y0, y1, 15)):
        solution = root(ls.gradient, start, jac=ls.hessian, tol=1e-14)
        p = solution.x
        inside = x0 <= p[0] <= x1 and y0 <= p[1] <= y1
        if solution.success and inside and np.linalg.norm(ls.gradient(p)) < 1e-8:
            if not any(np.linalg.norm(p - q) < 1e-5 for q in found):
                found.append(p)
    assert len(found) == len(listed), found
    for p in found:
        assert min(np.linalg.norm(p - q) for q in listed) < 1e-6, p


def test_himmelblau_has_four_minima_matching_published_values_and_a_maximum():
    ls = LS.Himmelblau()
    # Published to 6 decimals (e.g. Himmelblau 1972; the usual tables of test functions).
    published = np.array([[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848126]])
    np.testing.assert_allclose(np.stack(ls.minima), published, atol=1e-6)
    (peak,) = ls.maxima
    assert np.linalg.norm(ls.gradient(peak)) < 1e-12
    assert np.all(np.linalg.eigvalsh(ls.hessian(peak)) < 0)


def test_known_minima_by_hand():
    np.testing.assert_array_equal(LS.Rosenbrock(a=2.0).minima[0], [2.0, 4.0])
    np.testing.assert_array_equal(LS.Beale().minima[0], [3.0, 0.5])
    assert LS.Saddle().minima == []


@pytest.mark.parametrize("kappa, angle", [(1.0, 0.0), (10.0, 0.0), (25.0, 0.7), (1000.0, -2.0)])
def test_quadratic_curvatures_are_mu_and_L(kappa, angle):
    q = LS.Quadratic(condition_number=kappa, angle=angle)
    assert (q.mu, q.L) == (1.0, kappa)
    np.testing.assert_allclose(np.linalg.eigvalsh(q.A), [1.0, kappa], rtol=1e-12)
    # The axes are rotated by `angle`: the flat direction is (cos, sin), the steep one (-sin, cos).
    flat, steep = np.array([math.cos(angle), math.sin(angle)]), np.array([-math.sin(angle), math.cos(angle)])
    np.testing.assert_allclose(q.A @ flat, flat, atol=1e-12 * kappa)
    np.testing.assert_allclose(q.A @ steep, kappa * steep, rtol=1e-12, atol=1e-12 * kappa)


def test_quadratic_at_angle_zero_is_exactly_diagonal():
    np.testing.assert_array_equal(LS.Quadratic(condition_number=7.0).A, [[1.0, 0.0], [0.0, 7.0]])


# ---------------------------------------------------------------- run: gradient descent on the quadratic

def gd(lr):
    return lambda params: SGD(params, lr=lr)


@contextlib.contextmanager
def no_warnings():
    """A context in which any warning (overflow, invalid value...) fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("angle", [0.0, 0.3, 1.2])
def test_gd_path_is_the_matrix_power_formula(angle):
    # Independent formula: p_k = (I - lr A)^k p_0 for p <- p - lr A p.
    q = LS.Quadratic(condition_number=10.0, angle=angle)
    lr = 0.15
    path = LS.run(gd(lr), q, steps=40)
    M = np.eye(2) - lr * q.A
    expected = np.stack([np.linalg.matrix_power(M, k) @ q.start for k in range(41)])
    np.testing.assert_allclose(path.points, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(path.values, 0.5 * np.einsum("ki,ij,kj->k", expected, q.A, expected), rtol=1e-9)
    np.testing.assert_allclose(path.grad_norms, np.linalg.norm(expected @ q.A, axis=1), rtol=1e-9)
    np.testing.assert_array_equal(path.lrs, np.full(40, lr))


@pytest.mark.parametrize("kappa, angle", [(10.0, 0.0), (10.0, 0.5), (50.0, 2.0)])
@pytest.mark.parametrize("fraction", [0.5, 1.0, 1.9, 1.99])
def test_gd_converges_for_every_lr_below_2_over_L(kappa, angle, fraction):
    q = LS.Quadratic(condition_number=kappa, angle=angle)
    lr = fraction / q.L
    rate = max(abs(1 - lr * q.mu), abs(1 - lr * q.L))  # slowest contraction per step
    steps = math.ceil(math.log(1e-7 / np.linalg.norm(q.start)) / math.log(rate))
    with no_warnings():
        path = LS.run(gd(lr), q, steps=steps)
    assert not path.diverged and path.steps_taken == steps
    assert path.converged(tol=1e-6)
    assert path.distance_to_nearest_minimum() <= 1e-7 * 1.0001


@pytest.mark.parametrize("kappa, angle", [(10.0, 0.0), (10.0, 0.5), (50.0, 2.0)])
def test_gd_diverges_quietly_just_above_2_over_L(kappa, angle):
    q = LS.Quadratic(condition_number=kappa, angle=angle)
    lr = 2.01 / q.L
    steep = np.array([-math.sin(angle), math.cos(angle)])
    c0 = q.start @ steep  # component along the steep axis; it is multiplied by 1 - lr L = -1.01 per step
    bound = math.ceil(math.log(LS.DIVERGENCE_RADIUS / abs(c0)) / math.log(1.01)) + 1
    with no_warnings():
        path = LS.run(gd(lr), q, steps=2 * bound)
    assert path.diverged and not path.converged(tol=1.0)
    assert path.steps_taken <= bound  # stopped as soon as |p| > 1e6, not at the end of the budget
    assert np.linalg.norm(path.final) > LS.DIVERGENCE_RADIUS
    assert np.all(np.linalg.norm(path.points[:-1], axis=1) <= LS.DIVERGENCE_RADIUS)
    assert np.isfinite(path.values).all()
    c = path.points @ steep
    assert np.all(np.sign(c[1:]) == -np.sign(c[:-1]))  # overshoots: the sign flips every step
    assert np.all(np.abs(c[1:]) > np.abs(c[:-1]))  # and the swing grows


def test_gd_at_exactly_2_over_L_neither_converges_nor_diverges():
    q = LS.Quadratic(condition_number=10.0)  # angle 0: the steep axis is y, factor 1 - 2 = -1
    path = LS.run(gd(2.0 / q.L), q, steps=200)
    assert not path.diverged
    y = path.points[:, 1]
    np.testing.assert_allclose(np.abs(y), abs(q.start[1]), rtol=1e-12)
    assert np.all(y[1:] == -y[:-1])
    assert abs(path.final[0]) < 1e-8  # the flat axis still converges (factor 1 - 0.2)


@pytest.mark.parametrize("lr", [0.01, 1.0, 50.0])
@pytest.mark.parametrize("name", ["rosenbrock", "beale", "himmelblau", "saddle"])
def test_large_steps_on_any_landscape_stop_quietly(name, lr):
    ls = ALL[name]
    with no_warnings():
        path = LS.run(gd(lr), ls, steps=3000)
    if path.diverged:
        last = path.final
        assert not np.isfinite(last).all() or np.linalg.norm(last) > LS.DIVERGENCE_RADIUS \
            or not math.isfinite(path.values[-1])
        assert np.all(np.linalg.norm(path.points[:-1], axis=1) <= LS.DIVERGENCE_RADIUS)
    else:
        assert path.steps_taken == 3000
    if lr == 50.0:
        assert path.diverged


def test_non_finite_values_also_flag_divergence():
    class Broken:
        """An 'optimizer' that writes NaN into its parameter."""

        lr = 0.1

        def __init__(self, params):
            self.params = params

        def step(self):
            self.params[0].value = np.array([np.nan, 0.0])

    with no_warnings():
        path = LS.run(Broken, LS.Himmelblau(), steps=10)
    assert path.diverged and path.steps_taken == 1
    assert np.isnan(path.final[0]) and np.isnan(path.values[-1])


# ---------------------------------------------------------------- run: Newton, schedules, other optimizers

@pytest.mark.parametrize("kappa, angle", [(10.0, 0.0), (1000.0, 0.4), (3.0, -1.0)])
@pytest.mark.parametrize("x0", [None, (4.0, -3.0), (0.5, 0.25)])
def test_newton_solves_the_quadratic_in_one_step(kappa, angle, x0):
    q = LS.Quadratic(condition_number=kappa, angle=angle)
    path = LS.run(LS.newton_factory(), q, x0=x0, steps=1)
    start = q.start if x0 is None else np.array(x0)
    assert np.linalg.norm(path.final) <= 1e-13 * np.linalg.norm(start) * kappa
    assert path.converged(tol=1e-9)


def test_newton_jumps_to_the_saddle_point_where_gd_escapes():
    # Newton goes to the nearest critical point of the local quadratic model, whatever its kind.
    s = LS.Saddle()
    newton = LS.run(LS.newton_factory(), s, steps=1)
    np.testing.assert_allclose(newton.final, [0.0, 0.0], atol=1e-15)
    escape = LS.run(gd(0.1), s, steps=40)
    assert abs(escape.final[1]) > 1.0 and abs(escape.final[0]) < 1e-3


def test_damped_newton_takes_the_levenberg_step():
    q = LS.Quadratic(condition_number=10.0, angle=0.3)
    path = LS.run(LS.newton_factory(lr=0.5, damping=2.0), q, steps=1)
    g = q.A @ q.start
    expected = q.start - 0.5 * np.linalg.solve(q.A + 2.0 * np.eye(2), g)
    np.testing.assert_allclose(path.final, expected, rtol=1e-12)


def test_gd_from_the_x_axis_converges_to_the_saddle():
    path = LS.run(gd(0.1), LS.Saddle(), x0=(1.5, 0.0), steps=200)
    np.testing.assert_allclose(path.final, [0.0, 0.0], atol=1e-15)  # x shrinks by 0.8 per step
    assert path.distance_to_nearest_minimum() == math.inf and not path.converged(tol=1.0)


def test_schedule_sets_lr_before_each_step():
    q = LS.Quadratic(condition_number=4.0)  # angle 0: x is multiplied by 1 - lr_t per step
    schedule = lambda t: 0.4 / (1 + t)
    path = LS.run(gd(1.0), q, steps=5, schedule=schedule)
    lrs = np.array([0.4 / (1 + t) for t in range(5)])
    np.testing.assert_allclose(path.lrs, lrs)
    np.testing.assert_allclose(path.points[1:, 0], q.start[0] * np.cumprod(1 - lrs), rtol=1e-14)
    np.testing.assert_allclose(path.points[1:, 1], q.start[1] * np.cumprod(1 - 4.0 * lrs), rtol=1e-13)


def test_schedule_objects_from_gdcourse_schedules_drive_the_lr():
    from gdcourse.schedules import CosineDecay

    schedule = CosineDecay(0.1, total_steps=20)
    path = LS.run(gd(1.0), LS.Quadratic(), steps=20, schedule=schedule)
    assert not path.diverged and path.steps_taken == 20
    np.testing.assert_allclose(path.lrs, 0.05 * (1 + np.cos(np.pi * np.arange(20) / 20)), rtol=1e-12)


def test_gd_with_momentum_and_adam_reach_the_rosenbrock_minimum():
    rosen = LS.Rosenbrock()
    assert LS.run(lambda ps: SGD(ps, lr=1e-3, momentum=0.9), rosen, steps=3000).converged(tol=1e-4)
    assert LS.run(lambda ps: Adam(ps, lr=0.05), rosen, steps=3000).converged(tol=1e-4)


def test_himmelblau_start_decides_the_minimum():
    h = LS.Himmelblau()
    for m in h.minima:
        path = LS.run(gd(0.005), h, x0=m + np.array([0.3, -0.3]), steps=500)
        np.testing.assert_allclose(path.final, m, atol=1e-8)


def test_run_records_the_start_and_does_not_touch_x0():
    x0 = np.array([1.0, 2.0])
    path = LS.run(gd(0.1), LS.Himmelblau(), x0=x0, steps=0)
    assert path.points.shape == (1, 2) and path.lrs.shape == (0,)
    np.testing.assert_array_equal(path.points[0], [1.0, 2.0])
    LS.run(gd(0.1), LS.Himmelblau(), x0=x0, steps=5)
    np.testing.assert_array_equal(x0, [1.0, 2.0])
    path = LS.run(gd(0.1), LS.Himmelblau(), x0=(1, 2), steps=3)  # ints accepted, run in float64
    assert path.points.dtype == np.float64 and path.points.shape == (4, 2)


def test_two_argument_factory_receives_the_landscape():
    seen = []

    def factory(params, landscape):
        seen.append((len(params), params[0].value.dtype, landscape))
        return SGD(params, lr=0.01)

    q = LS.Quadratic()
    LS.run(factory, q, steps=1)
    assert seen == [(1, np.float64, q)]


def test_run_bad_input():
    q = LS.Quadratic()
    with pytest.raises(ValueError, match=r"steps: expected an int >= 0, got -1"):
        LS.run(gd(0.1), q, steps=-1)
    with pytest.raises(ValueError, match=r"x0: expected 2 real numbers \(shape \(2,\)\), got shape \(3,\)"):
        LS.run(gd(0.1), q, x0=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"x0: expected finite values"):
        LS.run(gd(0.1), q, x0=[np.nan, 0.0])
    with pytest.raises(TypeError, match="landscape: expected a Landscape, got str"):
        LS.run(gd(0.1), "quadratic")
    with pytest.raises(TypeError, match="optimizer_factory: expected it to return an optimizer.*got list"):
        LS.run(lambda ps: ps, q)
    with pytest.raises(TypeError, match="schedule: expected a callable"):
        LS.run(gd(0.1), q, schedule=0.1)


def test_landscape_bad_input():
    with pytest.raises(ValueError, match=r"p: expected shape \(2,\) or \(2, \.\.\.\), got shape \(3,\)"):
        LS.Himmelblau().value(np.zeros(3))
    with pytest.raises(ValueError, match=r"condition_number: expected a number >= 1, got 0.5"):
        LS.Quadratic(condition_number=0.5)
    with pytest.raises(ValueError, match=r"angle: expected a finite angle in radians, got nan"):
        LS.Quadratic(angle=float("nan"))
    with pytest.raises(ValueError, match=r"b: expected a number > 0, got -1"):
        LS.Rosenbrock(b=-1)


# ---------------------------------------------------------------- registry and plotting helpers

def test_registry_names_match():
    for name, cls in LS.LANDSCAPES.items():
        ls = cls()
        assert ls.name == name and ls.description and ls.start.shape == (2,)
        (x0, x1), (y0, y1) = ls.bounds
        assert x0 < ls.start[0] < x1 and y0 < ls.start[1] < y1
        assert all(x0 <= m[0] <= x1 and y0 <= m[1] <= y1 for m in ls.minima)
    assert isinstance(LS.get_landscape("rosenbrock", b=10.0), LS.Rosenbrock)
    with pytest.raises(ValueError, match="name: expected one of .*'beale'.*got 'bowl'"):
        LS.get_landscape("bowl")


def test_grid_evaluates_the_function_at_every_node():
    ls = LS.Himmelblau()
    X, Y, Z = LS.grid(ls, n=30)
    assert X.shape == Y.shape == Z.shape == (30, 30)
    assert (X.min(), X.max(), Y.min(), Y.max()) == (-5.0, 5.0, -5.0, 5.0)
    np.testing.assert_allclose(Z, (X**2 + Y - 11) ** 2 + (X + Y**2 - 7) ** 2, rtol=1e-14)
    X, Y, Z = LS.grid(ls, n=5, bounds=((0, 1), (2, 3)))
    np.testing.assert_array_equal(X[0], np.linspace(0, 1, 5))
    with pytest.raises(ValueError, match=r"n: expected an int >= 2"):
        LS.grid(ls, n=1)


def test_contour_levels_are_geometric_above_the_minimum():
    Z = LS.grid(LS.Saddle(), n=20)[2]
    levels = LS.contour_levels(Z, num=5, dynamic_range=1e4)
    span = Z.max() - Z.min()
    np.testing.assert_allclose(levels, Z.min() + span * np.array([1e-4, 1e-3, 1e-2, 1e-1, 1.0]), rtol=1e-12)


def test_path_helpers():
    q = LS.Quadratic()
    points = np.array([[3.0, 4.0], [0.0, 1e-7]])
    path = LS.Path(points, np.zeros(2), np.zeros(2), np.array([0.1]), diverged=False, landscape=q)
    assert path.steps_taken == 1 and path.distance_to_nearest_minimum() == pytest.approx(1e-7)
    np.testing.assert_array_equal(path.final, [0.0, 1e-7])
    assert path.converged(tol=1e-6) and not path.converged(tol=1e-8)
    flagged = LS.Path(points, np.zeros(2), np.zeros(2), np.array([0.1]), diverged=True, landscape=q)
    assert not flagged.converged(tol=1e-6)  # a run flagged as diverged never counts as converged
    h = LS.Himmelblau()
    near = LS.Path(np.array([[-2.8, 3.1]]), np.zeros(1), np.zeros(1), np.zeros(0), False, h)
    assert near.distance_to_nearest_minimum() == pytest.approx(math.hypot(0.005118086952745, 0.031312518250573))
