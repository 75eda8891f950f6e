"""REG-07: data augmentation. Label-preserving shifts of the digits, and an honest measurement of what
they buy: nothing on the clean validation digits, a lot on digits moved by one pixel."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse.data import batches
from gdcourse.experiments.regularization.shared import digits, mlp, one_blas_thread, read_only
from gdcourse.experiments.regularization.students import students_accuracy, train_students
from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["shift_images", "flip_images", "augment_digits", "train_digits", "stratified_subset",
           "displaced_validation", "AugmentationStudy", "augmentation_study"]


def shift_images(X, shifts, image_shape=(8, 8)):
    """Translate each image by whole pixels, filling the uncovered border with 0.

    ``X (N, H·W)``, ``shifts (N, 2)`` ints ``(rows down, columns right)``; returns
    ``(N, H·W)``. Pixels shifted past the border are lost.
    """
    X = check_array(X, "X", ndim=2)
    shifts = np.asarray(shifts)
    h, w = image_shape
    if X.shape[1] != h * w:
        raise ValueError(f"X: expected {h * w} pixels per row for images {image_shape}, got {X.shape[1]}")
    if shifts.shape != (len(X), 2) or shifts.dtype.kind not in "iu":
        raise ValueError(f"shifts: expected ints of shape ({len(X)}, 2), got {shifts.dtype} {shifts.shape}")
    k = int(np.abs(shifts).max(initial=0))
    padded = np.pad(X.reshape(-1, h, w), ((0, 0), (k, k), (k, k)))
    rows = np.arange(h)[None, :] + k - shifts[:, :1]          # (N, h): source row of each output row
    cols = np.arange(w)[None, :] + k - shifts[:, 1:]          # (N, w)
    n = np.arange(len(X))[:, None, None]
    return padded[n, rows[:, :, None], cols[:, None, :]].reshape(len(X), h * w)


def flip_images(X, image_shape=(8, 8)):
    """Mirror each image left-right: ``(N, H·W)`` → ``(N, H·W)``. Not label-preserving for digits."""
    X = check_array(X, "X", ndim=2)
    return X.reshape(-1, *image_shape)[:, :, ::-1].reshape(len(X), -1)


def augment_digits(X, rng, max_shift=1, prob=0.5, noise=0.0):
    """Random label-preserving perturbations of digit images, fresh on every call.

    Each image, with probability ``prob``, is shifted by a random whole-pixel
    offset in ``{−max_shift … max_shift}²`` (which may be (0, 0)); then Gaussian
    noise of std ``noise`` is added to every pixel. No flips, no large rotations:
    they can turn one digit into another.
    """
    rng = as_rng(rng)
    X = check_array(X, "X", ndim=2)
    max_shift = check_positive_int(max_shift, "max_shift", allow_zero=True)
    prob = check_positive(prob, "prob", allow_zero=True)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(len(X), 2))
    shifts[rng.random(len(X)) >= prob] = 0
    out = shift_images(X, shifts)
    noise = check_positive(noise, "noise", allow_zero=True)
    return out + noise * rng.standard_normal(out.shape) if noise else out


def train_digits(X, y, hidden=128, epochs=60, augment=None, lr=0.05, batch_size=32, rng=0) -> nn.Sequential:
    """A ``64-hidden-10`` ReLU network trained with SGD (momentum 0.9) on cross-entropy.

    ``augment(X, rng) -> X'`` (optional) makes a fresh perturbed copy of the
    training images at the start of every epoch. Returns the trained model.
    """
    rng = as_rng(rng)
    X = check_array(X, "X", ndim=2, finite=True)
    model = mlp((X.shape[1], check_positive_int(hidden, "hidden"), 10), rng=rng)
    loss, opt = L.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    for _ in range(check_positive_int(epochs, "epochs")):
        X_epoch = augment(X, rng) if augment is not None else X
        for xb, yb in batches(X_epoch, y, batch_size, rng=rng):
            opt.zero_grad()
            loss.forward(model.forward(xb), yb)
            model.backward(loss.backward(), input_grad=False)
            opt.step()
    return model


def stratified_subset(X, y, per_class, rng):
    """``per_class`` examples of each class of ``y``, drawn without replacement and shuffled: ``(X', y')``."""
    rng = as_rng(rng)
    idx = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class] for c in np.unique(y)])
    idx = rng.permutation(idx)
    return X[idx], y[idx]


@functools.lru_cache(maxsize=1)
def displaced_validation():
    """The validation digits, each moved by exactly one pixel in one of the 8 directions (drawn by default_rng(123)).

    A stand-in for a deployment where the digit cropper is off by a pixel.
    """
    ds = digits()
    directions = np.array([(r, c) for r in (-1, 0, 1) for c in (-1, 0, 1) if (r, c) != (0, 0)])
    shifts = directions[np.random.default_rng(123).integers(0, 8, len(ds.X_val))]
    return read_only(shift_images(ds.X_val, shifts))


@dataclass(frozen=True)
class AugmentationStudy:
    """Validation accuracy with and without augmentation, one entry per training seed.

    ``clean[k]`` and ``displaced[k]`` for ``k`` in ("plain", "augmented"), each ``(len(seeds),)``:
    accuracy on the validation digits as they are, and moved by one pixel.
    """

    n_train: int
    seeds: tuple
    clean: dict
    displaced: dict

    def mean(self, which, kind) -> float:
        return float(np.mean(getattr(self, which)[kind]))

    def std(self, which, kind) -> float:
        return float(np.std(getattr(self, which)[kind]))


def augmentation_study(per_class=20, seeds=tuple(range(20)), epochs=60, max_shift=1, prob=0.5) -> AugmentationStudy:
    """Train the same network on ``10·per_class`` digits with and without shift augmentation.

    The training subset is fixed (seed 0); each seed changes initialization,
    batch order and augmentation draws, identically for both arms. Cached per setting, read-only.
    """
    return _augmentation_study(check_positive_int(per_class, "per_class"), tuple(int(s) for s in seeds),
                               check_positive_int(epochs, "epochs"),
                               check_positive_int(max_shift, "max_shift"), check_positive(prob, "prob"))


@functools.lru_cache(maxsize=8)
@stored
@one_blas_thread
def _augmentation_study(per_class, seeds, epochs, max_shift, prob):
    ds = digits()
    X, y = stratified_subset(ds.X_train, ds.y_train, per_class, rng=0)
    displaced = displaced_validation()
    clean, moved = {"plain": [], "augmented": []}, {"plain": [], "augmented": []}
    augment = functools.partial(augment_digits, max_shift=max_shift, prob=prob)
    for kind, aug in (("plain", None), ("augmented", augment)):
        # train_digits for every seed at once (the same networks, see .students)
        models = train_students(X, y, hidden=128, epochs=epochs, lr=0.05, batch_size=32, seeds=seeds, augment=aug)
        clean[kind] = students_accuracy(models, ds.X_val, ds.y_val)
        moved[kind] = students_accuracy(models, displaced, ds.y_val)
    return read_only(AugmentationStudy(len(X), seeds, clean, moved))
