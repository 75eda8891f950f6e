"""Number formats and the two failures of float16 training (SCALE-01, SCALE-02)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses, nn
from gdcourse.experiments.common import cached
from gdcourse.mixed_precision import MasterWeights, mixed_precision_step
from gdcourse.optim import SGD

__all__ = ["FORMATS", "FormatRow", "format_table", "to_bfloat16", "float16_spacing", "survives",
           "underflow_fraction", "VARIANTS", "FineTuneRuns", "fine_tune_runs"]

FORMATS = {"float32": (8, 23), "bfloat16": (8, 7), "float16": (5, 10)}
"""Format → (exponent bits, mantissa bits); one sign bit each."""


@dataclass(frozen=True)
class FormatRow:
    name: str
    exponent_bits: int
    mantissa_bits: int
    largest: float          # (2 − 2⁻ᵐ) · 2^bias
    smallest_normal: float  # 2^(1 − bias)
    smallest_subnormal: float  # 2^(1 − bias − m)
    spacing_at_one: float   # 2⁻ᵐ: the relative precision
    decimal_digits: float   # m · log10(2)


def format_table() -> list[FormatRow]:
    """Each format's range and precision, from its bit counts (bias = 2^(e−1) − 1)."""
    rows = []
    for name, (e, m) in FORMATS.items():
        bias = 2 ** (e - 1) - 1
        rows.append(FormatRow(name, e, m, (2 - 2.0**-m) * 2.0**bias, 2.0 ** (1 - bias), 2.0 ** (1 - bias - m),
                              2.0**-m, m * np.log10(2)))
    return rows


def to_bfloat16(x) -> np.ndarray:
    """Round float32 values to the nearest bfloat16 (ties to even), returned as float32.

    bfloat16 is the top 16 bits of a float32: the same sign and 8 exponent bits, 7 of the 23 mantissa bits.
    """
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return rounded.astype(np.uint32).view(np.float32)


def float16_spacing(w: float) -> float:
    """The gap between ``w`` and the next float16 away from zero: ``2^(⌊log₂|w|⌋ − 10)`` for normal numbers."""
    a = abs(float(w))
    if a < 2.0**-14:  # subnormal range: fixed spacing
        return 2.0**-24
    return 2.0 ** (np.floor(np.log2(a)) - 10)


def survives(w, dw, dtype=np.float16) -> np.ndarray:
    """Whether ``w + dw``, computed and stored in ``dtype``, differs from ``w``: the update is not lost."""
    w = np.asarray(w, dtype=dtype)
    return (w + np.asarray(dw, dtype=dtype)) != w


def underflow_fraction(scales, rng=0, seeds=20, n=64, width=32, grad_size=1e-7) -> np.ndarray:
    """(seeds, len(scales)): share of weight-gradient entries that are 0 in float16 though not in float64.

    One ``Linear(width, width)`` layer per seed ``rng … rng + seeds − 1``, inputs ~ N(0, 1), upstream
    gradients ~ N(0, grad_size²) multiplied by each loss scale before the float16 backward: gradients of the
    size a deep network's early layers can see late in training.
    """
    fractions = np.empty((seeds, len(scales)))
    for i, seed in enumerate(range(rng, rng + seeds)):
        draw = np.random.default_rng(seed)
        x = draw.standard_normal((n, width))
        dy = draw.standard_normal((n, width)) * grad_size
        exact = x.T @ dy
        layer = nn.Linear(width, width, rng=0, dtype=np.float16)
        for j, scale in enumerate(scales):
            layer.zero_grad()
            layer(x.astype(np.float16))
            with np.errstate(over="ignore", under="ignore"):
                layer.backward((dy * scale).astype(np.float16))
            fractions[i, j] = np.mean((layer.weight.grad == 0) & (exact != 0))
    return fractions


@dataclass(frozen=True)
class FineTuneRuns:
    """Distance to the solution after fine-tuning, per seed: float32, float16, float16 + master weights."""

    seeds: np.ndarray
    start: np.ndarray
    float32: np.ndarray
    float16: np.ndarray
    master: np.ndarray


def _fine_tune(dtype, use_master, X, w_star, start, steps, lr):
    """SGD on ``‖X W − X W*‖²`` from ``start``; the columns are independent problems. Returns the final W."""
    model = nn.Sequential(nn.Linear(X.shape[1], w_star.shape[1], bias=False, rng=0, dtype=dtype))
    model[0].weight.value[...] = start.astype(dtype)
    master = MasterWeights(model.parameters()) if use_master else None
    opt = SGD(master.params if master else model.parameters(), lr=lr * w_star.shape[1])
    Xd, yd, loss = X.astype(dtype), (X @ w_star).astype(dtype), losses.MSELoss()
    for _ in range(steps):
        mixed_precision_step(model, loss, Xd, yd, opt, master=master)
    return model[0].weight.value.astype(np.float64)


VARIANTS = {"float32": (np.float32, False), "float16": (np.float16, False), "master": (np.float16, True)}


@cached
def fine_tune_runs(rng=0, seeds=20, steps=1000, lr=1e-3) -> FineTuneRuns:
    """Least squares near its solution (8 weights of size ~1, start 0.05 away), SGD at ``lr``, seeds
    ``rng … rng + seeds − 1``.

    The problems share one design matrix ``X (256, 8)``; seed ``k`` draws the solution and the start of
    column ``k`` of one ``Linear(8, seeds)`` layer, so all of them train in one run. The loss averages
    over the columns, so the optimizer's rate is ``lr · seeds``: ``lr`` per problem.

    Each step moves a weight by about ``2·lr·0.05 = 1e-4``, below half of float16's spacing (4.9e-4)
    for |w| between 0.5 and 1: the small late steps of a long run. A quadratic, so the numbers hold for
    this problem only; the mechanism (lost updates) is the same in any network.
    """
    ids = np.arange(rng, rng + seeds)
    X = np.random.default_rng(rng).standard_normal((256, 8))
    w_star = np.column_stack([np.random.default_rng(seed).standard_normal(8) for seed in ids])
    offsets = np.column_stack([np.random.default_rng(seed + 10_000).standard_normal(8) for seed in ids])
    start = w_star + 0.05 * offsets
    distance = {name: np.linalg.norm(_fine_tune(dtype, master, X, w_star, start, steps, lr) - w_star, axis=0)
                for name, (dtype, master) in VARIANTS.items()}
    return FineTuneRuns(ids, np.linalg.norm(start - w_star, axis=0), *distance.values())
