"""REG-10: pruning. Global magnitude pruning of a trained digits network against random pruning, and
fine-tuning with the mask held fixed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse.data import batches
from gdcourse.experiments.regularization.shared import digits, one_blas_thread, trained_digits_mlp, weight_matrices
from gdcourse.memo import stored
from gdcourse.train import accuracy, predict
from gdcourse.validate import as_rng, check_positive_int

__all__ = ["magnitude_masks", "random_masks", "dense_digits_model", "finetune_masked", "PruningCurve",
           "pruning_curve"]


def magnitude_masks(weights, fraction):
    """Global magnitude pruning: keep-masks that zero the ``round(fraction · n)`` smallest ``|w|``.

    ``weights`` a list of arrays (the weight matrices; biases are not pruned);
    one threshold across all of them (Han et al., 2015). Ties are broken by
    position, so exactly that many entries are pruned. Returns bool masks.
    """
    return _masks_from_order(weights, fraction, lambda flat: np.argsort(np.abs(flat), kind="stable"))


def random_masks(weights, fraction, rng=0):
    """Keep-masks that zero ``round(fraction · n)`` entries chosen uniformly at random (the baseline)."""
    rng = as_rng(rng)
    return _masks_from_order(weights, fraction, lambda flat: rng.permutation(flat.size))


def _masks_from_order(weights, fraction, order_of):
    fraction = float(fraction)
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction: expected a number in [0, 1], got {fraction}")
    weights = [np.asarray(w) for w in weights]
    flat = np.concatenate([w.ravel() for w in weights])
    keep = np.ones(flat.size, dtype=bool)
    keep[order_of(flat)[: int(round(fraction * flat.size))]] = False
    masks, start = [], 0
    for w in weights:
        masks.append(keep[start:start + w.size].reshape(w.shape))
        start += w.size
    return masks


def dense_digits_model(hidden=128, epochs=20, rng=0) -> nn.Sequential:
    """A fresh copy of the trained 64-hidden-10 digits network that the pruning experiment prunes
    (:func:`~gdcourse.experiments.regularization.shared.trained_digits_mlp`; trained once per setting)."""
    return trained_digits_mlp(hidden, epochs, rng)


def finetune_masked(model, masks, epochs, rng):
    """Train ``model`` on the training digits for ``epochs`` epochs with its pruned weights held at 0.

    ``masks``: one bool keep-mask per weight matrix (:func:`magnitude_masks`). SGD (lr 0.02,
    momentum 0.9), batches of 32. Modifies ``model`` in place.
    """
    ds = digits()
    weights = weight_matrices(model)
    loss, opt = L.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
    for _ in range(check_positive_int(epochs, "epochs")):
        for xb, yb in batches(ds.X_train, ds.y_train, 32, rng=rng):
            opt.zero_grad()
            loss.forward(model.forward(xb), yb)
            model.backward(loss.backward(), input_grad=False)
            for p, keep in zip(weights, masks, strict=True):
                p.grad *= keep           # pruned weights get no update...
            opt.step()
            for p, keep in zip(weights, masks, strict=True):
                p.value *= keep          # ...and momentum cannot revive them


@dataclass(frozen=True)
class PruningCurve:
    """Validation accuracy against the fraction of weights removed.

    ``fractions (K,)``; ``magnitude`` (prune smallest |w|, no retraining),
    ``finetuned`` (the same masks, then ``finetune_epochs`` epochs with the mask
    fixed), ``random`` (random masks, no retraining): each ``(K,)``. ``dense`` is the
    unpruned accuracy.
    """

    fractions: np.ndarray
    magnitude: np.ndarray
    finetuned: np.ndarray
    random: np.ndarray
    dense: float
    finetune_epochs: int


@stored
@one_blas_thread
def pruning_curve(fractions=(0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98), finetune_epochs=3, rng=0) -> PruningCurve:
    """Prune the trained digits network at each fraction (globally, weights only) and evaluate."""
    ds = digits()
    fractions = np.asarray(fractions, dtype=float)
    finetune_epochs = check_positive_int(finetune_epochs, "finetune_epochs")
    rng = as_rng(rng)
    results = {"magnitude": [], "finetuned": [], "random": []}
    dense = accuracy(predict(dense_digits_model(), ds.X_val), ds.y_val)
    for fraction in fractions:
        for kind in ("magnitude", "random"):
            model = dense_digits_model()
            weights = weight_matrices(model)
            values = [p.value for p in weights]
            if kind == "magnitude":
                masks = magnitude_masks(values, fraction)
            else:
                masks = random_masks(values, fraction, rng)
            for p, keep in zip(weights, masks, strict=True):
                p.value *= keep
            results[kind].append(accuracy(predict(model, ds.X_val), ds.y_val))
            if kind == "magnitude":
                finetune_masked(model, masks, finetune_epochs, rng)
                results["finetuned"].append(accuracy(predict(model, ds.X_val), ds.y_val))
    curves = (np.array(results[k]) for k in ("magnitude", "finetuned", "random"))
    return PruningCurve(fractions, *curves, dense, finetune_epochs)
