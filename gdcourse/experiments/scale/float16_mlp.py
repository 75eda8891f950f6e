"""A digits MLP trained in float16: what fails without loss scaling and master weights (SCALE-02).

Every variant runs the package's own layers in float16 (weights, activations, gradients) through
:func:`gdcourse.mixed_precision.mixed_precision_step`, with the loss and its gradient in float32 as
autocast does; NumPy's float16 matrix product, like a tensor core, adds in float32 and rounds the result.

The size of the gradients. A language model's loss is a mean over millions of tokens (LLaMA's batches hold
4M), so each token's logit gradient is ``(p − y)/4·10⁶``: far below float16's smallest normal number
(6.1e-5). Our batch has 32 images, so we take the mean over ``32 · tokens`` terms instead (``tokens`` = 2¹⁷:
4.2M terms) — the loss divided by ``tokens``, the rate multiplied by it. In float32 that changes nothing but
rounding (the tests check it); in float16 it puts the gradients where a large model's are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses, nn
from gdcourse.experiments.common import cached, digits
from gdcourse.mixed_precision import DynamicLossScaler, MasterWeights, mixed_precision_step
from gdcourse.optim import SGD

__all__ = ["FLOAT16_VARIANTS", "TokenMeanLoss", "Float16Runs", "float16_mlp_runs", "train_float16_mlp"]

FLOAT16_VARIANTS = {
    "float32": (np.float32, False, False),
    "float16": (np.float16, False, False),
    "float16 + scaling": (np.float16, True, False),
    "float16 + master": (np.float16, False, True),
    "float16 + scaling + master": (np.float16, True, True),
}
"""Name → (model dtype, dynamic loss scaling, float32 master weights)."""


class TokenMeanLoss(losses.CrossEntropyLoss):
    """Cross-entropy divided by ``tokens``: the mean over ``N · tokens`` terms of which ``N`` are the batch."""

    def __init__(self, tokens):
        super().__init__()
        self.tokens = float(tokens)

    def forward(self, pred, target):
        return super().forward(pred, target) / self.tokens

    def backward(self):
        return super().backward() / np.asarray(self.tokens, dtype=np.float32)


@dataclass(frozen=True)
class Float16Runs:
    """Per variant (in :data:`FLOAT16_VARIANTS` order) and seed.

    ``loss`` the final mean cross-entropy on the 988 training digits (weights read in float64);
    ``zero_grads`` the share of weight-gradient entries that are exactly 0, over the last 100 steps;
    ``lost_updates`` the share of the model's weights a step leaves unchanged though their gradient is not 0
    (last 100 steps); ``curves (variants, seeds, steps // every)`` the training loss, every ``every`` steps;
    ``scales (seeds, steps)`` the loss scale of the scaling + master runs.
    """

    variants: tuple
    loss: np.ndarray
    zero_grads: np.ndarray
    lost_updates: np.ndarray
    curves: np.ndarray
    scales: np.ndarray
    every: int


def _model(dtype, seed, width):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(64, width, rng=rng, dtype=dtype), nn.ReLU(),
                         nn.Linear(width, 10, rng=rng, dtype=dtype))


def _eval_loss(model, X, y):
    w1, b1, w2, b2 = (p.value.astype(np.float64) for p in model.parameters())
    z = np.maximum(X @ w1 + b1, 0) @ w2 + b2
    top = z.max(axis=1)
    return float(np.mean(top + np.log(np.exp(z - top[:, None]).sum(axis=1)) - z[np.arange(len(y)), y]))


def train_float16_mlp(variant, seed, steps=600, lr=0.05, tokens=2**17, width=32, batch=32, every=10) -> dict:
    """One ``64 → width → 10`` ReLU MLP trained by SGD at rate ``lr`` (per unit of the batch-mean loss).

    Returns ``{"loss", "zero_grads", "lost_updates", "curve", "scales"}`` (see :class:`Float16Runs`).
    """
    dtype, scaling, use_master = FLOAT16_VARIANTS[variant]
    d = digits(standardized=True)
    X, y = d.X_train, d.y_train
    model = _model(dtype, seed, width)
    master = MasterWeights(model.parameters()) if use_master else None
    scaler = DynamicLossScaler(init_scale=2.0**16, growth_interval=200) if scaling else None
    opt = SGD(master.params if master else model.parameters(), lr=lr * tokens)
    loss = TokenMeanLoss(tokens)
    order = np.random.default_rng(seed).integers(0, len(X), (steps, batch))
    weights = [p for p in model.parameters() if p.value.ndim == 2]
    curve, scales, zero, lost = [], [], [], []
    for t in range(steps):
        before = [w.value.copy() for w in weights]
        result = mixed_precision_step(model, loss, X[order[t]].astype(dtype), y[order[t]], opt, master=master,
                                      scaler=scaler, loss_dtype=np.float32)
        scales.append(result["scale"])
        if t % every == 0:
            curve.append(result["loss"] * tokens)
        if t >= steps - 100 and result["stepped"]:
            grads = np.concatenate([w.grad.ravel() for w in weights])
            moved = np.concatenate([(w.value != b).ravel() for w, b in zip(weights, before, strict=True)])
            zero.append(np.mean(grads == 0))
            if (grads != 0).any():
                lost.append(np.mean(~moved[grads != 0]))
    return {"loss": _eval_loss(model, X, y), "zero_grads": float(np.mean(zero)),
            "lost_updates": float(np.mean(lost)) if lost else 0.0, "curve": np.array(curve), "scales": np.array(scales)}


@cached
def float16_mlp_runs(rng=0, seeds=20, steps=600, lr=0.05, tokens=2**17, width=32, batch=32, every=10,
                     variants=tuple(FLOAT16_VARIANTS)) -> Float16Runs:
    """:func:`train_float16_mlp` for every variant (names of :data:`FLOAT16_VARIANTS`) and seed
    ``rng … rng + seeds − 1`` (each seed's initialization and batch order shared by every variant).

    ``scales`` are those of the last variant in ``variants``."""
    unknown = set(variants) - set(FLOAT16_VARIANTS)
    if unknown:
        raise ValueError(f"variants: expected names from {list(FLOAT16_VARIANTS)}, got {sorted(unknown)}")
    runs = {name: [train_float16_mlp(name, seed, steps, lr, tokens, width, batch, every)
                   for seed in range(rng, rng + seeds)] for name in variants}

    def table(key):
        return np.array([[run[key] for run in runs[name]] for name in variants])

    return Float16Runs(tuple(variants), table("loss"), table("zero_grads"), table("lost_updates"),
                       table("curve"), table("scales")[-1], every)
