"""REG-06c: dropout vs DropConnect vs stochastic depth (DropPath): what each one drops.

All three multiply something by a Bernoulli(1 − p) mask scaled by 1/(1 − p), so every one keeps the
expected output; they differ in *what* shares a mask:

* dropout (Srivastava et al. 2014): one mask per input unit, shared by all the outputs that read it;
* DropConnect (Wan et al. 2013): one mask per weight, independent for every (input, output) pair;
* DropPath / stochastic depth (Huang et al. 2016): one mask per sample for a whole residual branch, so a
  dropped sample skips the block (``y = x``) and the network trains as an ensemble of shallower ones.

For a branch ``y = x W`` (``x (d,)``, ``W (d, k)``) dropout and DropConnect give every output the same
variance ``p/(1 − p) Σ_i x_i² W_ij²``, but dropout's outputs are correlated (``Cov_jk = p/(1 − p) Σ_i x_i²
W_ij W_ik``), DropConnect's are not, and DropPath's are perfectly correlated (all or nothing).
:func:`mask_noise` measures this by Monte Carlo; :func:`lesion_study` trains residual networks with each
and removes one block at test time.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse import losses, nn, optim, train
from gdcourse.experiments.regularization.shared import digits, one_blas_thread
from gdcourse.validate import as_rng, check_array, check_positive_int, check_unit_interval

__all__ = ["DROP_METHODS", "MaskNoise", "mask_noise", "residual_drop_net", "LesionStudy", "lesion_study"]

DROP_METHODS = ("dropout", "dropconnect", "droppath")


@dataclass(frozen=True)
class MaskNoise:
    """Monte Carlo of ``y = x W`` under one method: ``mean``, ``variance`` ``(k,)``, ``covariance (k, k)``,
    ``zero_rows`` (share of draws where the whole output is 0)."""

    method: str
    mean: np.ndarray
    variance: np.ndarray
    covariance: np.ndarray
    zero_rows: float

    @property
    def mean_abs_correlation(self) -> float:
        """Mean |correlation| between two different outputs."""
        sd = np.sqrt(self.variance)
        corr = self.covariance / np.outer(sd, sd)
        return float(np.abs(corr[~np.eye(len(sd), dtype=bool)]).mean())


def mask_noise(x, W, p: float, method: str, draws: int = 20000, rng=0) -> MaskNoise:
    """Draw ``draws`` training-mode masks of ``method`` for the branch ``x (d,) @ W (d, k)``."""
    if method not in DROP_METHODS:
        raise ValueError(f"method: expected one of {DROP_METHODS}, got {method!r}")
    x = check_array(x, "x", ndim=1, finite=True)
    W = check_array(W, "W", ndim=2, finite=True)
    if W.shape[0] != x.shape[0]:
        raise ValueError(f"W: expected {x.shape[0]} rows to match x, got shape {W.shape}")
    p, draws, rng = check_unit_interval(p, "p"), check_positive_int(draws, "draws"), as_rng(rng)
    scale = 1.0 / (1.0 - p)
    if method == "dropout":
        y = ((rng.random((draws, len(x))) >= p) * scale * x) @ W
    elif method == "dropconnect":
        y = np.einsum("i,sij->sj", x, (rng.random((draws,) + W.shape) >= p) * scale * W)
    else:
        y = (rng.random((draws, 1)) >= p) * scale * (x @ W)
    return MaskNoise(method, y.mean(axis=0), y.var(axis=0), np.cov(y, rowvar=False, bias=True),
                     float(np.mean(np.all(y == 0.0, axis=1))))


def residual_drop_net(blocks: int, width: int, method: str | None, p: float, rng) -> nn.Sequential:
    """``blocks`` residual blocks ``x + [drop](relu(x W + b))`` of ``width`` on 64 inputs, then ``Linear(width, 10)``.

    ``method``: None, ``"dropout"`` (per unit, inside the branch) or ``"droppath"`` (per sample, whole branch).
    """
    blocks, width = check_positive_int(blocks, "blocks"), check_positive_int(width, "width")
    if method not in (None, "dropout", "droppath"):
        raise ValueError(f"method: expected None, 'dropout' or 'droppath', got {method!r}")
    rng = as_rng(rng)
    layers = [nn.Linear(64, width, init="he_normal", rng=rng), nn.ReLU()]
    for _ in range(blocks):
        branch = [nn.Linear(width, width, init="he_normal", rng=rng), nn.ReLU()]
        if method == "dropout":
            branch.append(nn.Dropout(p, rng=rng))
        elif method == "droppath":
            branch.append(nn.DropPath(p, rng=rng))
        layers.append(nn.Residual(nn.Sequential(*branch)))
    layers.append(nn.Linear(width, 10, init="xavier_normal", rng=rng))
    return nn.Sequential(*layers)


def _accuracy(model, X, y, skip=None) -> float:
    h = X
    model.eval()
    for i, layer in enumerate(model):
        if i != skip:
            h = layer.forward(h)
    return float(np.mean(h.argmax(axis=1) == y))


@dataclass(frozen=True)
class LesionStudy:
    """Per method, per seed ``(S,)``: ``accuracy`` of the full network on the test digits and ``lesioned``,
    the mean test accuracy with one residual block removed (averaged over the blocks)."""

    p: float
    accuracy: dict
    lesioned: dict


@functools.lru_cache(maxsize=4)
@one_blas_thread
def lesion_study(p: float = 0.3, seeds: tuple = tuple(range(20)), blocks: int = 6, width: int = 64,
                 epochs: int = 15) -> LesionStudy:
    """Residual digits networks without drop, with dropout and with DropPath (same ``p``, same seeds, same
    initialization and batch order), SGD lr 0.02 momentum 0.9, batches of 64; then each block removed in turn."""
    ds = digits(standardized=True)
    accuracy, lesioned = {}, {}
    for method in (None, "dropout", "droppath"):
        name = method or "none"
        acc, les = [], []
        for seed in seeds:
            model = residual_drop_net(blocks, width, method, p, rng=int(seed))
            opt = optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
            train.fit(model, losses.CrossEntropyLoss(), opt, (ds.X_train, ds.y_train), epochs=epochs,
                      batch_size=64, progress=False, rng=int(seed) + 1000)
            acc.append(_accuracy(model, ds.X_test, ds.y_test))
            les.append(np.mean([_accuracy(model, ds.X_test, ds.y_test, skip=2 + b) for b in range(blocks)]))
        accuracy[name], lesioned[name] = np.array(acc), np.array(les)
    return LesionStudy(float(p), accuracy, lesioned)
