"""Modern normalization: RMSNorm vs LayerNorm, pre-LN vs post-LN residual blocks, spectral normalization.

* RMSNorm (Zhang & Sennrich, 2019) divides by ``rms(x)`` without subtracting the mean: invariant to
  re-scaling ``x → a x`` but not to re-centering ``x → x + c``; LayerNorm (Ba et al., 2016) is invariant
  to both. :func:`invariance_gaps` measures both on random inputs.
* Post-LN ``x ← LN(x + F(x))`` (the original Transformer) vs pre-LN ``x ← x + F(LN(x))`` (Xiong et al.,
  2020, "On layer normalization in the Transformer architecture"): :func:`block_gradient_norms` measures
  the gradient norm of every block's first weight matrix at initialization.
* :func:`warmup_run` trains both layouts with Adam, with and without a linear learning-rate warmup.
* Spectral normalization (Miyato et al., 2018): ``W / σmax(W)``, with ``σmax`` from power iteration on
  ``Wᵀ W``; :func:`spectral_norm_power_iteration` and :func:`lipschitz_bound`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse import losses, nn, optim
from gdcourse.experiments.common import cached
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = [
    "InvarianceGaps", "invariance_gaps", "residual_stack", "block_gradient_norms", "block_gradient_study",
    "spectral_norm_power_iteration", "lipschitz_bound", "warmup_run", "warmup_study",
]


@dataclass(frozen=True)
class InvarianceGaps:
    """Largest output change ``max |N(T x) − N(x)|`` for each norm ``N`` ∈ {"layer", "rms"} and map ``T``."""

    rescale: dict
    recenter: dict


def invariance_gaps(n: int = 64, features: int = 16, scale: float = 5.0, shift: float = 3.0,
                    rng=0) -> InvarianceGaps:
    """Apply ``nn.LayerNorm`` and ``nn.RMSNorm`` (eps = 1e-12) to ``x`` (n, features), ``scale·x`` and ``x + shift``."""
    n, features = check_positive_int(n, "n"), check_positive_int(features, "features")
    x = as_rng(rng).standard_normal((n, features))
    norms = {"layer": nn.LayerNorm(features, eps=1e-12), "rms": nn.RMSNorm(features, eps=1e-12)}
    base = {k: m.forward(x) for k, m in norms.items()}
    rescale = {k: float(np.abs(m.forward(scale * x) - base[k]).max()) for k, m in norms.items()}
    recenter = {k: float(np.abs(m.forward(x + shift) - base[k]).max()) for k, m in norms.items()}
    return InvarianceGaps(rescale, recenter)


def _block(width: int, rng) -> nn.Sequential:
    """The feed-forward block ``Linear(d, 4d) → ReLU → Linear(4d, d)`` (He, then Xavier initialization)."""
    return nn.Sequential(nn.Linear(width, 4 * width, rng=rng), nn.ReLU(),
                         nn.Linear(4 * width, width, init="xavier_normal", rng=rng))


def residual_stack(kind: str, depth: int, width: int, rng=0):
    """``(model, blocks)``: ``depth`` residual blocks, post-LN ``LN(x + F(x))`` or pre-LN ``x + F(LN(x))``.

    Pre-LN ends with a final LayerNorm, as in GPT-2 / Xiong et al. (2020); ``blocks`` lists the ``F``'s.
    """
    if kind not in ("post", "pre"):
        raise ValueError(f"kind: expected 'post' or 'pre', got {kind!r}")
    depth, width, rng = check_positive_int(depth, "depth"), check_positive_int(width, "width"), as_rng(rng)
    layers, blocks = [], []
    for _ in range(depth):
        block = _block(width, rng)
        blocks.append(block)
        if kind == "post":
            layers += [nn.Residual(block), nn.LayerNorm(width)]
        else:
            layers.append(nn.Residual(nn.Sequential(nn.LayerNorm(width), block)))
    if kind == "pre":
        layers.append(nn.LayerNorm(width))
    return nn.Sequential(*layers), blocks


def block_gradient_norms(kind: str, depth: int, width: int = 32, n: int = 64, rng=0) -> np.ndarray:
    """(depth,) Frobenius norms of ``∂L/∂W₁`` of every block at initialization, first block first.

    ``x`` (n, width) is standard normal; the loss is ``L = Σ out · g`` with a random upstream gradient
    ``g`` of unit total norm, so the numbers measure how each architecture passes a fixed-size signal back.
    """
    rng = as_rng(rng)
    x = rng.standard_normal((check_positive_int(n, "n"), width))
    model, blocks = residual_stack(kind, depth, width, rng)
    out = model.forward(x)
    model.zero_grad()
    model.backward(rng.standard_normal(out.shape) / np.sqrt(out.size))
    return np.array([np.linalg.norm(b.layers[0].weight.grad) for b in blocks])


def block_gradient_study(depths=(4, 16), seeds=range(20), width: int = 16) -> dict:
    """``{(kind, depth): (seeds, depth) array}`` of :func:`block_gradient_norms` over ``seeds`` (cached)."""
    return _study(tuple(int(d) for d in depths), tuple(int(s) for s in seeds), int(width))


@functools.lru_cache(maxsize=8)
def _study(depths, seeds, width):
    return {(kind, d): np.array([block_gradient_norms(kind, d, width, rng=s) for s in seeds])
            for kind in ("post", "pre") for d in depths}


@cached(maxsize=256)
def warmup_run(kind: str, warmup: int, lr: float = 0.03, depth: int = 6, width: int = 16, n: int = 64,
               steps: int = 100, rng=0) -> np.ndarray:
    """(steps,) relative training loss ``MSE / var(y)`` of Adam on a teacher regression, ``rng`` an int seed.

    Model: ``Linear(width, width)`` → :func:`residual_stack` (``kind``, ``depth``) → ``Linear(width, 1)``.
    Data: ``x ~ N(0, I)`` (n, width), ``y = tanh(2 xᵀ w*)`` with ``w* ~ N(0, I/width)``. The rate rises
    linearly from ``lr/warmup`` to ``lr`` over the first ``warmup`` steps (``warmup = 0``: constant ``lr``).
    A relative loss of 1 is what predicting the mean scores.
    """
    lr, steps = check_positive(lr, "lr"), check_positive_int(steps, "steps")
    if int(warmup) != warmup or warmup < 0:
        raise ValueError(f"warmup: expected a non-negative integer, got {warmup!r}")
    rng = as_rng(rng)
    x = rng.standard_normal((check_positive_int(n, "n"), width))
    y = np.tanh(2.0 * x @ (rng.standard_normal((width, 1)) / np.sqrt(width)))
    body, _ = residual_stack(kind, depth, width, rng)
    model = nn.Sequential(nn.Linear(width, width, rng=rng), body,
                          nn.Linear(width, 1, init="xavier_normal", rng=rng))
    opt, loss = optim.Adam(model.parameters(), lr=lr), losses.MSELoss()
    history = np.full(steps, np.nan)
    for t in range(steps):
        opt.lr = lr * min(1.0, (t + 1) / warmup) if warmup else lr
        history[t] = loss.forward(model.forward(x), y) / y.var()
        model.zero_grad()
        model.backward(loss.backward())
        opt.step()
    return history


def warmup_study(seeds=range(20), warmup: int = 33, lr: float = 0.03) -> dict:
    """``{(kind, warmup): (seeds,) final relative losses}`` for post/pre-LN, with and without warmup."""
    return {(kind, w): np.array([warmup_run(kind, w, lr, rng=int(s))[-1] for s in seeds])
            for kind in ("post", "pre") for w in (0, warmup)}


def spectral_norm_power_iteration(W, iters: int = 1, u=None, rng=0):
    """``(sigma, u)``: estimate of ``σmax(W)`` after ``iters`` power iterations, and the left vector.

    ``v = Wᵀu/‖Wᵀu‖``, ``u = Wv/‖Wv‖``, ``σ ≈ uᵀ W v`` (Miyato et al., 2018). ``W`` (m, k); pass the previous
    ``u`` (m,) to continue, as spectral norm does with one iteration per training step.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"W: expected a 2-D matrix, got shape {W.shape}")
    u = as_rng(rng).standard_normal(W.shape[0]) if u is None else np.asarray(u, dtype=np.float64)
    u = u / np.linalg.norm(u)
    for _ in range(check_positive_int(iters, "iters")):
        v = W.T @ u
        v /= np.linalg.norm(v)
        u = W @ v
        u /= np.linalg.norm(u)
    return float(u @ W @ v), u


def lipschitz_bound(weights) -> float:
    """``Π σmax(Wᵢ)``: an upper bound on the Lipschitz constant of a network with 1-Lipschitz activations."""
    return float(np.prod([np.linalg.norm(np.asarray(W, dtype=np.float64), 2) for W in weights]))
