"""Adaptive learning rates: RMSprop and Adam written out, their per-coordinate rates, Adam's bias correction,
AMSGrad's counterexample, decoupled weight decay and sparse features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import optim
from gdcourse.data import batch_indices, make_sparse_features
from gdcourse.experiments.optimizers.running import descend
from gdcourse.memo import stored
from gdcourse.nn.module import Parameter
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["adam_update", "rmsprop_step", "gradient_average_rmsprop_step", "gradient_stream", "effective_rates",
           "adam_step_sizes", "amsgrad_counterexample", "decoupled_decay", "SparseRace", "sparse_feature_race"]


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


def rmsprop_step(w, g, square_avg, lr, alpha=0.9, eps=1e-8):
    """RMSprop (Hinton, 2012): ``s ← α s + (1 − α) g²;  w ← w − γ g / (√s + ε)``. Returns ``(w, s)``."""
    s = alpha * square_avg + (1.0 - alpha) * g * g
    return w - lr * g / (np.sqrt(s) + eps), s


def gradient_average_rmsprop_step(w, g, running_avg, lr, eps=1e-8, decay=0.9):
    """A widely copied ``rmsprop_step``, as written: it averages g (not g²) and takes ``√(avg + ε)``.

    Kept to show what goes wrong: the average of signed gradients can be negative
    (the square root is NaN) and it does not measure the gradient's scale (the
    step grows like √scale instead of being scale-free). Returns ``(w, avg)``.
    """
    avg = running_avg * decay + (1.0 - decay) * g
    with np.errstate(invalid="ignore"):
        return w - lr * g / np.sqrt(avg + eps), avg


def gradient_stream(scales, steps, rng=None) -> np.ndarray:
    """Gradients of fixed size and random sign: ``g[t, j] = ±scales[j]``, shape ``(steps, d)``."""
    scales = check_array(scales, "scales", ndim=1, float_only=False, finite=True).astype(np.float64)
    steps = check_positive_int(steps, "steps")
    signs = as_rng(rng).choice([-1.0, 1.0], size=(steps, scales.size))
    return signs * scales


@stored
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


@stored
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


@stored
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
