"""Computations behind notebook 03 (optimizers) and its explorers.

Every function here is pure (random ones take ``rng``), so the notebook, the
explorers of :mod:`gdcourse.widgets.optimizers`, the checks of
:mod:`gdcourse.check.optimizers` and ``tests/test_nb03_claims.py`` run the same code.

Sections: running a rule on any gradient; the textbook forms of momentum and
Nesterov; the convergence rate of momentum on a quadratic (Polyak, 1964; Goh,
"Why Momentum Really Works", Distill 2017); reference update rules for the
exercises; adaptive learning rates; Adam's bias correction; AMSGrad's
counterexample; decoupled weight decay; sparse features; second-order methods;
clipping; the optimizer race; optimizer state.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from gdcourse import landscapes as LS
from gdcourse import optim
from gdcourse import regularization as R
from gdcourse.data import batch_indices, make_sparse_features
from gdcourse.nn.module import Parameter
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int, check_unit_interval

__all__ = [
    "descend", "run_rule", "momentum_forms", "nesterov_forms",
    "momentum_rate", "rate_map", "optimal_momentum", "best_rate_for_momentum", "steps_to_reduce",
    "heavy_ball_lr_limit", "nesterov_lr_limit", "RateMapData", "rate_map_data",
    "momentum_step", "adam_update", "clip_by_norm", "clip_by_value", "cosine", "rmsprop_step",
    "seed_rmsprop_step",
    "gradient_stream", "effective_rates", "adam_step_sizes",
    "amsgrad_counterexample", "decoupled_decay",
    "SparseRace", "sparse_feature_race",
    "SecondOrderRun", "second_order_race",
    "Clipped",
    "RACE_OPTIMIZERS", "RACE_LANDSCAPES", "RACE_PRESETS", "race_landscape", "optimizer_factory", "race",
    "RaceData", "race_data",
    "state_floats_per_entry",
]


# ---------------------------------------------------------------- running a rule on any gradient

def descend(optimizer_factory, gradient, x0, steps, lrs=None, project=None) -> np.ndarray:
    """Run a :mod:`gdcourse.optim` rule on ``gradient`` and return the points it visits.

    Parameters
    ----------
    optimizer_factory : callable ``params -> optimizer``
    gradient : callable ``x (d,) -> g (d,)``
    x0 : array-like (d,)
    steps : int
    lrs : array-like (steps,), optional
        Sets ``optimizer.lr`` before each step (a schedule).
    project : callable ``x -> x``, optional
        Applied after each step (projected gradient descent, e.g. ``np.clip``).

    Returns
    -------
    ndarray (steps + 1, d)
        ``points[0] = x0`` and ``points[t]`` after t steps.
    """
    x0 = check_array(x0, "x0", ndim=1, float_only=False, finite=True).astype(np.float64)
    steps = check_positive_int(steps, "steps", allow_zero=True)
    lrs = _check_lrs(lrs, steps)
    param = Parameter(x0.copy(), name="x")
    optimizer = optimizer_factory([param])
    points = np.empty((steps + 1, x0.size))
    points[0] = x0
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run shows as inf/NaN rows
        for t in range(steps):
            if lrs is not None:
                optimizer.lr = float(lrs[t])
            param.grad = gradient(param.value.copy())
            optimizer.step()
            if project is not None:
                param.value = project(param.value.copy())
            points[t + 1] = param.value
    return points


def run_rule(step, gradient, x0, steps, **hyper) -> np.ndarray:
    """Iterate a functional rule ``step(w, g, state, **hyper) -> (w, state)`` (state starts at zeros).

    For the one-function rules of this module (:func:`rmsprop_step`,
    :func:`seed_rmsprop_step`). Returns the points ``(steps + 1, d)``; NaN rows
    show where the rule broke down.
    """
    w = check_array(x0, "x0", ndim=1, float_only=False, finite=True).astype(np.float64)
    steps = check_positive_int(steps, "steps", allow_zero=True)
    state = np.zeros_like(w)
    points = [w]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            w, state = step(w, gradient(w), state, **hyper)
            points.append(w)
    return np.array(points)


def _check_lrs(lrs, steps):
    if lrs is None:
        return None
    lrs = check_array(lrs, "lrs", ndim=1, float_only=False, finite=True)
    if lrs.shape != (steps,) or (lrs < 0).any():
        raise ValueError(f"lrs: expected {steps} non-negative learning rates (one per step), "
                         f"got shape {lrs.shape} with minimum {lrs.min() if lrs.size else None}")
    return lrs


def _lr_sequence(lr, steps):
    """A float or a (steps,) array -> (steps,) float array."""
    if isinstance(lr, numbers.Real):
        return np.full(steps, check_positive(lr, "lr"))
    return _check_lrs(lr, steps)


# ---------------------------------------------------------------- the textbook forms of momentum

def momentum_forms(gradient, x0, lr, momentum, steps) -> dict:
    """The three textbook forms of heavy-ball momentum (Polyak, 1964), run side by side.

    ``"pytorch"`` (``optim.SGD``)::

        b ← μ b + g;   θ ← θ − γ b

    ``"velocity"`` (Sutskever et al., 2013; seed 000#12; seed 000#2 with v's sign flipped)::

        v ← μ v − γ g;   θ ← θ + v

    ``"ema"`` (an exponential moving average; seed 001#30), with ``α = γ / (1 − μ)``::

        v ← μ v + (1 − μ) g;   θ ← θ − α v

    All buffers start at zero. With a constant γ the three paths are the same
    (``v_velocity = −γ b`` and ``v_ema = (1 − μ) b``); with a schedule
    (``lr`` an array) they differ, because the velocity form keeps the old γ in
    its buffer.

    Parameters
    ----------
    gradient : callable ``x (d,) -> g (d,)``
    x0 : array-like (d,)
    lr : float or array (steps,)
        γ, PyTorch's learning rate (per step when an array).
    momentum : float in [0, 1)
    steps : int

    Returns
    -------
    dict form name -> ndarray (steps + 1, d)
    """
    mu = check_unit_interval(momentum, "momentum")
    steps = check_positive_int(steps, "steps", allow_zero=True)
    gammas = _lr_sequence(lr, steps)
    x0 = check_array(x0, "x0", ndim=1, float_only=False, finite=True).astype(np.float64)
    pytorch = descend(lambda ps: optim.SGD(ps, lr=float(gammas[0]) if steps else 1.0, momentum=mu),
                      gradient, x0, steps, lrs=gammas)
    return {"pytorch": pytorch, "velocity": _velocity_form(gradient, x0, gammas, mu),
            "ema": _ema_form(gradient, x0, gammas / (1.0 - mu), mu)}


def _velocity_form(gradient, x0, gammas, mu):
    theta, v = x0.copy(), np.zeros_like(x0)
    points = [theta.copy()]
    for gamma in gammas:
        v = mu * v - gamma * gradient(theta)
        theta = theta + v
        points.append(theta.copy())
    return np.array(points)


def _ema_form(gradient, x0, alphas, beta):
    theta, v = x0.copy(), np.zeros_like(x0)
    points = [theta.copy()]
    for alpha in alphas:
        v = beta * v + (1.0 - beta) * gradient(theta)
        theta = theta - alpha * v
        points.append(theta.copy())
    return np.array(points)


def nesterov_forms(gradient, x0, lr, momentum, steps) -> dict:
    """Nesterov momentum in Sutskever et al.'s (2013) form and in PyTorch's form.

    ``"sutskever"`` (the gradient is taken at the look-ahead point θ + μv)::

        v ← μ v − γ ∇f(θ + μ v);   θ ← θ + v

    ``"pytorch"`` (``optim.SGD(nesterov=True)``; the gradient at the current point)::

        b ← μ b + g;   θ ← θ − γ (g + μ b)

    PyTorch's iterate *is* Sutskever's look-ahead point: with ``φ = θ + μv`` the
    first form becomes the second, so ``"pytorch"`` equals ``"lookahead"``
    (``θ + μv`` of the first form) step for step.

    Returns
    -------
    dict ``"sutskever"``, ``"lookahead"``, ``"pytorch"`` -> ndarray (steps + 1, d)
    """
    mu = check_unit_interval(momentum, "momentum")
    gamma = check_positive(lr, "lr")
    steps = check_positive_int(steps, "steps", allow_zero=True)
    x0 = check_array(x0, "x0", ndim=1, float_only=False, finite=True).astype(np.float64)
    if mu == 0:
        raise ValueError("momentum: expected a number in (0, 1) for Nesterov momentum, got 0")
    theta, v = x0.copy(), np.zeros_like(x0)
    thetas, lookaheads = [theta.copy()], [theta.copy()]
    for _ in range(steps):
        v = mu * v - gamma * gradient(theta + mu * v)
        theta = theta + v
        thetas.append(theta.copy())
        lookaheads.append(theta + mu * v)
    pytorch = descend(lambda ps: optim.SGD(ps, lr=gamma, momentum=mu, nesterov=True), gradient, x0, steps)
    return {"sutskever": np.array(thetas), "lookahead": np.array(lookaheads), "pytorch": pytorch}


# ---------------------------------------------------------------- momentum's rate on a quadratic

def momentum_rate(alpha, beta, eigenvalues, nesterov=False) -> np.ndarray:
    """The convergence rate of momentum on a quadratic: ``max_λ ρ(T_λ)``.

    On ``f(x) = ½ xᵀAx`` heavy-ball momentum (PyTorch's SGD with lr α and
    momentum β) acts on each eigen-direction of A (eigenvalue λ) as
    ``(x_{k+1}, x_k) = T_λ (x_k, x_{k-1})`` with::

        heavy ball:  T_λ = [[1 + β − αλ, −β], [1, 0]]
        Nesterov:    T_λ = [[(1 + β)(1 − αλ), −β(1 − αλ)], [1, 0]]

    The error shrinks like ``ρ^k`` where ρ is the largest spectral radius over the
    eigenvalues (Polyak, 1964; Goh, 2017). The eigenvalues of the 2 × 2 matrix are
    the roots of ``z² − tr z + det``, computed exactly (complex square root).
    ρ ≥ 1 means the run does not converge.

    Parameters
    ----------
    alpha, beta : float or arrays that broadcast together, shape (...)
    eigenvalues : array-like (k,) of positive curvatures
    nesterov : bool

    Returns
    -------
    ndarray (...) of rates ρ.
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    beta = np.asarray(beta, dtype=np.float64)
    lam = check_array(eigenvalues, "eigenvalues", ndim=1, float_only=False, finite=True).astype(np.float64)
    if (lam <= 0).any():
        raise ValueError(f"eigenvalues: expected positive curvatures, got {lam}")
    if (alpha < 0).any() or not np.isfinite(alpha).all():
        raise ValueError("alpha: expected finite learning rates >= 0")
    if (beta < 0).any() or (beta >= 1).any():
        raise ValueError("beta: expected momentum values in [0, 1)")
    a, b = alpha[..., None], beta[..., None]
    if nesterov:
        shrink = 1.0 - a * lam
        trace, det = (1.0 + b) * shrink, b * shrink
    else:
        trace, det = 1.0 + b - a * lam, b + 0.0 * lam
    root = np.sqrt((trace * trace - 4.0 * det).astype(np.complex128))
    radius = np.maximum(np.abs(trace + root), np.abs(trace - root)) / 2.0
    return radius.max(axis=-1)


def rate_map(eigenvalues, alphas, betas, nesterov=False) -> np.ndarray:
    """:func:`momentum_rate` on the grid ``alphas (n,) × betas (m,)``; returns shape ``(m, n)`` (rows = β)."""
    alphas = check_array(alphas, "alphas", ndim=1, float_only=False)
    betas = check_array(betas, "betas", ndim=1, float_only=False)
    return momentum_rate(alphas[None, :], betas[:, None], eigenvalues, nesterov)


def optimal_momentum(L, mu) -> tuple[float, float, float]:
    """The best heavy-ball setting on a quadratic with curvatures in ``[mu, L]`` (Polyak, 1964).

    ``α* = (2 / (√L + √μ))²``, ``β* = ((√κ − 1) / (√κ + 1))²`` with ``κ = L / μ``,
    and the rate is ``ρ* = √β* = (√κ − 1) / (√κ + 1)`` (against ``(κ − 1)/(κ + 1)``
    for gradient descent with its best learning rate).

    Returns ``(alpha, beta, rate)``.
    """
    L, mu = check_positive(L, "L"), check_positive(mu, "mu")
    if mu > L:
        raise ValueError(f"mu: expected the smallest curvature, at most L = {L}, got {mu}")
    alpha = (2.0 / (math.sqrt(L) + math.sqrt(mu))) ** 2
    root_kappa = math.sqrt(L / mu)
    rate = (root_kappa - 1.0) / (root_kappa + 1.0)
    return alpha, rate * rate, rate


def heavy_ball_lr_limit(L, beta) -> float:
    """Heavy ball converges on a quadratic exactly when ``0 < α < 2(1 + β)/L``."""
    return 2.0 * (1.0 + check_unit_interval(beta, "beta")) / check_positive(L, "L")


def nesterov_lr_limit(L, beta) -> float:
    """Nesterov converges on a quadratic exactly when ``0 < α < 2(1 + β) / ((1 + 2β) L)``."""
    beta = check_unit_interval(beta, "beta")
    return 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * check_positive(L, "L"))


def best_rate_for_momentum(beta, eigenvalues):
    """``min over α`` of the heavy-ball rate for a fixed momentum β: ``(best_alpha, rate)``.

    Along one eigen-direction the spectral radius, as a function of ``h = αλ``,
    falls while ``h < (1 − √β)²``, equals ``√β`` up to ``h = (1 + √β)²`` and rises
    after, so the worst direction is the flattest (μ) or the steepest (L) one and
    the best α is where their two radii meet; found by bisection to machine precision.

    ``beta`` is a float (returns two floats) or an array ``(...)`` (returns two arrays ``(...)``).
    """
    betas = np.asarray(beta, dtype=np.float64)
    if not np.isfinite(betas).all() or (betas < 0).any() or (betas >= 1).any():
        raise ValueError(f"beta: expected momentum values in [0, 1), got {beta!r}")
    lam = check_array(eigenvalues, "eigenvalues", ndim=1, float_only=False, finite=True)
    flat, steep = float(np.min(lam)), float(np.max(lam))
    low, high = np.zeros_like(betas), 2.0 * (1.0 + betas) / steep
    for _ in range(64):  # r(α, μ) − r(α, L) falls with α: bisect for its zero
        mid = 0.5 * (low + high)
        right = momentum_rate(mid, betas, [flat]) > momentum_rate(mid, betas, [steep])
        low, high = np.where(right, mid, low), np.where(right, high, mid)
    alpha = 0.5 * (low + high)
    rate = momentum_rate(alpha, betas, [flat, steep])
    if np.ndim(beta) == 0:
        return float(alpha), float(rate)
    return alpha, rate


def steps_to_reduce(rate, factor=1e-6) -> float:
    """Steps for an error shrinking like ``rate^k`` to fall by ``factor``: ``log(factor) / log(rate)``."""
    rate = check_positive(rate, "rate")
    factor = check_positive(factor, "factor")
    if rate >= 1:
        return math.inf
    return math.log(factor) / math.log(rate)


@dataclass
class RateMapData:
    """What the momentum explorer shows.

    ``alphas (n,)``, ``betas (m,)`` and ``rates (m, n)`` are the map for curvatures
    ``eigenvalues = (1, kappa)``; ``optimum = (α*, β*, ρ*)``; ``lr``, ``momentum`` and
    ``rate`` are the chosen setting; ``path`` is its run on ``Quadratic(kappa)``.
    """

    kappa: float
    eigenvalues: np.ndarray
    alphas: np.ndarray
    betas: np.ndarray
    rates: np.ndarray
    optimum: tuple
    lr: float
    momentum: float
    rate: float
    path: LS.Path


def rate_map_data(kappa=100.0, lr_times_L=1.0, momentum=0.5, steps=100, n=201) -> RateMapData:
    """The rate map over ``α ∈ (0, 4/L]`` × ``β ∈ [0, 1)`` and the chosen point's path on the quadratic.

    The quadratic is ``landscapes.Quadratic(kappa)`` (curvatures μ = 1, L = κ); the
    chosen learning rate is ``lr_times_L / L``.
    """
    landscape = LS.Quadratic(condition_number=kappa)
    lr_times_L = check_positive(lr_times_L, "lr_times_L")
    beta = check_unit_interval(momentum, "momentum")
    n = check_positive_int(n, "n")
    eigenvalues = np.array([landscape.mu, landscape.L])
    alphas = np.linspace(4.0 / landscape.L / n, 4.0 / landscape.L, n)
    betas = np.linspace(0.0, 0.995, n)
    lr = lr_times_L / landscape.L
    path = LS.run(lambda ps: optim.SGD(ps, lr=lr, momentum=beta), landscape, steps=steps)
    rates = rate_map(eigenvalues, alphas, betas)
    return RateMapData(landscape.condition_number, eigenvalues, alphas, betas, rates,
                       optimal_momentum(landscape.L, landscape.mu), lr, beta,
                       float(momentum_rate(lr, beta, eigenvalues)), path)


# ---------------------------------------------------------------- reference rules (the exercises' answers)

def momentum_step(w, g, b, lr, momentum):
    """One step of PyTorch's momentum, ``b ← μ b + g;  w ← w − γ b``. Returns new ``(w, b)``.

    ``w, g, b`` arrays of one shape (not modified); ``b`` starts at zeros, so the first buffer
    is g, as in torch.
    """
    b_new = momentum * b + g
    return w - lr * b_new, b_new


def adam_update(w, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, bias_correction=(True, True)):
    """One Adam step (Kingma & Ba, 2015) in PyTorch's form. Returns new ``(w, m, v)`` (inputs untouched).

    ::

        m ← β₁ m + (1 − β₁) g;      v ← β₂ v + (1 − β₂) g²
        m̂ = m / (1 − β₁ᵗ);          v̂ = v / (1 − β₂ᵗ)
        w ← w − γ m̂ / (√v̂ + ε)

    ``t`` is the number of this step, counted from 1 (``t = 0`` would divide by
    ``1 − β⁰ = 0``). ``bias_correction = (correct_m, correct_v)`` switches either
    correction off, for the experiments on what it does.
    """
    t = check_positive_int(t, "t (the step number, counted from 1)")
    beta1, beta2 = betas
    m_new = beta1 * m + (1.0 - beta1) * g
    v_new = beta2 * v + (1.0 - beta2) * g * g
    m_hat = m_new / (1.0 - beta1**t) if bias_correction[0] else m_new
    v_hat = v_new / (1.0 - beta2**t) if bias_correction[1] else v_new
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new


def clip_by_norm(g, max_norm) -> np.ndarray:
    """``g · min(1, max_norm / ‖g‖)``: the whole vector shrunk to length ``max_norm`` if longer (a copy)."""
    g = np.asarray(g, dtype=np.float64)
    max_norm = check_positive(max_norm, "max_norm")
    norm = float(np.sqrt(np.vdot(g, g)))
    return g * (max_norm / norm) if norm > max_norm else g.copy()


def clip_by_value(g, clip_value) -> np.ndarray:
    """Each entry clipped to ``[−clip_value, clip_value]`` (a new array)."""
    clip_value = check_positive(clip_value, "clip_value")
    return np.clip(np.asarray(g, dtype=np.float64), -clip_value, clip_value)


def cosine(a, b) -> float:
    """``a·b / (‖a‖ ‖b‖)`` of two arrays of the same shape (1 = same direction)."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def rmsprop_step(w, g, square_avg, lr, alpha=0.9, eps=1e-8):
    """RMSprop (Hinton, 2012): ``s ← α s + (1 − α) g²;  w ← w − γ g / (√s + ε)``. Returns ``(w, s)``."""
    s = alpha * square_avg + (1.0 - alpha) * g * g
    return w - lr * g / (np.sqrt(s) + eps), s


def seed_rmsprop_step(w, g, running_avg, lr, eps=1e-8, decay=0.9):
    """Seed 000#2's ``rmsprop_step`` as written: it averages g (not g²) and takes ``√(avg + ε)``.

    Kept to show what goes wrong: the average of signed gradients can be negative
    (the square root is NaN) and it does not measure the gradient's scale (the
    step grows like √scale instead of being scale-free). Returns ``(w, avg)``.
    """
    avg = running_avg * decay + (1.0 - decay) * g
    with np.errstate(invalid="ignore"):
        return w - lr * g / np.sqrt(avg + eps), avg


# ---------------------------------------------------------------- adaptive learning rates

def gradient_stream(scales, steps, rng=None) -> np.ndarray:
    """Gradients of fixed size and random sign: ``g[t, j] = ±scales[j]``, shape ``(steps, d)``."""
    scales = check_array(scales, "scales", ndim=1, float_only=False, finite=True).astype(np.float64)
    steps = check_positive_int(steps, "steps")
    signs = as_rng(rng).choice([-1.0, 1.0], size=(steps, scales.size))
    return signs * scales


def effective_rates(optimizer_factory, grads) -> np.ndarray:
    """Feed the rows of ``grads (T, d)`` to an optimizer and return ``−Δθ / g`` per step, shape ``(T, d)``.

    For SGD this is the learning rate; for Adagrad and RMSprop it is their
    per-coordinate rate ``γ / (√s + ε)``. Entries where ``g = 0`` are NaN.
    """
    grads = check_array(grads, "grads", ndim=2, float_only=False, finite=True).astype(np.float64)
    param = Parameter(np.zeros(grads.shape[1]), name="theta")
    optimizer = optimizer_factory([param])
    rates = np.empty_like(grads)
    for t, g in enumerate(grads):
        before = param.value.copy()
        param.grad = g
        optimizer.step()
        with np.errstate(divide="ignore", invalid="ignore"):
            rates[t] = np.where(g != 0, (before - param.value) / g, np.nan)
    return rates


def adam_step_sizes(steps=100, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, gradient=1.0) -> dict:
    """Step lengths ``|Δw|`` of Adam under a constant gradient, with and without bias correction.

    Variants: ``"corrected"`` (Adam), ``"no m correction"``, ``"no v correction"``,
    ``"no correction"``. With a constant gradient the corrected step is
    ``γ g/(|g| + ε) ≈ γ`` at every t, so each variant divided by it is its error
    factor: ``1 − β₁ᵗ`` (0.1 at t = 1), ``1/√(1 − β₂ᵗ)`` (31.6) and their product (3.16).

    Returns dict variant -> ndarray (steps,).
    """
    steps = check_positive_int(steps, "steps")
    flags = {"corrected": (True, True), "no m correction": (False, True),
             "no v correction": (True, False), "no correction": (False, False)}
    g = np.array([float(gradient)])
    out = {}
    for name, correction in flags.items():
        w, m, v = np.zeros(1), np.zeros(1), np.zeros(1)
        sizes = np.empty(steps)
        for t in range(1, steps + 1):
            w_new, m, v = adam_update(w, g, m, v, t, lr, betas, eps, correction)
            sizes[t - 1] = abs(w_new[0] - w[0])
            w = w_new
        out[name] = sizes
    return out


def amsgrad_counterexample(C=3.0, steps=3000, alpha=0.5, amsgrad=False, x0=0.0) -> dict:
    """Reddi, Kale & Kumar (2018), Theorem 1: Adam converges to the worst point of a 1-D online problem.

    On ``x ∈ [−1, 1]`` the loss at step t is ``f_t(x) = C x`` when ``t mod 3 = 1`` and
    ``−x`` otherwise (C > 2), so the average loss ``(C − 2) x / 3`` is smallest at
    ``x = −1``. Adam with ``β₁ = 0``, ``β₂ = 1/(1 + C²)`` and ``α_t = α/√t``,
    projected onto [−1, 1], drifts to ``x = +1``: the rare large gradient C is
    divided by a large √v that is forgotten two steps later, so the two −1
    gradients win. AMSGrad divides by the running maximum of v and converges to −1.

    Returns dict ``x`` (steps + 1,) and ``average_regret`` (steps,):
    ``(1/T) Σ_{t≤T} [f_t(x_t) − f_t(−1)]``.
    """
    C = check_positive(C, "C")
    if C <= 2:
        raise ValueError(f"C: expected a number > 2 (else x = +1 is optimal), got {C}")
    steps = check_positive_int(steps, "steps")
    t = np.arange(1, steps + 1)
    slopes = np.where(t % 3 == 1, C, -1.0)
    factory = lambda ps: optim.Adam(ps, lr=alpha, betas=(0.0, 1.0 / (1.0 + C * C)), amsgrad=amsgrad)
    x = descend(factory, _OnlineSlopes(slopes), [x0], steps, lrs=check_positive(alpha, "alpha") / np.sqrt(t),
                project=lambda p: np.clip(p, -1.0, 1.0))[:, 0]
    regret = np.cumsum(slopes * (x[:-1] + 1.0)) / t
    return {"x": x, "average_regret": regret}


class _OnlineSlopes:
    """A gradient oracle that returns the next slope of a linear online loss at each call."""

    def __init__(self, slopes):
        self._slopes = iter(slopes)

    def __call__(self, x):
        return np.full_like(x, next(self._slopes))


def decoupled_decay(scales=(10.0, 0.1), steps=2000, lr=0.01, weight_decay=0.1) -> dict:
    """Adam with an L2 term vs AdamW (Loshchilov & Hutter, 2019) on zero-mean gradients.

    Coordinate j receives gradients ``±scales[j]`` alternating in sign (no net pull),
    starting from ``w = 1``. AdamW shrinks every coordinate by ``(1 − γλ)`` per step;
    Adam's L2 term ``λw`` is divided by ``√v̂ ≈ scales[j]``, so the coordinate with large
    gradients is barely decayed. Returns dict name -> weights ``(steps + 1, d)``.
    """
    scales = check_array(scales, "scales", ndim=1, float_only=False, finite=True).astype(np.float64)
    steps = check_positive_int(steps, "steps")
    signs = np.where(np.arange(steps) % 2 == 0, 1.0, -1.0)
    rules = {"Adam + L2": optim.Adam, "AdamW": optim.AdamW}
    return {name: descend(lambda ps, rule=rule: rule(ps, lr=lr, weight_decay=weight_decay),
                          _AlternatingGradient(scales, signs), np.ones_like(scales), steps)
            for name, rule in rules.items()}


class _AlternatingGradient:
    def __init__(self, scales, signs):
        self._scales, self._signs = scales, iter(signs)

    def __call__(self, x):
        return next(self._signs) * self._scales


# ---------------------------------------------------------------- sparse features

@dataclass
class SparseRace:
    """Linear regression on features of very different frequencies (``data.make_sparse_features``).

    ``frequency (d,)``: how often each feature is non-zero. ``errors[name] (epochs + 1, d)``:
    ``|w_j − w*_j|`` after each epoch. ``rates[name] (d,)``: the mean per-feature
    effective learning rate ``−Δw_j / g_j`` over the steps where ``g_j ≠ 0``.
    """

    frequency: np.ndarray
    errors: dict
    rates: dict


def sparse_feature_race(optimizers: dict, epochs=3, batch_size=20, n=2000, d=20, density=0.01,
                        rng=0) -> SparseRace:
    """Train ``w`` of ``y ≈ X w`` (mean squared error / 2) with each optimizer on the same mini-batches.

    ``optimizers`` maps a name to a factory ``params -> optimizer``. The gradient of
    a batch is ``Xᵦᵀ (Xᵦ w − yᵦ) / B``; feature j's gradient is zero on every batch
    where it is absent.
    """
    epochs = check_positive_int(epochs, "epochs")
    rng = as_rng(rng)
    X, y, true_w, frequency = make_sparse_features(n=n, d=d, density=density, rng=rng)
    orders = [batch_indices(n, batch_size, rng=rng) for _ in range(epochs)]
    errors, rates = {}, {}
    for name, factory in optimizers.items():
        errors[name], rates[name] = _train_sparse(factory, X, y, true_w, orders)
    return SparseRace(frequency, errors, rates)


def _train_sparse(factory, X, y, true_w, orders):
    w = Parameter(np.zeros(X.shape[1]), name="w")
    optimizer = factory([w])
    errors = [np.abs(w.value - true_w)]
    rate_sum, rate_count = np.zeros(X.shape[1]), np.zeros(X.shape[1])
    # A learning rate that is too large diverges on purpose: it shows as inf/NaN, not as warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for order in orders:
            for idx in order:
                Xb = X[idx]
                g = Xb.T @ (Xb @ w.value - y[idx]) / len(idx)
                before = w.value.copy()
                w.grad = g
                optimizer.step()
                seen = g != 0
                rate_sum[seen] += (before[seen] - w.value[seen]) / g[seen]
                rate_count += seen
            errors.append(np.abs(w.value - true_w))
        return np.array(errors), rate_sum / rate_count


# ---------------------------------------------------------------- second-order methods

@dataclass
class SecondOrderRun:
    """Iterations, gradient evaluations, the final ``point (2,)`` and its ``distance`` to a minimum."""

    iterations: int
    gradient_evaluations: int
    point: np.ndarray
    distance: float


def second_order_race(landscape=None, x0=None, tol=1e-6, max_steps=5000) -> dict:
    """Iterations each method needs to reach ``tol`` of the minimum of a landscape (Rosenbrock by default).

    Methods: gradient descent with momentum (lr 1e-3, μ 0.9), Adam (lr 0.02), Newton
    (the exact Hessian, step 1), and L-BFGS and BFGS from ``scipy.optimize.minimize``
    (quasi-Newton: a curvature model built from gradient differences, no Hessian).
    Returns dict name -> :class:`SecondOrderRun`.
    """
    landscape = LS.Rosenbrock() if landscape is None else landscape
    x0 = landscape.start if x0 is None else np.asarray(x0, dtype=np.float64)
    runs = {
        "GD + momentum": lambda ps: optim.SGD(ps, lr=1e-3, momentum=0.9),
        "Adam": lambda ps: optim.Adam(ps, lr=0.02),
        "Newton": LS.newton_factory(),
    }
    from scipy.optimize import minimize  # here, not at the top: scipy.optimize adds 0.3 s to every kernel's start

    out = {name: _first_order_run(factory, landscape, x0, tol, max_steps) for name, factory in runs.items()}
    for method in ("L-BFGS-B", "BFGS"):
        res = minimize(landscape.value, x0, jac=landscape.gradient, method=method,
                       options={"gtol": 1e-10, "maxiter": max_steps})
        out[method.removesuffix("-B")] = SecondOrderRun(int(res.nit), int(res.njev), res.x,
                                                       _distance(landscape, res.x))
    return out


def _first_order_run(factory, landscape, x0, tol, max_steps):
    path = LS.run(factory, landscape, x0, max_steps)
    gaps = _distances(landscape, path.points)
    inside = np.nonzero(gaps <= tol)[0]
    k = int(inside[0]) if inside.size else path.steps_taken
    return SecondOrderRun(k, k, path.points[k], float(gaps[k]))


def _distances(landscape, points):
    """Distance of each of ``points (k, 2)`` to the nearest known minimum, shape ``(k,)``."""
    gaps = np.asarray(points)[:, None, :] - np.stack(landscape.minima)[None]
    return np.sqrt((gaps * gaps).sum(axis=-1)).min(axis=1)


def _distance(landscape, p):
    return float(_distances(landscape, np.asarray(p)[None])[0])


# ---------------------------------------------------------------- clipping

class Clipped:
    """An optimizer that clips the gradients before each step (as ``fit(clip_norm=...)`` does).

    ``Clipped(optimizer, max_norm=...)`` uses ``regularization.clip_grad_norm`` (the
    direction is kept); ``Clipped(optimizer, clip_value=...)`` clips each entry.
    ``norms`` records the gradient norm before clipping at each step.
    """

    def __init__(self, optimizer, max_norm=None, clip_value=None):
        if (max_norm is None) == (clip_value is None):
            raise ValueError("Clipped: expected exactly one of max_norm and clip_value, "
                             f"got max_norm={max_norm}, clip_value={clip_value}")
        self.optimizer = optimizer
        self.max_norm = None if max_norm is None else check_positive(max_norm, "max_norm")
        self.clip_value = None if clip_value is None else check_positive(clip_value, "clip_value")
        self.norms = []

    @property
    def lr(self):
        return self.optimizer.lr

    @lr.setter
    def lr(self, value):
        self.optimizer.lr = value

    def step(self):
        params = self.optimizer.params
        self.norms.append(R.global_grad_norm(params))
        if self.max_norm is not None:
            R.clip_grad_norm(params, self.max_norm)
        else:
            R.clip_grad_value(params, self.clip_value)
        self.optimizer.step()


# ---------------------------------------------------------------- the optimizer race

RACE_OPTIMIZERS = ("GD", "momentum", "Nesterov", "Adagrad", "RMSprop", "Adadelta", "Adam", "AMSGrad", "NAdam",
                   "Newton")
"""Names the race understands (see :func:`optimizer_factory`)."""

RACE_LANDSCAPES = ("quadratic", "rosenbrock", "beale", "himmelblau", "saddle")

RACE_PRESETS = {
    "quadratic": {"lr": 0.02, "adaptive_lr": 0.3, "steps": 100},
    "rosenbrock": {"lr": 0.002, "adaptive_lr": 0.1, "steps": 300},
    "beale": {"lr": 0.003, "adaptive_lr": 0.1, "steps": 300},
    "himmelblau": {"lr": 0.01, "adaptive_lr": 0.1, "steps": 100},
    "saddle": {"lr": 0.05, "adaptive_lr": 0.05, "steps": 60},
}
"""Learning rates and step counts at which each landscape's lesson is visible."""


def race_landscape(name) -> LS.Landscape:
    """The race's version of a landscape: the quadratic is rotated (κ = 50, 30°) so no axis is special."""
    if name == "quadratic":
        return LS.Quadratic(condition_number=50.0, angle=math.pi / 6)
    if name == "saddle":
        saddle = LS.Saddle()
        saddle.start = np.array([-1.5, 0.2])
        return saddle
    return LS.get_landscape(name)


def optimizer_factory(name, lr=0.01, adaptive_lr=0.1, momentum=0.9, betas=(0.9, 0.999)):
    """A factory ``params -> optimizer`` for one race entry.

    GD, momentum and Nesterov use ``lr`` (units of 1/curvature); Adagrad, RMSprop
    and the Adam family use ``adaptive_lr`` (a step length in parameter units);
    RMSprop keeps PyTorch's smoothing α = 0.99; Adadelta uses PyTorch's defaults (no
    learning rate to tune); Newton uses the landscape's Hessian with step 1.
    """
    if name not in RACE_OPTIMIZERS:
        raise ValueError(f"name: expected one of {list(RACE_OPTIMIZERS)}, got {name!r}")
    lr, adaptive_lr = check_positive(lr, "lr"), check_positive(adaptive_lr, "adaptive_lr")
    momentum = check_unit_interval(momentum, "momentum")
    beta1, beta2 = check_unit_interval(betas[0], "betas[0]"), check_unit_interval(betas[1], "betas[1]")
    factories = {
        "GD": lambda ps: optim.SGD(ps, lr=lr),
        "momentum": lambda ps: optim.SGD(ps, lr=lr, momentum=momentum),
        "Nesterov": lambda ps: optim.SGD(ps, lr=lr, momentum=momentum, nesterov=momentum > 0),  # μ = 0: GD
        "Adagrad": lambda ps: optim.Adagrad(ps, lr=adaptive_lr),
        "RMSprop": lambda ps: optim.RMSprop(ps, lr=adaptive_lr),
        "Adadelta": lambda ps: optim.Adadelta(ps),
        "Adam": lambda ps: optim.Adam(ps, lr=adaptive_lr, betas=(beta1, beta2)),
        "AMSGrad": lambda ps: optim.Adam(ps, lr=adaptive_lr, betas=(beta1, beta2), amsgrad=True),
        "NAdam": lambda ps: optim.NAdam(ps, lr=adaptive_lr, betas=(beta1, beta2)),
        "Newton": LS.newton_factory(),
    }
    return factories[name]


def race(landscape, configs: dict, steps=100, x0=None) -> dict:
    """Run each ``configs[name]`` factory from the same start; returns dict name -> ``landscapes.Path``."""
    return {name: LS.run(factory, landscape, x0, steps) for name, factory in configs.items()}


@dataclass
class RaceData:
    """What the race explorer shows: the ``landscape`` and each optimizer's ``paths[name]``."""

    landscape: LS.Landscape
    paths: dict


def race_data(landscape="quadratic", optimizers=("GD", "momentum", "Adam"), lr=0.02, adaptive_lr=0.3,
              momentum=0.9, beta1=0.9, beta2=0.999, steps=100) -> RaceData:
    """The optimizer race of the explorer: the chosen optimizers on the chosen landscape."""
    if landscape not in RACE_LANDSCAPES:
        raise ValueError(f"landscape: expected one of {list(RACE_LANDSCAPES)}, got {landscape!r}")
    ls = race_landscape(landscape)
    betas = (beta1, beta2)
    configs = {name: optimizer_factory(name, lr, adaptive_lr, momentum, betas) for name in optimizers}
    return RaceData(ls, race(ls, configs, check_positive_int(steps, "steps")))


# ---------------------------------------------------------------- what an optimizer stores

_SCRATCH = ("scratch", "scratch2", "decayed_grad")


def state_floats_per_entry(optimizer_factory) -> int:
    """How many floats of state the rule keeps per parameter entry (moment buffers, not scratch space)."""
    param = Parameter(np.zeros(4), name="w")
    optimizer = optimizer_factory([param])
    param.grad = np.ones(4)
    optimizer.step()
    buffers = [v for state in optimizer.state for k, v in state.items()
               if k not in _SCRATCH and isinstance(v, np.ndarray)]
    return sum(b.size for b in buffers) // param.size
