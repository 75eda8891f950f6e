"""Data: the mini-batch iterator, splits, the digits data set and small toy problems.

Mini-batches and epochs
-----------------------
``batches(X, y, batch_size)`` yields one *epoch*: without replacement (the default)
the rows are shuffled once and cut into consecutive chunks, so every sample is
used exactly once. With ``replacement=True`` the same number of batches of the
same sizes is drawn, but every index is drawn uniformly at random with
replacement; then some samples appear twice and a fraction ``(1 − 1/N)^N ≈ 1/e ≈
37%`` is never seen in that "epoch". That contrast is why training loops use
epochs (question VAR-06, notebook 02).

Every random function takes ``rng`` (an int seed or a ``numpy.random.Generator``);
the same seed gives the same numbers. Features are float64 (or the ``dtype`` asked
for), class labels int64, regression targets float64.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass, replace

import numpy as np

from gdcourse.memo import stored
from gdcourse.validate import (
    as_rng,
    check_array,
    check_labels,
    check_positive,
    check_positive_int,
    check_same_length,
)

__all__ = [
    "batches",
    "batch_indices",
    "num_batches",
    "train_val_split",
    "Dataset",
    "load_digits",
    "standardize",
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_xor",
    "make_linear_regression",
    "make_sparse_features",
    "one_hot",
]


# ---------------------------------------------------------------- mini-batches

def num_batches(num_samples: int, batch_size: int, drop_last: bool = False) -> int:
    """Batches per epoch: ``ceil(N / B)``, or ``floor(N / B)`` when the last partial batch is dropped."""
    num_samples = check_positive_int(num_samples, "num_samples", allow_zero=True)
    batch_size = check_positive_int(batch_size, "batch_size")
    return num_samples // batch_size if drop_last else -(-num_samples // batch_size)


def batch_indices(num_samples: int, batch_size: int = 32, *, shuffle: bool = True, replacement: bool = False,
                  drop_last: bool = False, rng=None) -> list[np.ndarray]:
    """The row indices of each mini-batch of one epoch.

    Without replacement: a permutation of ``range(N)`` (``arange`` if not
    ``shuffle``) cut into chunks of ``batch_size``; the last chunk holds the
    ``N mod B`` leftovers unless ``drop_last``. With replacement: the same batch
    sizes, filled with indices drawn uniformly from ``range(N)`` with replacement.
    ``drop_last`` with ``batch_size > num_samples`` is an error: it would leave no batch.

    Returns a list of int64 arrays.
    """
    num_samples = check_positive_int(num_samples, "num_samples")
    batch_size = check_positive_int(batch_size, "batch_size")
    if drop_last and batch_size > num_samples:
        raise ValueError(
            f"batch_size: expected at most the {num_samples} samples with drop_last=True (else the only, "
            f"partial batch is dropped and the epoch is empty), got {batch_size}"
        )
    if replacement and not shuffle:
        raise ValueError(
            "shuffle: expected True with replacement=True (sampling with replacement is random "
            "by nature), got shuffle=False"
        )
    rng = as_rng(rng)
    if replacement:
        order = rng.integers(0, num_samples, size=num_samples)
    elif shuffle:
        order = rng.permutation(num_samples)
    else:
        order = np.arange(num_samples)
    stop = num_batches(num_samples, batch_size, drop_last) * batch_size
    return [order[start:start + batch_size] for start in range(0, stop, batch_size)]


def batches(X, y=None, batch_size: int = 32, shuffle: bool = True, replacement: bool = False,
            drop_last: bool = False, rng=None):
    """Iterate over one epoch of mini-batches.

    Parameters
    ----------
    X : ndarray (N, ...)
        Float features, finite, N >= 1.
    y : ndarray (N, ...), optional
        Targets, cut the same way as ``X``.
    batch_size : int
        Rows per batch (the last one may be smaller, see ``drop_last``).
    shuffle : bool
        Visit the rows in a fresh random order (else in order 0..N-1).
    replacement : bool
        Draw each index uniformly with replacement instead (see the module
        docstring): same number and sizes of batches, but some rows repeat and
        about 1/e of them are missed.
    drop_last : bool
        Skip the final batch when it has fewer than ``batch_size`` rows.
    rng : int or Generator

    Yields
    ------
    ``(X_batch, y_batch)``, or ``X_batch`` when ``y`` is None (copies, not views).

    Input is checked when ``batches`` is called, before the first batch.
    """
    X = check_array(X, "X", finite=True)
    if X.ndim == 0:
        raise ValueError(f"X: expected an array of shape (N, ...), got a scalar {X!r}")
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 0:
            raise ValueError(f"y: expected an array of shape (N, ...), got a scalar {y!r}")
        check_same_length(X, y, "X", "y")
    index_batches = batch_indices(len(X), batch_size, shuffle=shuffle, replacement=replacement,
                                  drop_last=drop_last, rng=rng)
    if y is None:
        return (X[idx] for idx in index_batches)
    return ((X[idx], y[idx]) for idx in index_batches)


# ---------------------------------------------------------------- splits

def _sklearn():
    """scikit-learn's data sets and splitter, imported on first use: importing it costs ~0.8-2 s, and
    ``gdcourse.train`` (which imports this module for ``batches``) should not pay that. The seeded
    data sets (digits, moons, circles) are also ``@stored``, so a notebook whose data are in the
    store does not import scikit-learn at all."""
    import sklearn.datasets
    import sklearn.model_selection

    return sklearn.datasets, sklearn.model_selection.train_test_split


def _seed(rng) -> int:
    """A seed for scikit-learn (which takes ints, not Generators), drawn from ``rng``."""
    return int(as_rng(rng).integers(0, 2**31 - 1))


def _check_open_fraction(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise ValueError(f"{name}: expected a number in (0, 1), got {value!r}")
    return float(value)


def train_val_split(X, y, val_fraction: float = 0.2, rng=None, stratify: bool = False):
    """Split ``X, y`` at random into a training and a validation part.

    ``stratify=True`` keeps the class proportions of ``y`` in both parts.
    Returns ``X_train, X_val, y_train, y_val`` (the order of scikit-learn's
    ``train_test_split``, which does the work).
    """
    X = check_array(X, "X", float_only=False, finite=True)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"X, y: expected arrays with one row per sample, got shapes {X.shape} and {y.shape}")
    check_same_length(X, y, "X", "y")
    val_fraction = _check_open_fraction(val_fraction, "val_fraction")
    n_val = math.ceil(val_fraction * len(X))  # scikit-learn rounds the validation size up
    if n_val >= len(X):
        raise ValueError(
            f"val_fraction: {val_fraction} of {len(X)} samples leaves an empty part; "
            "expected at least one sample on each side"
        )
    if stratify:
        _check_stratifiable(y, n_val, len(X) - n_val)
    _, train_test_split = _sklearn()
    return train_test_split(X, y, test_size=val_fraction, random_state=_seed(rng),
                            stratify=y if stratify else None)


def _check_stratifiable(y, n_val, n_train):
    """Every class needs a member on each side, and each side a place for every class."""
    if y.ndim != 1:
        raise ValueError(f"y: expected 1-D class labels to stratify by, got shape {y.shape}")
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < 2:
        rare = classes[counts < 2]
        others = f" and of {len(rare) - 1} other classes" if len(rare) > 1 else ""
        raise ValueError(
            f"y: stratify=True needs at least 2 samples of every class (one for each part), "
            f"got 1 sample of class {rare[0].item()!r}{others}"
        )
    if min(n_val, n_train) < len(classes):
        raise ValueError(
            f"val_fraction: stratify=True needs at least one sample of each of the {len(classes)} classes "
            f"in both parts, got {n_train} training and {n_val} validation samples"
        )


# ---------------------------------------------------------------- digits

@dataclass(frozen=True, eq=False)
class Dataset:
    """A classification data set split into train, validation and test parts.

    ``X_*`` have shape ``(n_part, num_features)``; ``y_*`` are int64 labels in
    ``[0, num_classes)``. ``X_val``/``y_val`` have zero rows when no validation
    part was asked for.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    image_shape: tuple
    feature_names: tuple
    description: str = ""

    @property
    def num_features(self) -> int:
        return self.X_train.shape[1]

    def standardized(self) -> Dataset:
        """A copy whose features are standardized with the mean and std of the *training* part."""
        X_train, X_val, X_test = standardize(self.X_train, self.X_val, self.X_test)
        return replace(self, X_train=X_train, X_val=X_val, X_test=X_test)

    def __repr__(self):
        sizes = f"train={len(self.X_train)}, val={len(self.X_val)}, test={len(self.X_test)}"
        return f"Dataset({sizes}, num_features={self.num_features}, num_classes={self.num_classes})"


def standardize(X_train, *others):
    """``(X − mean) / std`` with mean and std of ``X_train`` (per feature), applied to every array.

    Fitting on the training part only keeps the validation and test parts unseen.
    Features that are constant in ``X_train`` (std 0, like the digits' blank border
    pixels) are only centered. Returns a tuple ``(X_train, *others)`` of new arrays.
    """
    X_train = check_array(X_train, "X_train", ndim=2, finite=True)
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0).astype(X_train.dtype)
    out = [(X_train - mean) / std]
    for i, X in enumerate(others):
        X = check_array(X, f"others[{i}]", ndim=2, allow_empty=True, finite=True)
        if X.shape[1] != X_train.shape[1]:
            raise ValueError(
                f"others[{i}]: expected {X_train.shape[1]} features like X_train, got {X.shape[1]}"
            )
        out.append((X - mean) / std)
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _raw_digits():
    bunch = _sklearn()[0].load_digits()
    return bunch.data, bunch.target, tuple(bunch.feature_names)


@stored
def load_digits(test_fraction: float = 0.25, val_fraction: float = 0.0, rng=0, dtype=np.float64) -> Dataset:
    """The 8×8 handwritten digits bundled with scikit-learn (1797 images, 10 classes, no download).

    Pixels (0..16) are divided by 16, so features lie in ``[0, 1]``. The split is
    stratified by class: ``test_fraction`` of all samples go to the test part,
    ``val_fraction`` of all samples to the validation part (the two together below
    0.9, each part at least one sample per class), the rest to training. The same
    ``rng`` gives the same split. Source: the UCI "Optical Recognition of
    Handwritten Digits" data (Alpaydin & Kaynak, 1998).
    """
    test_fraction = _check_open_fraction(test_fraction, "test_fraction")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, numbers.Real) or not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction: expected a number in [0, 1), got {val_fraction!r}")
    if test_fraction + val_fraction >= 0.9:
        raise ValueError(
            f"test_fraction + val_fraction: expected < 0.9 to leave training data, "
            f"got {test_fraction} + {val_fraction}"
        )
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"dtype: expected a floating-point dtype, got {dtype}")
    data, target, names = _raw_digits()
    _, train_test_split = _sklearn()
    X, y = (data / 16.0).astype(dtype), target.astype(np.int64)
    _check_part_size(math.ceil(test_fraction * len(X)), len(X), test_fraction, "test_fraction")
    if val_fraction:
        _check_part_size(round(val_fraction * len(X)), len(X), val_fraction, "val_fraction")
    rng = as_rng(rng)
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_fraction, random_state=_seed(rng), stratify=y)
    n_val = round(val_fraction * len(X))
    if n_val:
        X_train, X_val, y_train, y_val = train_test_split(
            X_rest, y_rest, test_size=n_val, random_state=_seed(rng), stratify=y_rest)
    else:
        X_train, y_train = X_rest, y_rest
        X_val, y_val = np.empty((0, X.shape[1]), dtype=dtype), np.empty(0, dtype=np.int64)
    return Dataset(X_train, y_train, X_val, y_val, X_test, y_test, num_classes=10, image_shape=(8, 8),
                   feature_names=names, description="8x8 handwritten digits, pixels scaled to [0, 1]")


def _check_part_size(size, total, fraction, name, classes=10):
    """A stratified part of the digits needs a sample of each class."""
    if size < classes:
        raise ValueError(
            f"{name}: expected at least {classes}/{total} (one sample of each of the {classes} classes in a "
            f"stratified split), got {fraction} ({size} samples)"
        )


# ---------------------------------------------------------------- toy problems

def _check_noise(noise) -> float:
    return check_positive(noise, "noise", allow_zero=True)


@stored
def make_moons(n: int = 200, noise: float = 0.1, rng=None):
    """Two interleaving half circles (scikit-learn's ``make_moons``).

    Returns ``X (n, 2)`` float64 and ``y (n,)`` int64 in {0, 1}.
    """
    n = check_positive_int(n, "n")
    X, y = _sklearn()[0].make_moons(n_samples=n, noise=_check_noise(noise), random_state=_seed(rng))
    return X.astype(np.float64), y.astype(np.int64)


@stored
def make_circles(n: int = 200, noise: float = 0.05, factor: float = 0.5, rng=None):
    """A small circle inside a large one (scikit-learn's ``make_circles``); ``factor`` is the radius ratio.

    Returns ``X (n, 2)`` float64 and ``y (n,)`` int64 in {0, 1} (1 = inner circle).
    """
    n = check_positive_int(n, "n")
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ValueError(f"factor: expected a number in (0, 1), got {factor!r}")
    X, y = _sklearn()[0].make_circles(n_samples=n, noise=_check_noise(noise), factor=factor,
                                      random_state=_seed(rng))
    return X.astype(np.float64), y.astype(np.int64)


def make_spirals(n: int = 300, classes: int = 3, noise: float = 0.05, turns: float = 0.75, rng=None):
    """``classes`` interleaved spiral arms, one per class.

    Sample k of class c sits at fraction ``s ∈ [0, 1)`` along its arm, at radius
    ``r = 0.1 + 0.9 s`` and angle ``θ = 2π (c / classes + turns · s)``, plus
    Gaussian noise of std ``noise`` on each coordinate. Classes differ in size by
    at most one and the rows come in random order.

    Returns ``X (n, 2)`` float64 and ``y (n,)`` int64 in ``[0, classes)``.
    """
    n = check_positive_int(n, "n")
    classes = check_positive_int(classes, "classes")
    if classes < 2 or n < classes:
        raise ValueError(f"classes: expected 2 <= classes <= n (n={n}), got {classes}")
    noise = _check_noise(noise)
    turns = check_positive(turns, "turns")
    rng = as_rng(rng)
    y = np.arange(n) % classes
    counts = np.bincount(y, minlength=classes)
    s = (np.arange(n) // classes) / counts[y]
    radius = 0.1 + 0.9 * s
    theta = 2.0 * np.pi * (y / classes + turns * s)
    X = np.stack([radius * np.cos(theta), radius * np.sin(theta)], axis=1)
    X += noise * rng.standard_normal(X.shape)
    order = rng.permutation(n)
    return X[order], y[order].astype(np.int64)


def make_xor(n: int = 200, noise: float = 0.25, rng=None):
    """Four Gaussian clusters at ``(±1, ±1)`` labelled by XOR of the signs.

    Label 1 for the clusters at ``(1, −1)`` and ``(−1, 1)`` (signs differ), 0 for
    ``(1, 1)`` and ``(−1, −1)``; ``noise`` is the std of each cluster. The clusters
    differ in size by at most one and the rows come in random order. No straight
    line separates the classes (Minsky & Papert, 1969).

    Returns ``X (n, 2)`` float64 and ``y (n,)`` int64 in {0, 1}.
    """
    n = check_positive_int(n, "n")
    noise = _check_noise(noise)
    rng = as_rng(rng)
    corner = rng.permutation(np.arange(n) % 4)
    signs = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]])[corner]
    X = signs + noise * rng.standard_normal((n, 2))
    y = (signs[:, 0] != signs[:, 1]).astype(np.int64)
    return X, y


def make_linear_regression(n: int = 100, d: int = 1, noise: float = 0.1, rng=None):
    """``y = X w + b + ε`` with ``X, w, b ~ N(0, 1)`` and ``ε ~ N(0, noise²)``.

    Returns ``X (n, d)``, ``y (n,)``, ``true_w (d,)`` and ``true_b`` (a float), all
    float64. For a ``Linear(d, 1)`` model use ``y[:, None]`` as the target.
    """
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d")
    noise = _check_noise(noise)
    rng = as_rng(rng)
    true_w = rng.standard_normal(d)
    true_b = float(rng.standard_normal())
    X = rng.standard_normal((n, d))
    y = X @ true_w + true_b + noise * rng.standard_normal(n)
    return X, y, true_w, true_b


def make_sparse_features(n: int = 1000, d: int = 20, density: float = 0.01, noise: float = 0.0, rng=None):
    """A linear regression whose features are non-zero with very different frequencies.

    Feature j is 1 with probability ``frequency[j]`` and 0 otherwise (like a word
    being present in a document), where ``frequency`` falls geometrically from 1
    (always present) to ``density`` (the rarest feature). The target is
    ``y = X w + ε`` with ``w ~ N(0, 1)``. Gradients of the rare features' weights
    are zero on most mini-batches: the situation where Adagrad's per-parameter
    step sizes help (Duchi et al., 2011).

    Returns ``X (n, d)``, ``y (n,)``, ``true_w (d,)`` and ``frequency (d,)``, all float64.
    """
    n = check_positive_int(n, "n")
    d = check_positive_int(d, "d")
    if isinstance(density, bool) or not isinstance(density, numbers.Real) or not 0 < density <= 1:
        raise ValueError(f"density: expected a number in (0, 1], got {density!r}")
    noise = _check_noise(noise)
    rng = as_rng(rng)
    frequency = np.geomspace(1.0, density, d) if d > 1 else np.ones(1)
    true_w = rng.standard_normal(d)
    X = (rng.random((n, d)) < frequency).astype(np.float64)
    y = X @ true_w + noise * rng.standard_normal(n)
    return X, y, true_w, frequency


def one_hot(y, num_classes: int) -> np.ndarray:
    """Rows of the identity: ``out[i, y[i]] = 1``. ``y (N,)`` int labels -> ``(N, num_classes)`` float64."""
    num_classes = check_positive_int(num_classes, "num_classes")
    y = check_labels(y, "y", num_classes)
    out = np.zeros((len(y), num_classes))
    out[np.arange(len(y)), y] = 1.0
    return out

