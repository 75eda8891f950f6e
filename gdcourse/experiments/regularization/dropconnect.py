"""REG-06d: a digits network trained with DropConnect, next to dropout and no regularization.

The network is ``64-hidden-10`` (ReLU) trained on 200 digits (20 per class), so that it overfits. The drop
acts on the same place in both regularized variants, the connections into the output layer:

* dropout (Srivastava et al. 2014): ``Dropout(p)`` on the hidden units, so each sample loses whole units;
* DropConnect (Wan et al. 2013): :class:`gdcourse.nn.DropConnectLinear` as the output layer, one mask per
  sample and per weight, so each output loses its own random subset of the hidden units.

Both get the same grid of drop rates and the same budget (one training per rate); per seed the rate with the
best validation accuracy is kept and scored on the test digits. Everything else (initialization, batch order,
optimizer, epochs) is shared, so the comparison is paired by seed. DropConnect is also evaluated with the
paper's inference: each logit ``u_j ~ N(Σ_i h_i W_ij + b_j, p/(1−p) Σ_i h_i² W_ij²)`` (moments of the dropped
sum under inverted scaling), softmax averaged over samples of ``u``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse import losses, nn, optim, train
from gdcourse.experiments.common import one_blas_thread, read_only
from gdcourse.experiments.regularization.augmentation import stratified_subset
from gdcourse.experiments.regularization.shared import digits
from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_array, check_positive_int, check_unit_interval

__all__ = ["DROP_PLACES", "drop_mlp", "moment_matching_probabilities", "DropConnectStudy", "dropconnect_study"]

DROP_PLACES = ("none", "dropout", "dropconnect")


def drop_mlp(method: str, p: float, hidden: int = 128, rng=None) -> nn.Sequential:
    """``Linear(64, hidden), ReLU, [Dropout(p)], Linear(hidden, 10)`` or with ``DropConnectLinear(hidden, 10, p)``.

    ``method`` is one of :data:`DROP_PLACES`; the same ``rng`` gives every method the same initial weights.
    """
    if method not in DROP_PLACES:
        raise ValueError(f"method: expected one of {DROP_PLACES}, got {method!r}")
    p, hidden, rng = check_unit_interval(p, "p"), check_positive_int(hidden, "hidden"), as_rng(rng)
    first = nn.Linear(64, hidden, init="he_normal", rng=rng)
    if method == "dropconnect":
        last = nn.DropConnectLinear(hidden, 10, p=p, mask="sample", init="xavier_normal", rng=rng)
    else:
        last = nn.Linear(hidden, 10, init="xavier_normal", rng=rng)
    middle = [nn.Dropout(p, rng=rng)] if method == "dropout" else []
    return nn.Sequential(first, nn.ReLU(), *middle, last)


def moment_matching_probabilities(h, W, b, p: float, samples: int = 200, rng=0) -> np.ndarray:
    """Class probabilities of a DropConnect output layer by Gaussian moment matching (Wan et al. 2013, §3).

    ``h (N, k)`` hidden activations, ``W (k, C)``, ``b (C,)``; each logit is drawn ``samples`` times from
    ``N(hW + b, p/(1−p)·(h²)(W²))`` and the softmax is averaged: returns ``(N, C)``.
    """
    h = check_array(h, "h", ndim=2, finite=True)
    W = check_array(W, "W", ndim=2, finite=True)
    if W.shape[0] != h.shape[1]:
        raise ValueError(f"W: expected {h.shape[1]} rows to match h, got shape {W.shape}")
    p, samples, rng = check_unit_interval(p, "p"), check_positive_int(samples, "samples"), as_rng(rng)
    mean = h @ W + b
    sd = np.sqrt(p / (1.0 - p) * (h**2 @ W**2))
    u = mean + sd * rng.standard_normal((samples,) + mean.shape)
    u -= u.max(axis=-1, keepdims=True)
    e = np.exp(u)
    return (e / e.sum(axis=-1, keepdims=True)).mean(axis=0)


@dataclass(frozen=True)
class DropConnectStudy:
    """``rates (R,)``; per method of :data:`DROP_PLACES`, per seed and rate ``(S, R)`` (``(S, 1)`` for none):
    ``val_accuracy``, ``test_accuracy``; ``chosen (S,)`` the index of the rate each seed's validation picked
    and ``tuned (S,)`` its test accuracy; ``moment_matching (S, R)`` DropConnect's test accuracy with the
    paper's Gaussian inference instead of the mean weights; ``train_accuracy`` as ``test_accuracy``."""

    rates: np.ndarray
    val_accuracy: dict
    test_accuracy: dict
    train_accuracy: dict
    chosen: dict
    tuned: dict
    moment_matching: np.ndarray


def _accuracy(model, X, y) -> float:
    model.eval()
    return float(np.mean(model(X).argmax(axis=1) == y))


@functools.lru_cache(maxsize=2)
@stored
@one_blas_thread
def dropconnect_study(seeds: tuple = tuple(range(20)), rates: tuple = (0.25, 0.5, 0.75), per_class: int = 20,
                      hidden: int = 128, epochs: int = 40, lr: float = 0.02) -> DropConnectStudy:
    """Train every (method, rate) on each seed's ``per_class`` digits per class; SGD ``lr``, momentum 0.9,
    batches of 32, ``epochs`` epochs. Seed ``s`` fixes the subset (``s``), the initialization (``s``) and the
    batch order (``s + 1000``) for all methods alike."""
    ds = digits(standardized=True)
    rates = tuple(check_unit_interval(r, "rates") for r in rates)
    grid = {"none": (0.0,), "dropout": rates, "dropconnect": rates}
    acc = {k: {m: np.empty((len(seeds), len(g))) for m, g in grid.items()} for k in ("val", "test", "train")}
    moment = np.empty((len(seeds), len(rates)))
    for s, seed in enumerate(seeds):
        X, y = stratified_subset(ds.X_train, ds.y_train, per_class, int(seed))
        for method, grid_rates in grid.items():
            for r, p in enumerate(grid_rates):
                model = drop_mlp(method, p, hidden, rng=int(seed))
                train.fit(model, losses.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr, momentum=0.9),
                          (X, y), epochs=epochs, batch_size=32, progress=False, rng=int(seed) + 1000)
                for key, (Xe, ye) in {"val": (ds.X_val, ds.y_val), "test": (ds.X_test, ds.y_test),
                                      "train": (X, y)}.items():
                    acc[key][method][s, r] = _accuracy(model, Xe, ye)
                if method == "dropconnect":
                    h = np.maximum(model[0](ds.X_test), 0.0)
                    probs = moment_matching_probabilities(h, model[-1].weight.value, model[-1].bias.value, p,
                                                          rng=int(seed))
                    moment[s, r] = np.mean(probs.argmax(axis=1) == ds.y_test)
    chosen = {m: np.argmax(acc["val"][m], axis=1) for m in grid}       # ties: the lowest rate
    tuned = {m: acc["test"][m][np.arange(len(seeds)), chosen[m]] for m in grid}
    return read_only(DropConnectStudy(np.array(rates), acc["val"], acc["test"], acc["train"], chosen, tuned,
                                      moment))
