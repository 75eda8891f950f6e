"""The critical batch size, measured: steps to a target loss against the batch size (SCALE-05).

A noisy linear regression (a quadratic: ``x ~ N(0, H)``, ``y = x·w* + σε``, fresh samples every step),
trained by SGD from ``w = 0`` at every batch size ``B`` on one grid of rates, over many seeds. McCandlish
et al. (2018) predict ``S(B) ≈ S_min (1 + B_crit / B)``: steps fall like ``1/B`` below the critical batch
size and flatten above it, with ``B_crit`` close to the noise scale. Here the noise scale of a point ``w``
is known in closed form (Gaussian inputs, ``δ = w − w*``, ``L = (δᵀHδ + σ²)/2`` the expected loss)::

    G = Hδ,   tr Σ = ‖Hδ‖² + 2L·tr H,   B_noise = tr Σ / ‖G‖² = 1 + 2L·tr H / ‖Hδ‖²

and it grows as the loss falls, so one run passes through a range of noise scales.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse.experiments.common import cached

__all__ = ["regression_problem", "regression_noise_scale", "StepsToTarget", "steps_to_target", "fit_critical_batch"]


def regression_problem(d=16, condition=10.0, rng=0):
    """``(h (d,), w_star (d,))``: the Hessian's eigenvalues from 1 down to ``1/condition`` and a solution."""
    return np.geomspace(1.0, 1.0 / condition, d), np.random.default_rng(rng).standard_normal(d)


def regression_noise_scale(delta, h, sigma=1.0, curvature_weighted=False) -> np.ndarray:
    """``B_noise = 1 + 2L·tr H / ‖Hδ‖²`` at offsets ``delta (..., d)`` from the solution (``H = diag(h)``).

    ``curvature_weighted=True``: McCandlish et al.'s ``B_crit = tr(HΣ) / GᵀHG = 1 + 2L·tr H² / δᵀH³δ``, the
    batch size at which the best step makes half the progress of an exact gradient's (equal to B_noise
    when H is a multiple of the identity).
    """
    delta = np.asarray(delta, dtype=np.float64)
    loss2 = (h * delta**2).sum(axis=-1) + sigma**2
    power = 2 if curvature_weighted else 1
    return 1.0 + loss2 * (h**power).sum() / (h ** (power + 1) * delta**2).sum(axis=-1)


def _sgd_steps(batch, lrs, h, w_star, sigma, target, seeds, max_steps, rng):
    """(L, seeds) the first step at which the excess loss ``δᵀHδ/2`` is ≤ ``target`` (inf if never), and
    (L, seeds, d) the offsets there. Every rate sees the same samples (common random numbers)."""
    draw = np.random.default_rng(rng)
    delta = np.broadcast_to(-w_star, (len(lrs), seeds, len(h))).copy()
    first = np.full((len(lrs), seeds), np.inf)
    at_hit = np.zeros_like(delta)
    root_h = np.sqrt(h)
    for t in range(1, max_steps + 1):   # diverging rates overflow on the way to the clamp below: harmless
        X = draw.standard_normal((seeds, batch, len(h))) * root_h
        residual = np.einsum("sbd,lsd->lsb", X, delta) - sigma * draw.standard_normal((seeds, batch))
        delta -= lrs[:, None, None] * np.einsum("sbd,lsb->lsd", X, residual) / batch
        np.nan_to_num(delta, copy=False, nan=1e6, posinf=1e6, neginf=-1e6)   # diverged runs stay far away
        hit = (0.5 * (h * delta**2).sum(axis=-1) <= target) & np.isinf(first)
        first[hit], at_hit[hit] = t, delta[hit]
        done = np.isfinite(first).all(axis=1)
        if done.any() and done[np.argmin(np.median(first, axis=1))]:   # the best rate is done on every seed
            break
    return first, at_hit


@dataclass(frozen=True)
class StepsToTarget:
    batches: np.ndarray     # (nB,)
    lrs: np.ndarray         # (L,)
    steps: np.ndarray       # (nB, L, seeds) steps to the target (inf: not reached before the best rate)
    best_lr: np.ndarray     # (nB,) the rate with the fewest median steps
    best_steps: np.ndarray  # (nB, seeds) the steps of every seed at that rate
    noise_start: float      # B_noise at w = 0
    noise_target: np.ndarray  # (nB,) median B_noise where the best rate's runs reached the target
    crit_start: float       # McCandlish's curvature-weighted B_crit at w = 0
    crit_target: np.ndarray   # (nB,) the same where the best rate's runs reached the target

    @property
    def median_steps(self) -> np.ndarray:
        return np.median(self.best_steps, axis=1)


RATES = tuple(float(r) for r in 2.0 ** np.arange(-6, 0.5, 0.5))
"""The rate grid every batch size shares: 2⁻⁶ … 1 in steps of √2 (1 = 1/λ_max; 2/λ_max diverges)."""


@cached
def steps_to_target(rng=0, seeds=20, batches=tuple(2**k for k in range(11)), lrs=RATES, target=0.02, sigma=1.0,
                    max_steps=5000):
    """SGD steps until the excess loss is ≤ ``target`` (about 1/80 of where it starts), for every batch size and
    rate of the grid, over seeds; each batch size keeps its best rate (fewest median steps)."""
    h, w_star = regression_problem(rng=rng)
    lrs = np.asarray(lrs, dtype=np.float64)
    steps, best_lr, best_steps, noise_target, crit_target = [], [], [], [], []
    for batch in batches:
        with np.errstate(over="ignore", invalid="ignore"):
            first, at_hit = _sgd_steps(batch, lrs, h, w_star, sigma, target, seeds, max_steps, rng=(rng, batch))
        best = int(np.argmin(np.median(first, axis=1)))
        steps.append(first)
        best_lr.append(lrs[best])
        best_steps.append(first[best])
        noise_target.append(float(np.median(regression_noise_scale(at_hit[best], h, sigma))))
        crit_target.append(float(np.median(regression_noise_scale(at_hit[best], h, sigma, True))))
    return StepsToTarget(np.array(batches), lrs, np.array(steps), np.array(best_lr), np.array(best_steps),
                         float(regression_noise_scale(-w_star, h, sigma)), np.array(noise_target),
                         float(regression_noise_scale(-w_star, h, sigma, True)), np.array(crit_target))


def fit_critical_batch(batches, steps) -> tuple[float, float]:
    """``(S_min, B_crit)`` of ``S(B) = S_min (1 + B_crit / B)`` by least squares on ``log S``: a log-spaced
    grid of B_crit (1 … 10⁴, 2,001 values), with the best ``log S_min`` in closed form for each."""
    batches, log_s = np.asarray(batches, dtype=np.float64), np.log(np.asarray(steps, dtype=np.float64))
    best = (np.inf, 0.0, 0.0)
    for b_crit in np.geomspace(1, 1e4, 2001):
        shape = np.log1p(b_crit / batches)
        log_s_min = np.mean(log_s - shape)
        err = np.sum((log_s - shape - log_s_min) ** 2)
        if err < best[0]:
            best = (err, float(np.exp(log_s_min)), float(b_crit))
    return best[1], best[2]
