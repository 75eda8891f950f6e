"""Every quantitative claim of notebook 03 (optimizers), through the package functions it uses.

Expected values come from closed forms worked out by hand, from independent
re-implementations written here (loops, ``np.linalg.eigvals``), or from the
package's other implementation of the same rule (``optim.Adam`` against
``experiments.optimizers.adam_update``) — never from the function under test alone.
"""

import math

import numpy as np
import pytest
from scipy.optimize import LbfgsInvHessProduct, minimize

from gdcourse import landscapes as LS
from gdcourse import optim
from gdcourse import regularization as R
from gdcourse.data import make_linear_regression
from gdcourse.experiments import optimizers as E
from gdcourse.nn import Parameter

QUAD = LS.Quadratic(condition_number=100)
ROTATED = LS.Quadratic(condition_number=100, angle=0.3)
X0 = np.array([-4.0, 2.0])


def _distance(path):
    return np.hypot(*path.points.T)


# ---------------------------------------------------------------- OPT-13

def test_opt13_state_floats_per_parameter():
    counts = {
        "SGD": lambda ps: optim.SGD(ps, lr=0.1), "momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
        "Adagrad": lambda ps: optim.Adagrad(ps), "RMSprop": lambda ps: optim.RMSprop(ps),
        "Adadelta": lambda ps: optim.Adadelta(ps), "Adam": lambda ps: optim.Adam(ps),
        "AMSGrad": lambda ps: optim.Adam(ps, amsgrad=True),
    }
    want = {"SGD": 0, "momentum": 1, "Adagrad": 1, "RMSprop": 1, "Adadelta": 2, "Adam": 2, "AMSGrad": 3}
    assert {name: E.state_floats_per_entry(make) for name, make in counts.items()} == want


def test_opt13_linear_model_ranking_sgd_momentum_adam():
    X, y, _, _ = make_linear_regression(n=200, d=5, noise=0.1, rng=0)
    X = np.column_stack([X * np.array([1.0, 1.0, 1.0, 10.0, 0.1]), np.ones(len(y))])
    assert 2 / np.linalg.eigvalsh(X.T @ X / len(y)).max() > 0.009  # SGD's lr 0.009 is stable

    def final_loss(make):
        w = Parameter(np.zeros(6), name="w")
        opt = make([w])
        for _ in range(100):
            opt.zero_grad()
            w.grad += X.T @ (X @ w.value - y) / len(y)
            opt.step()
        return 0.5 * np.mean((X @ w.value - y) ** 2)

    sgd = final_loss(lambda ps: optim.SGD(ps, lr=0.009))
    momentum = final_loss(lambda ps: optim.SGD(ps, lr=0.009, momentum=0.9))
    adam = final_loss(lambda ps: optim.Adam(ps, lr=0.1))
    assert adam < momentum < sgd
    # the same order when every rule is tuned on one grid (0.13, 0.074, 0.0047 in the notebook's text)
    grid = np.geomspace(1e-3, 3, 22)
    rules = {"sgd": lambda ps, lr: optim.SGD(ps, lr=lr),
             "momentum": lambda ps, lr: optim.SGD(ps, lr=lr, momentum=0.9),
             "adam": lambda ps, lr: optim.Adam(ps, lr=lr)}
    tuned = {}
    with np.errstate(all="ignore"):
        for name, make in rules.items():
            tuned[name] = np.nanmin([final_loss(lambda ps, lr=lr, make=make: make(ps, lr)) for lr in grid])
    assert tuned["adam"] < tuned["momentum"] < tuned["sgd"]
    assert tuned["sgd"] == pytest.approx(0.133, abs=0.005) and tuned["momentum"] == pytest.approx(0.074, abs=0.005)
    assert tuned["adam"] == pytest.approx(0.0047, abs=0.0005)


# ---------------------------------------------------------------- OPT-01

def test_opt01_static_race_newton_exact_momentum_beats_gd():
    race = E.race_data("rosenbrock", ["GD", "momentum", "Adam", "Newton"], **E.RACE_PRESETS["rosenbrock"])
    d = {name: p.distance_to_nearest_minimum() for name, p in race.paths.items()}
    assert d["Newton"] < 1e-12
    newton = LS.run(LS.newton_factory(), LS.Rosenbrock(), steps=8)
    assert newton.distance_to_nearest_minimum() < 1e-12  # "within 8 steps"
    assert d["momentum"] < 0.2 < 1.0 < d["GD"]
    assert d["Adam"] < d["GD"]


def test_opt01_widget_text_quadratic_momentum_wins_adam_adagrad_lose():
    names = ["GD", "momentum", "Nesterov", "Adam", "Adagrad"]
    race = E.race_data("quadratic", names, **E.RACE_PRESETS["quadratic"])
    gap = {name: p.values[-1] for name, p in race.paths.items()}  # f* = 0
    assert gap["momentum"] < 0.1 * gap["GD"] and gap["Nesterov"] < 0.1 * gap["GD"]
    assert gap["Adam"] > gap["GD"] and gap["Adagrad"] > gap["GD"]


def test_opt01_widget_text_himmelblau_momentum_other_minimum():
    race = E.race_data("himmelblau", ["GD", "momentum"], **E.RACE_PRESETS["himmelblau"])
    minima = np.stack(race.landscape.minima)
    nearest = {n: int(np.argmin(np.linalg.norm(minima - p.final, axis=1))) for n, p in race.paths.items()}
    assert nearest["GD"] != nearest["momentum"]
    assert all(p.distance_to_nearest_minimum() < 0.1 for p in race.paths.values())


def test_opt01_widget_text_saddle_momentum_escapes_first_newton_stays():
    race = E.race_data("saddle", ["GD", "momentum", "Nesterov", "Newton"], **E.RACE_PRESETS["saddle"])
    value_at_15 = {name: p.values[15] for name, p in race.paths.items()}
    assert value_at_15["momentum"] < value_at_15["GD"] and value_at_15["Nesterov"] < value_at_15["GD"]
    np.testing.assert_allclose(race.paths["Newton"].final, [0.0, 0.0], atol=1e-12)


def test_opt01_widget_text_adadelta_covers_a_fraction():
    race = E.race_data("quadratic", ["Adadelta"], **E.RACE_PRESETS["quadratic"])
    path = race.paths["Adadelta"]
    assert np.linalg.norm(path.final - path.points[0]) < 0.2 * np.linalg.norm(path.points[0])


# ---------------------------------------------------------------- OPT-02: three forms

def _independent_forms(grad, x0, gammas, mu):
    """The three forms written out again, independently of the package."""
    b, v_vel, v_ema = np.zeros(2), np.zeros(2), np.zeros(2)
    th_pt, th_vel, th_ema = x0.copy(), x0.copy(), x0.copy()
    out = {"pytorch": [x0.copy()], "velocity": [x0.copy()], "ema": [x0.copy()]}
    for gamma in gammas:
        b = mu * b + grad(th_pt)
        th_pt = th_pt - gamma * b
        v_vel = mu * v_vel - gamma * grad(th_vel)
        th_vel = th_vel + v_vel
        v_ema = mu * v_ema + (1 - mu) * grad(th_ema)
        th_ema = th_ema - gamma / (1 - mu) * v_ema
        for name, th in (("pytorch", th_pt), ("velocity", th_vel), ("ema", th_ema)):
            out[name].append(th.copy())
    return {k: np.array(v) for k, v in out.items()}


def test_opt02_three_forms_equal_to_1e12():
    forms = E.momentum_forms(ROTATED.gradient, X0, lr=0.01, momentum=0.9, steps=200)
    sgd = LS.run(lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9), ROTATED, X0, 200)
    independent = _independent_forms(ROTATED.gradient, X0, np.full(200, 0.01), 0.9)
    for name in ("pytorch", "velocity", "ema"):
        assert np.abs(forms[name] - sgd.points).max() < 1e-12
        assert np.abs(independent[name] - sgd.points).max() < 1e-12
    assert np.abs(sgd.points[-1]).max() < 1e-3  # it did converge: the comparison is not trivial


def test_opt02_schedule_breaks_only_the_velocity_form():
    schedule = np.where(np.arange(200) < 100, 0.01, 0.001)
    forms = E.momentum_forms(ROTATED.gradient, X0, lr=schedule, momentum=0.9, steps=200)
    independent = _independent_forms(ROTATED.gradient, X0, schedule, 0.9)
    assert np.abs(forms["ema"] - forms["pytorch"]).max() < 1e-12
    gap = np.abs(forms["velocity"] - forms["pytorch"]).max()
    assert 1e-2 < gap < 1e-1
    assert np.abs(independent["velocity"] - forms["velocity"]).max() < 1e-12
    assert np.abs(forms["velocity"][:101] - forms["pytorch"][:101]).max() < 1e-12  # same until the drop


# ---------------------------------------------------------------- OPT-02: rates

def _eig_rate(alpha, beta, lams, nesterov=False):
    """Spectral radius by np.linalg.eigvals on explicitly built 2x2 matrices."""
    worst = 0.0
    for lam in lams:
        if nesterov:
            T = np.array([[(1 + beta) * (1 - alpha * lam), -beta * (1 - alpha * lam)], [1.0, 0.0]])
        else:
            T = np.array([[1 + beta - alpha * lam, -beta], [1.0, 0.0]])
        worst = max(worst, np.abs(np.linalg.eigvals(T)).max())
    return worst


@pytest.mark.parametrize("nesterov", [False, True])
def test_opt02_momentum_rate_matches_eigvals(nesterov):
    rng = np.random.default_rng(1)
    alphas, betas = rng.uniform(0, 0.05, 40), rng.uniform(0, 0.99, 40)
    got = E.momentum_rate(alphas, betas, [1.0, 100.0], nesterov=nesterov)
    want = [_eig_rate(a, b, [1.0, 100.0], nesterov) for a, b in zip(alphas, betas, strict=True)]
    np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-7)


def test_opt02_rate_matches_a_run():
    alpha, beta = 0.02, 0.8
    rate = E.momentum_rate(alpha, beta, [QUAD.mu, QUAD.L])
    d = _distance(LS.run(lambda ps: optim.SGD(ps, lr=alpha, momentum=beta), QUAD, X0, 300))
    assert abs((d[300] / d[200]) ** (1 / 100) - rate) < 5e-3


def test_opt02_optimal_momentum_closed_form_kappa_100():
    alpha, beta, rate = E.optimal_momentum(100.0, 1.0)
    assert alpha == pytest.approx((2 / 11) ** 2, rel=1e-12)
    assert beta == pytest.approx((9 / 11) ** 2, rel=1e-12)
    assert rate == pytest.approx(9 / 11, rel=1e-12)
    assert _eig_rate(alpha, beta, [1.0, 100.0]) == pytest.approx(9 / 11, abs=1e-6)


def test_opt02_acceleration_690_vs_70_steps():
    gd_rate, mom_rate = 99 / 101, 9 / 11
    assert E.steps_to_reduce(gd_rate) == pytest.approx(math.log(1e-6) / math.log(99 / 101))
    assert 690 < E.steps_to_reduce(gd_rate) < 692 and 68 < E.steps_to_reduce(mom_rate) < 70
    alpha, beta, _ = E.optimal_momentum(QUAD.L, QUAD.mu)
    gd = _distance(LS.run(lambda ps: optim.SGD(ps, lr=2 / 101), QUAD, X0, 300))
    mom = _distance(LS.run(lambda ps: optim.SGD(ps, lr=alpha, momentum=beta), QUAD, X0, 300))
    assert (gd[300] / gd[200]) ** (1 / 100) == pytest.approx(gd_rate, rel=1e-6)
    assert (mom[200] / mom[100]) ** (1 / 100) == pytest.approx(mom_rate, rel=0.02)  # k·ρᵏ: double root
    assert mom[100] < 1e-6 * mom[0] and gd[300] > 1e-3 * gd[0]


def test_opt02_grid_minimum_is_next_to_the_formula():
    grid = E.rate_map_data(kappa=100, n=201)
    row, col = np.unravel_index(np.argmin(grid.rates), grid.rates.shape)
    alpha, beta, rate = grid.optimum
    assert abs(grid.betas[row] - beta) <= 2 * (grid.betas[1] - grid.betas[0])
    assert abs(grid.alphas[col] - alpha) <= 2 * (grid.alphas[1] - grid.alphas[0])
    assert rate - 1e-6 <= grid.rates[row, col] < rate + 2e-3


def test_opt02_role_of_mu_best_rate():
    _, beta_star, rate_star = E.optimal_momentum(100.0, 1.0)
    for beta in (0.7, 0.8, 0.9, 0.95):  # above μ*: √β whatever the lr
        assert E.best_rate_for_momentum(beta, [1.0, 100.0])[1] == pytest.approx(math.sqrt(beta), abs=1e-7)
    # below μ*: worse than the optimum; compare with a brute-force scan over α (eigvals)
    for beta in (0.0, 0.3, 0.6):
        alpha, rate = E.best_rate_for_momentum(beta, [1.0, 100.0])
        scan = min(_eig_rate(a, beta, [1.0, 100.0]) for a in np.linspace(1e-4, 2 * (1 + beta) / 100, 2000))
        assert rate == pytest.approx(scan, abs=2e-4) and rate > rate_star + 0.05
    assert E.best_rate_for_momentum(0.0, [1.0, 100.0])[1] == pytest.approx(99 / 101, abs=1e-9)  # GD
    alphas, rates = E.best_rate_for_momentum(np.array([0.0, 0.9]), [1.0, 100.0])
    assert rates.shape == (2,) and rates[1] == pytest.approx(math.sqrt(0.9), abs=1e-7)
    assert E.best_rate_for_momentum(beta_star, [1.0, 100.0])[1] == pytest.approx(rate_star, abs=1e-6)


def test_opt02_sqrt_mu_is_a_floor_not_the_rate_at_every_lr():
    """ρ ≥ √μ for every lr (the roots multiply to μ); equality only where every direction is under-damped."""
    lrs = np.geomspace(1e-5, 2 * 1.9 / 100, 500)
    for beta in (0.7, 0.9):
        rates = np.array([_eig_rate(a, beta, [1.0, 100.0]) for a in lrs])
        assert (rates >= math.sqrt(beta) - 1e-12).all()
        assert (rates > math.sqrt(beta) + 0.01).any()
    assert _eig_rate(5e-4, 0.9, [1.0, 100.0]) == pytest.approx(0.99475, abs=1e-5)
    assert E.momentum_rate(5e-4, 0.9, [1.0, 100.0]) == pytest.approx(_eig_rate(5e-4, 0.9, [1.0, 100.0]), abs=1e-12)


def test_opt02_package_momentum_step_matches_sgd():
    w, b = X0.copy(), np.zeros(2)
    sgd = LS.run(lambda ps: optim.SGD(ps, lr=0.01, momentum=0.9), ROTATED, X0, 10)
    for k in range(10):
        w, b = E.momentum_step(w, ROTATED.gradient(w), b, lr=0.01, momentum=0.9)
        np.testing.assert_allclose(w, sgd.points[k + 1], rtol=0, atol=1e-14)


def test_opt02_velocity_and_ema_forms_by_hand():
    # f(x) = x²/2 (gradient x) from 1, γ = 0.1, μ = 0.5: v = −0.1, θ = 0.9; v = −0.05 − 0.09, θ = 0.76
    np.testing.assert_allclose(E.velocity_form(lambda x: x, [1.0], [0.1, 0.1], 0.5)[:, 0], [1.0, 0.9, 0.76],
                               rtol=1e-14)
    # α = γ/(1 − μ) = 0.2: v = 0.5, θ = 0.9; v = 0.25 + 0.45, θ = 0.9 − 0.14: the same points
    np.testing.assert_allclose(E.ema_form(lambda x: x, [1.0], [0.2, 0.2], 0.5)[:, 0], [1.0, 0.9, 0.76],
                               rtol=1e-14)
    with_drop = E.velocity_form(lambda x: x, [1.0], [0.1, 0.01], 0.5)[-1, 0]   # v keeps the old γ
    assert with_drop == pytest.approx(0.9 - 0.05 - 0.009, rel=1e-14)


def test_opt03_nesterov_step_takes_the_gradient_at_the_lookahead_point():
    seen = []
    def gradient(x):
        seen.append(float(x[0]))
        return 2 * x
    theta, v = E.nesterov_step(gradient, np.array([1.0]), np.array([1.0]), lr=0.1, momentum=0.5)
    assert seen == [1.5]                                     # θ + μv
    assert v[0] == pytest.approx(0.5 - 0.3) and theta[0] == pytest.approx(1.2)


# ---------------------------------------------------------------- OPT-03

def test_opt03_pytorch_nesterov_is_sutskever_lookahead():
    mu, gamma = 0.9, 0.01
    theta, v = X0.copy(), np.zeros(2)
    lookahead = [theta.copy()]
    for _ in range(200):
        v = mu * v - gamma * ROTATED.gradient(theta + mu * v)
        theta = theta + v
        lookahead.append(theta + mu * v)
    sgd = LS.run(lambda ps: optim.SGD(ps, lr=gamma, momentum=mu, nesterov=True), ROTATED, X0, 200)
    assert np.abs(sgd.points - np.array(lookahead)).max() < 1e-12
    forms = E.nesterov_forms(ROTATED.gradient, X0, lr=gamma, momentum=mu, steps=200)
    assert np.abs(forms["pytorch"] - forms["lookahead"]).max() < 1e-12
    assert np.abs(forms["pytorch"] - forms["sutskever"]).max() > 1.0


def test_opt03_nesterov_reaches_1e8_a_third_sooner_at_lr_1_over_L():
    steps = {}
    for nes in (False, True):
        make = lambda ps, nes=nes: optim.SGD(ps, lr=1 / QUAD.L, momentum=0.9, nesterov=nes)
        path = LS.run(make, QUAD, steps=250)
        steps[nes] = int(np.argmax(path.values < 1e-8))
    assert 0 < steps[True] < 0.7 * steps[False]
    assert (steps[True], steps[False]) == (134, 205)


def test_opt03_the_third_is_a_transient_asymptotic_rates_differ_by_9_percent():
    heavy = _eig_rate(1 / QUAD.L, 0.9, [QUAD.mu, QUAD.L])
    # Nesterov on a quadratic: per direction z² − (1+μ)(1−γλ) z + μ(1−γλ) = 0, roots by numpy
    nesterov = max(np.abs(np.roots([1.0, -(1.9) * (1 - lam / QUAD.L), 0.9 * (1 - lam / QUAD.L)])).max()
                   for lam in (QUAD.mu, QUAD.L))
    assert heavy == pytest.approx(math.sqrt(0.9), abs=1e-9) and heavy == pytest.approx(0.9487, abs=1e-4)
    assert nesterov == pytest.approx(math.sqrt(0.9 * 0.99), abs=1e-9) and nesterov == pytest.approx(0.9439, abs=1e-4)
    assert E.momentum_rate(1 / QUAD.L, 0.9, [QUAD.mu, QUAD.L], nesterov=True) == pytest.approx(nesterov, abs=1e-12)
    assert math.log(heavy) / math.log(nesterov) == pytest.approx(0.912, abs=0.005)   # ~9 % fewer steps


def test_opt03_steep_direction_killed_and_stability_limits():
    assert E.momentum_rate(1 / 100, 0.9, [100.0], nesterov=True) == pytest.approx(0.0, abs=1e-12)
    assert E.heavy_ball_lr_limit(100.0, 0.9) * 100 == pytest.approx(3.8)
    assert E.nesterov_lr_limit(100.0, 0.9) * 100 == pytest.approx(3.8 / 2.8)
    for nes, limit in ((False, 3.8 / 100), (True, 3.8 / 2.8 / 100)):
        below = LS.run(lambda ps, nes=nes, lr=0.98 * limit: optim.SGD(ps, lr=lr, momentum=0.9, nesterov=nes),
                       QUAD, steps=3000)
        above = LS.run(lambda ps, nes=nes, lr=1.02 * limit: optim.SGD(ps, lr=lr, momentum=0.9, nesterov=nes),
                       QUAD, steps=3000)
        assert not below.diverged and below.values[-1] < below.values[0]
        assert above.diverged or above.values[-1] > 1e3 * above.values[0]


# ---------------------------------------------------------------- OPT-04

def test_opt04_adagrad_rate_decays_as_inverse_sqrt_t_rmsprop_does_not():
    stream = E.gradient_stream([1.0, 0.01], steps=1000, rng=0)
    assert set(np.unique(np.abs(stream[:, 1]))) == {0.01}
    t = np.arange(1, 1001)
    adagrad = E.effective_rates(lambda ps: optim.Adagrad(ps, lr=0.01), stream)
    np.testing.assert_allclose(adagrad[:, 0], 0.01 / (np.sqrt(t) + 1e-10), rtol=1e-9)
    np.testing.assert_allclose(adagrad[:, 1], 0.01 / (0.01 * np.sqrt(t) + 1e-10), rtol=1e-9)
    rms = E.effective_rates(lambda ps: optim.RMSprop(ps, lr=0.01), stream)
    np.testing.assert_allclose(rms[:, 0], 0.01 / (np.sqrt(1 - 0.99**t) + 1e-8), rtol=1e-9)
    assert rms[0, 0] == pytest.approx(0.1, rel=1e-6)  # no bias correction: first step 10x
    sgd = E.effective_rates(lambda ps: optim.SGD(ps, lr=0.01), stream)
    np.testing.assert_allclose(sgd, 0.01)
    steps = {name: np.abs(E.effective_rates(make, stream) * stream)[-100:].mean(axis=0) for name, make in {
        "sgd": lambda ps: optim.SGD(ps, lr=0.01), "adagrad": lambda ps: optim.Adagrad(ps, lr=0.01),
        "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01), "adam": lambda ps: optim.Adam(ps, lr=0.01)}.items()}
    assert steps["sgd"][0] / steps["sgd"][1] == pytest.approx(100)
    for name in ("adagrad", "rmsprop", "adam"):
        assert 0.5 < steps[name][0] / steps[name][1] < 2


# ---------------------------------------------------------------- OPT-05

def test_opt05_each_method_against_itself_aligned_vs_rotated():
    results = {}
    for title, angle in (("aligned", 0.0), ("rotated", math.pi / 6)):
        landscape = LS.Quadratic(50, angle=angle)
        rules = {"gd": lambda ps: optim.SGD(ps, lr=2 / 51), "adagrad": lambda ps: optim.Adagrad(ps, lr=1.0),
                 "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.05)}
        for name, make in rules.items():
            results[title, name] = LS.run(make, landscape, steps=200).values[-1]
    assert results["aligned", "adagrad"] < 1e-25 and results["rotated", "adagrad"] > 1e-2       # 1.5e-28, 7.9e-2
    assert results["aligned", "rmsprop"] < 1e-12 and results["rotated", "rmsprop"] > 0.1        # 1.9e-14, 0.25
    # GD's rate per step is the rotation-free (κ−1)/(κ+1); only the start's projection changes the final value
    assert 0.1 < results["aligned", "gd"] / results["rotated", "gd"] < 10


def _independent_final(make, landscape, steps=200):
    return LS.run(make, landscape, steps=steps).values[-1]


def test_opt05_tuned_on_one_grid_adaptive_methods_beat_gd_on_the_rotated_valley():
    grid = np.geomspace(1e-3, 10, 25)
    rotated, aligned = LS.Quadratic(50, angle=math.pi / 6), LS.Quadratic(50, angle=0.0)
    names = ["GD", "momentum", "Adagrad", "RMSprop", "Adam"]
    tuned = {"rotated": E.tuned_final_gaps(rotated, names, grid), "aligned": E.tuned_final_gaps(aligned, names, grid)}
    # the best of the grid, recomputed here with optim directly for GD and RMSprop
    gd_best = min(_independent_final(lambda ps, lr=lr: optim.SGD(ps, lr=lr), rotated) for lr in grid[grid < 2 / 50])
    assert tuned["rotated"]["GD"][1] == pytest.approx(gd_best, rel=1e-12)
    rms = [_independent_final(lambda ps, lr=lr: optim.RMSprop(ps, lr=lr), rotated) for lr in grid]
    assert tuned["rotated"]["RMSprop"][1] == pytest.approx(np.nanmin(np.where(np.isfinite(rms), rms, np.inf)),
                                                           rel=1e-12)
    rot = {k: v[1] for k, v in tuned["rotated"].items()}
    assert 1e-6 < rot["GD"] < 1e-4                                   # 7.9e-6
    assert rot["RMSprop"] < 1e-2 * rot["GD"] and rot["Adam"] < 1e-2 * rot["GD"]   # 8.6e-9, 5.5e-9
    assert rot["Adagrad"] < rot["GD"]                                # 1.5e-6
    assert rot["momentum"] < min(rot["RMSprop"], rot["Adam"], rot["Adagrad"])   # 2.0e-9
    ali = {k: v[1] for k, v in tuned["aligned"].items()}
    assert ali["Adagrad"] < 1e-10 * rot["Adagrad"] and ali["RMSprop"] < 1e-10 * rot["RMSprop"]
    assert ali["Adam"] > rot["Adam"]                                 # 2.4e-8 vs 5.5e-9: no gain from alignment


# ---------------------------------------------------------------- OPT-06

def test_opt06_rmsprop_step_by_hand_and_against_optim():
    w, g, s = np.array([1.0, -2.0]), np.array([0.5, -3.0]), np.array([0.2, 0.0])
    w_new, s_new = E.rmsprop_step(w, g, s, lr=0.1, alpha=0.9, eps=1e-8)
    want_s = np.array([0.9 * 0.2 + 0.1 * 0.25, 0.1 * 9.0])
    np.testing.assert_allclose(s_new, want_s, rtol=1e-12)
    np.testing.assert_allclose(w_new, w - 0.1 * g / (np.sqrt(want_s) + 1e-8), rtol=1e-12)
    ours = E.run_rule(E.rmsprop_step, ROTATED.gradient, X0, 50, lr=0.01, alpha=0.9)
    torch_like = E.descend(lambda ps: optim.RMSprop(ps, lr=0.01, alpha=0.9), ROTATED.gradient, X0, 50)
    np.testing.assert_allclose(ours, torch_like, rtol=1e-12, atol=1e-12)


def test_opt06_rmsprop_is_scale_free_the_gradient_average_version_is_not():
    paths = {c: E.run_rule(E.rmsprop_step, lambda x, c=c: c * x, [3.0], 30, lr=0.1) for c in (1.0, 100.0)}
    assert np.abs(paths[1.0] - paths[100.0]).max() < 1e-6
    copied = {c: E.run_rule(E.gradient_average_rmsprop_step, lambda x, c=c: c * x, [3.0], 30, lr=0.1)
              for c in (1.0, 100.0)}
    first = {c: 3.0 - copied[c][1, 0] for c in copied}
    assert first[1.0] == pytest.approx(0.1 * 3.0 / math.sqrt(0.3 + 1e-8), rel=1e-9)  # lr·g/√(0.1·g + ε)
    assert first[100.0] / first[1.0] == pytest.approx(10.0, rel=1e-6)  # √100
    assert copied[100.0][1, 0] < 0  # jumps across the minimum


def test_opt06_gradient_average_version_nan_at_first_negative_gradient():
    stream = E.gradient_stream([1.0], steps=1000, rng=1)
    assert stream[0, 0] < 0  # the claim "at the very first step" depends on this draw
    draws = iter(stream)
    copied = E.run_rule(E.gradient_average_rmsprop_step, lambda x: next(draws), [0.0], 1000, lr=0.01)
    assert np.isnan(copied[1, 0])
    draws = iter(stream)
    good = E.run_rule(E.rmsprop_step, lambda x: next(draws), [0.0], 1000, lr=0.01)
    assert np.isfinite(good).all()


def test_opt06_gradient_average_version_goes_nan_on_every_stream_not_always_at_the_first_negative():
    """Over 20 sign streams: NaN in every one within 26 steps; at the first negative gradient in about half."""
    first_nan, at_first_negative = [], []
    for seed in range(20):
        stream = E.gradient_stream([1.0], steps=100, rng=seed)
        draws = iter(stream)
        path = E.run_rule(E.gradient_average_rmsprop_step, lambda x, d=draws: next(d), [0.0], 100, lr=0.01)
        nan = np.isnan(path[:, 0])
        first_nan.append(int(np.argmax(nan)) if nan.any() else None)
        at_first_negative.append(first_nan[-1] == int(np.argmax(stream[:, 0] < 0)) + 1)
    assert all(k is not None and k <= 30 for k in first_nan)          # measured: every stream, by step 26
    assert 0.3 <= np.mean(at_first_negative) <= 0.8                    # measured 0.55


def test_opt04_adaptive_step_lengths_similar_over_20_streams():
    """Mean |step| on the |g| = 1 coordinate over that on |g| = 0.01, last 100 of 1000 steps, 20 streams:
    exactly 1 for Adagrad and RMSprop, between 0.64 and 2.12 for Adam."""
    adam = []
    for seed in range(20):
        stream = E.gradient_stream([1.0, 0.01], steps=1000, rng=seed)
        for name, make in {"adagrad": lambda ps: optim.Adagrad(ps, lr=0.01),
                           "rmsprop": lambda ps: optim.RMSprop(ps, lr=0.01)}.items():
            steps = np.abs(E.effective_rates(make, stream) * stream)[-100:].mean(axis=0)
            assert steps[0] / steps[1] == pytest.approx(1.0, abs=0.01), name
        steps = np.abs(E.effective_rates(lambda ps: optim.Adam(ps, lr=0.01), stream) * stream)[-100:].mean(axis=0)
        adam.append(steps[0] / steps[1])
    assert 0.4 < min(adam) and max(adam) < 2.5 and 0.7 < np.median(adam) < 1.4


# ---------------------------------------------------------------- OPT-07

def test_opt07_adam_update_matches_optim_adam():
    rng = np.random.default_rng(4)
    grads = rng.standard_normal((50, 3))
    w, m, v = np.zeros(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(grads, start=1):
        w, m, v = E.adam_update(w, g, m, v, t, lr=0.05)
    draws = iter(grads)
    adam = E.descend(lambda ps: optim.Adam(ps, lr=0.05), lambda x: next(draws), np.zeros(3), 50)
    np.testing.assert_allclose(w, adam[-1], rtol=1e-12, atol=1e-14)


def test_opt07_bias_correction_ratios_exact():
    sizes = E.adam_step_sizes(steps=3000, lr=1.0)
    r = {name: s / sizes["corrected"] for name, s in sizes.items()}
    np.testing.assert_allclose(sizes["corrected"], 1.0, rtol=1e-7)  # |g|/(|g| + ε)
    t = np.arange(1, 3001)
    np.testing.assert_allclose(r["no m correction"], 1 - 0.9**t, rtol=1e-6)
    np.testing.assert_allclose(r["no v correction"], 1 / np.sqrt(1 - 0.999**t), rtol=1e-6)
    np.testing.assert_allclose(r["no correction"], (1 - 0.9**t) / np.sqrt(1 - 0.999**t), rtol=1e-6)
    assert r["no m correction"][0] == pytest.approx(0.1, rel=1e-6)          # 10x too small
    assert r["no v correction"][0] == pytest.approx(31.6228, rel=1e-4)
    assert r["no correction"][0] == pytest.approx(0.1 / math.sqrt(0.001), rel=1e-6)  # 3.16x too large
    assert r["no correction"][9] == pytest.approx(6.53, abs=0.01)
    assert r["no correction"][999] == pytest.approx(1.258, abs=0.001)


def test_opt07_first_step_is_lr_whatever_the_scale_and_t0_refused():
    w0, g = np.array([1.0, -1.0]), np.array([0.5, 20.0])
    w1, _, _ = E.adam_update(w0, g, np.zeros(2), np.zeros(2), t=1, lr=0.1)
    np.testing.assert_allclose(w1 - w0, [-0.1, -0.1], rtol=1e-6)
    with pytest.raises(ValueError, match="counted from 1"):
        E.adam_update(np.zeros(2), np.ones(2), np.zeros(2), np.zeros(2), t=0)


def test_opt07_adam_path_scale_free_sgd_not():
    banana = LS.Rosenbrock()
    ref = E.descend(lambda ps: optim.Adam(ps, lr=0.05), banana.gradient, banana.start, 500)
    for c in (1e-3, 1e3):
        scaled = lambda x, c=c: c * banana.gradient(x)
        adam = E.descend(lambda ps: optim.Adam(ps, lr=0.05), scaled, banana.start, 500)
        assert np.abs(adam - ref).max() < 1e-5
    big = E.descend(lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9), lambda x: 1e3 * banana.gradient(x),
                    banana.start, 500)
    small = E.descend(lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9), lambda x: 1e-3 * banana.gradient(x),
                      banana.start, 500)
    assert not np.isfinite(big[-1]).all()
    assert np.linalg.norm(small[-1] - banana.start) < 0.2


# ---------------------------------------------------------------- OPT-08

def test_opt08_adadelta_first_step_set_by_eps():
    for g in (0.01, 1.0, 100.0):
        first = -E.descend(lambda ps: optim.Adadelta(ps), lambda x, g=g: np.array([g]), [0.0], 1)[1, 0]
        assert first == pytest.approx(math.sqrt(1e-6) / math.sqrt(0.1 * g * g + 1e-6) * g, rel=1e-9)
        assert 0.0029 < first < math.sqrt(1e-6 / 0.1) + 1e-12
    # ... only for |g| much larger than √(ε/(1−ρ)) ≈ 0.003: a tiny gradient's first step is about |g|
    tiny = -E.descend(lambda ps: optim.Adadelta(ps), lambda x: np.array([1e-4]), [0.0], 1)[1, 0]
    assert tiny == pytest.approx(1e-4, rel=1e-3)


def test_opt08_adadelta_steps_grow_and_scale_barely_matters():
    xs = E.descend(lambda ps: optim.Adadelta(ps), lambda x: x, [100.0], 400)[:, 0]
    steps = np.abs(np.diff(xs))
    assert steps[-1] > 2 * steps[0]
    xs_big = E.descend(lambda ps: optim.Adadelta(ps, eps=1e-4), lambda x: x, [100.0], 400)[:, 0]
    eps_big = np.abs(np.diff(xs_big))
    assert eps_big[0] > 5 * steps[0]
    a = E.descend(lambda ps: optim.Adadelta(ps), lambda x: x, [3.0], 2000)[:, 0]
    b = E.descend(lambda ps: optim.Adadelta(ps), lambda x: 1000 * x, [3.0], 2000)[:, 0]
    assert np.abs(a - b)[:800].max() < 1e-4 and np.abs(a - b).max() < 0.05


# ---------------------------------------------------------------- OPT-09

def test_opt09_adagrad_learns_rare_features_sgd_does_not():
    race = E.sparse_feature_race({"sgd": lambda ps: optim.SGD(ps, lr=0.5),
                                  "adagrad": lambda ps: optim.Adagrad(ps, lr=0.5),
                                  "sgd1": lambda ps: optim.SGD(ps, lr=1.0)}, epochs=3, rng=0)
    assert race.frequency[0] == 1.0 and race.frequency[-1] == pytest.approx(0.01)
    assert race.errors["sgd1"][-1].max() > 1e6                # lr 1.0 diverges
    np.testing.assert_allclose(race.rates["sgd"], 0.5)           # SGD: the same rate everywhere
    rates = race.rates["adagrad"]
    assert rates[-1] > 5 * rates[0]
    assert race.errors["sgd"][-1, -1] > 0.1 and race.errors["adagrad"][-1, -1] < 1e-3
    assert race.errors["adagrad"][-1].max() < 1e-3


def test_opt09_adagrad_wins_on_the_rarest_feature_over_20_data_draws():
    """Rates over 20 draws: Adagrad below SGD on the rarest feature in every draw (factor 8-5600, median ~200),
    largest Adagrad error < 0.05, rarest/frequent effective-rate ratio 7-110 (median ~20)."""
    wins, factors, worst, ratios = [], [], [], []
    for seed in range(20):
        race = E.sparse_feature_race({"sgd": lambda ps: optim.SGD(ps, lr=0.5),
                                      "adagrad": lambda ps: optim.Adagrad(ps, lr=0.5)}, epochs=3, rng=seed)
        sgd, ada = race.errors["sgd"][-1], race.errors["adagrad"][-1]
        wins.append(ada[-1] < sgd[-1])
        factors.append(sgd[-1] / max(ada[-1], 1e-300))
        worst.append(ada.max())
        ratios.append(race.rates["adagrad"][-1] / race.rates["adagrad"][0])
    assert np.mean(wins) >= 0.9                               # measured 20/20
    assert 50 < np.median(factors) < 1000 and min(factors) > 3
    assert np.mean(np.array(worst) < 0.05) >= 0.9             # measured 20/20
    assert 10 < np.median(ratios) < 40 and min(ratios) > 5


def test_opt09_sgd_lr_0_5_is_the_largest_stable_of_the_sweep():
    race = E.sparse_feature_race({f"{lr}": lambda ps, lr=lr: optim.SGD(ps, lr=lr) for lr in (0.1, 0.3, 0.5)},
                                 epochs=3, rng=0)
    finals = {lr: race.errors[lr][-1].mean() for lr in race.errors}
    assert finals["0.5"] < finals["0.3"] < finals["0.1"]


# ---------------------------------------------------------------- OPT-10

def test_opt10_amsgrad_counterexample():
    adam = E.amsgrad_counterexample(C=3.0, steps=3000, alpha=0.5, amsgrad=False)
    ams = E.amsgrad_counterexample(C=3.0, steps=3000, alpha=0.5, amsgrad=True)
    assert adam["x"][-1] > 0.95 and ams["x"][-1] < -0.95
    assert adam["average_regret"][-1] > 0.5 and ams["average_regret"][-1] < 0.05


def test_opt10_counterexample_matches_an_independent_adam():
    C, alpha, b2 = 3.0, 0.5, 1 / 10
    x, v, xs = 0.0, 0.0, [0.0]
    for t in range(1, 301):
        g = C if t % 3 == 1 else -1.0
        v = b2 * v + (1 - b2) * g * g
        x = float(np.clip(x - alpha / math.sqrt(t) * g / (math.sqrt(v / (1 - b2**t)) + 1e-8), -1, 1))
        xs.append(x)
    np.testing.assert_allclose(E.amsgrad_counterexample(C=C, steps=300, alpha=alpha)["x"], xs, atol=1e-12)


def test_opt10_adamw_decays_both_equally_adam_l2_does_not():
    decay = E.decoupled_decay(scales=(10.0, 0.1), steps=2000, lr=0.01, weight_decay=0.1)
    w = decay["AdamW"][-1]
    assert w[0] == pytest.approx(w[1], rel=1e-6)
    assert w[0] == pytest.approx(0.999**2000, rel=0.03)  # (1 − γλ)ᵗ ≈ 0.135
    w = decay["Adam + L2"][-1]
    assert w[0] > 0.7 and w[1] < 1e-3


# ---------------------------------------------------------------- OPT-11

@pytest.mark.parametrize("kappa", [10.0, 1000.0, 1e6])
def test_opt11_newton_one_step_on_a_quadratic(kappa):
    q = LS.Quadratic(condition_number=kappa, angle=0.4)
    assert LS.run(LS.newton_factory(), q, steps=1).distance_to_nearest_minimum() < 1e-8


def test_opt11_second_order_race_table():
    table = E.second_order_race()
    # one stopping rule for every row: the first iterate within 1e-6 of (1, 1), SciPy's included
    assert all(run.distance <= 1e-6 for run in table.values()), {k: r.distance for k, r in table.items()}
    assert table["Newton"].iterations == 6
    assert 25 <= table["L-BFGS"].iterations <= 50 and 25 <= table["BFGS"].iterations <= 50
    assert table["GD + momentum"].iterations > 1000 and table["Adam"].iterations > 1000


def test_opt11_quasi_newton_rows_are_counted_by_the_shared_rule_not_scipys():
    """The row's iterate is the first within tol along SciPy's own path, recomputed here by a callback."""
    from scipy.optimize import minimize

    banana = LS.Rosenbrock()
    table = E.second_order_race()
    for method, name in (("L-BFGS-B", "L-BFGS"), ("BFGS", "BFGS")):
        points = [np.array(banana.start)]
        minimize(banana.value, banana.start, jac=banana.gradient, method=method,
                 callback=lambda xk, *_, points=points: points.append(np.array(xk)),
                 options={"gtol": 1e-14, "ftol": 1e-20} if method == "L-BFGS-B" else {"gtol": 1e-14})
        distances = [np.linalg.norm(p - np.ones(2)) for p in points]
        first = next(k for k, d in enumerate(distances) if d <= 1e-6)
        assert table[name].iterations == first
        assert distances[first - 1] > 1e-6


def test_opt11_newton_goes_to_saddle_and_maximum():
    beale, himmelblau = LS.Beale(), LS.Himmelblau()
    end = LS.run(LS.newton_factory(), beale, steps=20).final
    np.testing.assert_allclose(end, [0.0, 1.0], atol=1e-9)
    eig = np.linalg.eigvalsh(beale.hessian(end))
    assert eig[0] < 0 < eig[1]
    end = LS.run(LS.newton_factory(), himmelblau, steps=20).final
    np.testing.assert_allclose(end, himmelblau.maxima[0], atol=1e-9)
    assert (np.linalg.eigvalsh(himmelblau.hessian(end)) < 0).all()
    gd = LS.run(lambda ps: optim.SGD(ps, lr=0.01), himmelblau, steps=500)
    assert gd.distance_to_nearest_minimum() < 1e-9


# ---------------------------------------------------------------- OPT-12

def test_opt12_norm_clipping_keeps_direction_value_clipping_does_not():
    g1, g2 = np.array([8.0, -0.5, 0.2, 3.0, -0.1]), np.array([0.05, -0.3, 12.0])
    layers = [Parameter(np.zeros(5), name="a"), Parameter(np.zeros(3), name="b")]
    layers[0].grad, layers[1].grad = g1, g2
    original = np.concatenate([g1, g2])
    R.clip_grad_norm(layers, max_norm=1.0)
    by_norm = np.concatenate([p.grad for p in layers])
    assert E.cosine(by_norm, original) == pytest.approx(1.0, abs=1e-12)
    assert np.linalg.norm(by_norm) == pytest.approx(1.0, abs=1e-6)
    layers[0].grad, layers[1].grad = g1, g2
    R.clip_grad_value(layers, clip_value=1.0)
    by_value = np.concatenate([p.grad for p in layers])
    want = np.array([1.0, -0.5, 0.2, 1.0, -0.1, 0.05, -0.3, 1.0])
    np.testing.assert_array_equal(by_value, want)
    cos = want @ original / (np.linalg.norm(want) * np.linalg.norm(original))
    assert E.cosine(by_value, original) == pytest.approx(cos) and cos < 0.9


def test_opt12_clipping_never_enlarges_a_small_gradient():
    small = [Parameter(np.zeros(3), name="deep")]
    tiny = np.array([1e-7, -3e-8, 2e-7])
    small[0].grad = tiny
    R.clip_grad_norm(small, max_norm=1.0)
    np.testing.assert_array_equal(small[0].grad, tiny)
    np.testing.assert_array_equal(E.clip_by_norm(tiny, 1.0), tiny)


def test_opt12_exploding_step_tamed_by_clipping():
    banana, wall = LS.Rosenbrock(), np.array([-2.0, -1.0])
    assert np.linalg.norm(banana.gradient(wall)) == pytest.approx(math.hypot(4006.0, 1000.0))
    plain = LS.run(lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9), banana, wall, 1000)
    make = lambda ps: E.Clipped(optim.SGD(ps, lr=1e-3, momentum=0.9), max_norm=10.0)
    clipped = LS.run(make, banana, wall, 1000)
    assert plain.diverged and plain.steps_taken < 10
    assert not clipped.diverged and clipped.distance_to_nearest_minimum() < 0.02
    assert np.linalg.norm(clipped.points[1] - wall) <= 1e-3 * 10.0 + 1e-12  # first step ≤ lr · max_norm
    # with momentum the clipped gradients add up in the buffer: later steps exceed γc but never γc/(1 − μ)
    steps = np.linalg.norm(np.diff(clipped.points, axis=0), axis=1)
    assert 5 * 1e-3 * 10.0 < steps.max() <= 1e-3 * 10.0 / (1 - 0.9) + 1e-12


def test_opt12_clip_by_norm_and_value_examples():
    np.testing.assert_allclose(E.clip_by_norm([3.0, 4.0], 1.0), [0.6, 0.8])
    np.testing.assert_allclose(E.clip_by_value([3.0, 4.0], 1.0), [1.0, 1.0])
    np.testing.assert_array_equal(E.clip_by_norm(np.zeros(3), 1.0), np.zeros(3))


# ---------------------------------------------------------------- the experiments module: contracts

def test_clipped_records_norms_and_forwards_lr():
    p = Parameter(np.zeros(2), name="p")
    opt = E.Clipped(optim.SGD([p], lr=0.1), clip_value=0.5)
    p.grad = np.array([3.0, -0.2])
    opt.step()
    np.testing.assert_allclose(p.value, [-0.05, 0.02])
    assert opt.norms == [pytest.approx(math.hypot(3.0, 0.2))]
    opt.lr = 0.3
    assert opt.optimizer.lr == 0.3


def test_descend_schedule_and_projection():
    points = E.descend(lambda ps: optim.SGD(ps, lr=1.0), lambda x: np.ones(1), [0.0], 3, lrs=[0.5, 1.0, 2.0],
                       project=lambda x: np.clip(x, -2.0, 0.0))
    np.testing.assert_allclose(points[:, 0], [0.0, -0.5, -1.5, -2.0])


@pytest.mark.parametrize("call, match", [
    (lambda: E.momentum_rate(0.1, 0.5, [-1.0]), "eigenvalues"),
    (lambda: E.momentum_rate(0.1, 1.0, [1.0]), "beta"),
    (lambda: E.optimal_momentum(1.0, 2.0), "mu"),
    (lambda: E.best_rate_for_momentum(1.2, [1.0, 2.0]), "beta"),
    (lambda: E.nesterov_forms(lambda x: x, [1.0], 0.1, 0.0, 3), "momentum"),
    (lambda: E.momentum_forms(lambda x: x, [1.0], 0.1, 1.5, 3), "momentum"),
    (lambda: E.descend(lambda ps: optim.SGD(ps, lr=0.1), lambda x: x, [1.0], 3, lrs=[0.1]), "lrs"),
    (lambda: E.amsgrad_counterexample(C=2.0), "C"),
    (lambda: E.race_data("bowl"), "landscape"),
    (lambda: E.optimizer_factory("SGDW"), "name"),
    (lambda: E.Clipped(optim.SGD([Parameter(np.zeros(1))], lr=0.1)), "exactly one"),
    (lambda: E.rate_map_data(kappa=0.5), "condition_number"),
    (lambda: E.steps_to_reduce(-0.5), "rate"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_steps_to_reduce_diverging_rate_is_infinite():
    assert E.steps_to_reduce(1.0) == math.inf


def test_rate_map_rows_are_momentum_columns_are_lr():
    alphas, betas = np.array([0.001, 0.01, 0.03]), np.array([0.0, 0.9])
    grid = E.rate_map([1.0, 100.0], alphas, betas)
    assert grid.shape == (2, 3)
    for i, beta in enumerate(betas):
        for j, alpha in enumerate(alphas):
            assert grid[i, j] == pytest.approx(_eig_rate(alpha, beta, [1.0, 100.0]), abs=1e-7)


# ---------------------------------------------------------------- OPT-07c: sign methods

def test_sign_rules_by_hand_and_their_state():
    w = Parameter(np.array([1.0, -2.0, 0.5]), name="w")
    opt = optim.SignSGD([w], lr=0.1)
    w.grad = np.array([3.0, -0.001, 0.0])
    opt.step()
    np.testing.assert_allclose(w.value, [0.9, -1.9, 0.5])
    lion = Parameter(np.zeros(2), name="w")
    rule = optim.Lion([lion], lr=0.1, betas=(0.9, 0.99))
    lion.grad = np.array([2.0, -1.0])
    rule.step()                                               # m = 0: sign(0.1 g) = sign(g)
    np.testing.assert_allclose(lion.value, [-0.1, 0.1])
    lion.grad = np.array([-1.0, -1.0])
    rule.step()                                               # m = 0.01 g1; c = 0.9 m + 0.1 g2
    c = 0.9 * 0.01 * np.array([2.0, -1.0]) + 0.1 * np.array([-1.0, -1.0])
    np.testing.assert_allclose(lion.value, [-0.1, 0.1] - 0.1 * np.sign(c))
    floats = {name: E.state_floats_per_entry(lambda p, f=f: f(p, 0.01)) for name, f in E.SIGN_RULES.items()}
    assert floats == {"SGD": 0, "signSGD": 0, "Lion": 1}
    assert E.state_floats_per_entry(lambda p: optim.Adam(p)) == 2


def test_sign_agreement_rises_with_batch_size_and_falls_near_the_minimum():
    # Notebook OPT-07c: 0.55 / 0.96 at the start (batch 1 / 512), 0.51 / 0.89 near the minimum.
    X, y, _ = E.noisy_regression(n=1000, d=20, noise=1.0, rng=0)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    start = [E.sign_agreement(X, y, np.zeros(20), b, rng=0) for b in (1, 8, 64, 512)]
    near = [E.sign_agreement(X, y, 0.9 * w_star, b, rng=0) for b in (1, 8, 64, 512)]
    assert np.all(np.diff(start) > 0) and np.all(np.diff(near) > 0)
    assert np.all(np.array(near) < np.array(start))
    np.testing.assert_allclose([start[0], start[-1], near[0], near[-1]], [0.55, 0.96, 0.51, 0.89], atol=0.03)


def test_tuned_sign_sgd_loses_to_tuned_sgd_on_isotropic_least_squares():
    # Notebook OPT-07c: same grid, steps, batch 64; over 20 seeds signSGD ends about 11x above SGD (20 of 20).
    X, y, _ = E.noisy_regression(n=1000, d=20, noise=1.0, rng=0)
    race = E.sign_race(X, y, 64, lrs=(0.003, 0.01, 0.03, 0.1), steps=200, seeds=range(20))
    sgd, sign, lion = (race[name][1] for name in ("SGD", "signSGD", "Lion"))
    assert all(race[name][0] in (0.01, 0.03) for name in race)          # tuned rates inside the grid
    assert np.sum(sign > sgd) == 20                                     # "20 of 20 seeds"
    assert 9 < np.median(sign / sgd) < 14                               # "about 11" (OPT-07c): 11.1
    assert np.median(lion) > np.median(sign)


# ---------------------------------------------------------------- OPT-11c: natural gradient, Fisher, Adam's v

def test_logistic_fisher_is_the_hessian_and_the_gradient_matches_differences():
    X, y = E.logistic_problem(n=50, rng=1)
    w = np.array([0.3, -0.2])
    g = E.logistic_gradient(w, X, y)
    num = np.array([(E.logistic_loss(w + h, X, y) - E.logistic_loss(w - h, X, y)) / 2e-6
                    for h in np.eye(2) * 1e-6])
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-9)
    hess = np.array([(E.logistic_gradient(w + h, X, y) - E.logistic_gradient(w - h, X, y)) / 2e-6
                     for h in np.eye(2) * 1e-6])
    np.testing.assert_allclose(E.fisher(w, X), hess, rtol=1e-5)
    G = E.per_example_gradients(w, X, y)
    np.testing.assert_allclose(G.mean(axis=0), g)
    np.testing.assert_allclose(E.empirical_fisher_diagonal(w, X, y), np.diag(G.T @ G) / len(y))


def _natural_and_best_gd_steps(seed):
    """Steps to the minimum + 1e-4: natural gradient, and GD at each rate of the grid."""
    X, y = E.logistic_problem(n=500, scales=(1.0, 10.0), rng=seed)
    w_opt = minimize(lambda w: E.logistic_loss(w, X, y), np.zeros(2), jac=lambda w: E.logistic_gradient(w, X, y),
                     method="BFGS", options={"gtol": 1e-10}).x
    target = E.logistic_loss(w_opt, X, y) + 1e-4
    natural = E.steps_to_loss(lambda w: w - np.linalg.solve(E.fisher(w, X), E.logistic_gradient(w, X, y)),
                              np.zeros(2), X, y, target)
    gd = {lr: E.steps_to_loss(lambda w, lr=lr: w - lr * E.logistic_gradient(w, X, y), np.zeros(2), X, y,
                              target, max_steps=1000) for lr in (0.01, 0.02, 0.05, 0.1, 0.2)}
    return natural, gd


def test_natural_gradient_needs_a_few_steps_where_tuned_gd_needs_hundreds():
    # Notebook OPT-11c, 20 data sets: natural gradient 2-3 steps, GD with its best rate 190-261.
    for seed in range(20):
        natural, gd = _natural_and_best_gd_steps(seed)
        assert natural <= 3
        assert 150 <= min(gd.values()) <= 300 and min(gd, key=gd.get) == 0.1      # best rate inside the grid


def test_adams_v_tracks_the_empirical_fisher_diagonal_only_per_example():
    # Notebook OPT-11c, 20 data sets: batch 1 within 10 % in every coordinate; batch 32 near diag/32 + g^2.
    within = 0
    for seed in range(20):
        X, y = E.logistic_problem(n=500, scales=(1.0, 10.0), rng=seed)
        w = np.linalg.lstsq(X, 2 * y - 1, rcond=None)[0]          # some point that is not a minimum
        diag = E.empirical_fisher_diagonal(w, X, y)
        g = E.logistic_gradient(w, X, y)
        v1 = E.adam_second_moment(w, X, y, 1, steps=3000, rng=seed)
        within += np.all(np.abs(v1 / diag - 1) < 0.10)
        v32 = E.adam_second_moment(w, X, y, 32, steps=3000, rng=seed)
        predicted = diag / 32 + (1 - 1 / 32) * g ** 2             # sampling without replacement: about this
        np.testing.assert_allclose(v32, predicted, rtol=0.15)
    assert within >= 18


# ---------------------------------------------------------------- OPT-11e: quasi-Newton

def test_two_loop_recursion_equals_dense_bfgs_and_scipy():
    rng = np.random.default_rng(0)
    for d, m in ((8, 5), (20, 20), (5, 1)):
        A = rng.standard_normal((d, d))
        A = A @ A.T + np.eye(d)
        S = [rng.standard_normal(d) for _ in range(m)]
        Y = [A @ s for s in S]
        g = rng.standard_normal(d)
        for gamma in (None, 0.3):
            used = S[-1] @ Y[-1] / (Y[-1] @ Y[-1]) if gamma is None else gamma
            H = used * np.eye(d)
            for s, y in zip(S, Y, strict=True):
                H = E.bfgs_inverse_update(H, s, y)
            np.testing.assert_allclose(E.lbfgs_two_loop(g, S, Y, gamma=gamma), H @ g, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(E.lbfgs_two_loop(g, S, Y, gamma=1.0),
                                   LbfgsInvHessProduct(np.array(S), np.array(Y)).matvec(g), rtol=1e-10, atol=1e-10)


def test_bfgs_update_satisfies_the_secant_equation_and_checks_curvature():
    rng = np.random.default_rng(1)
    s, y = rng.standard_normal(4), rng.standard_normal(4)
    y = y if s @ y > 0 else -y
    H = E.bfgs_inverse_update(np.eye(4), s, y)
    np.testing.assert_allclose(H @ y, s, atol=1e-12)             # H+ y = s
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    with pytest.raises(ValueError, match="s, y"):
        E.bfgs_inverse_update(np.eye(4), s, -y)
    assert E.quasi_newton_costs(100, 10)["L-BFGS"] == {"time": 4000, "memory": 2000}


# ---------------------------------------------------------------- OPT-12b: adaptive gradient clipping

def test_adaptive_clip_by_hand():
    w = np.array([[3.0, 0.0], [4.0, 0.0]])                       # unit norms 5 and 0 (eps 1e-3 applies)
    g = np.array([[0.3, 0.0], [0.4, 2e-5]])                      # unit ratios 0.1 and 0.02
    clipped = E.adaptive_clip(w, g, clipping=0.05, eps=1e-3)
    np.testing.assert_allclose(clipped[:, 0], g[:, 0] * 0.5)     # 0.1 > 0.05: scaled to ratio 0.05
    np.testing.assert_allclose(clipped[:, 1], g[:, 1])           # 0.02 <= 0.05: unchanged
    np.testing.assert_allclose(E.unit_ratios(w, clipped, eps=1e-3), [0.05, 0.02])
    np.testing.assert_allclose(E.adaptive_clip(np.array([2.0, 0.0]), np.array([1.0, 1.0]), 0.1),
                               [0.2, 1e-4])                      # 1-D: per entry, eps for the zero entry
    with pytest.raises(ValueError, match="g"):
        E.adaptive_clip(w, g[:1], 0.1)


def test_spike_illustration_global_clipping_scales_everything_agc_only_the_outliers():
    demo = E.spike_demo(spike=50.0, clipping=1.0, max_norm=5.0, rng=0)
    for method in ("raw", "global norm", "AGC"):
        assert all(changed == 0 for _, changed in demo["normal batch"][method])
    assert all(changed == 1.0 for _, changed in demo["spiked batch"]["global norm"])
    agc = demo["spiked batch"]["AGC"]
    assert all(ratio == pytest.approx(1.0) and 0 < changed < 1 for ratio, changed in agc)
    assert max(ratio for ratio, _ in demo["spiked batch"]["global norm"]) > 1.0
