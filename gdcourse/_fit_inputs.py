"""Checks of what ``train.fit`` and ``train.evaluate`` are given, in the callers' own argument names.

:func:`check_fit_args` checks every argument of ``fit`` before training starts. The
targets are checked in two stages, both before the first update:

* :func:`check_targets` needs only the loss: class labels are integers >= 0
  (``CrossEntropyLoss``), probabilities lie in [0, 1] (``BCELoss``,
  ``BCEWithLogitsLoss``), every target is a finite number.
* :func:`check_targets_fit_output` needs the model's output width, which only
  the model knows. ``fit`` reads it off the output of its first forward pass
  (no extra pass, no side effect on the model) and checks every target against
  it before the first backward: labels below the number of outputs, and target
  rows of the output's shape for the other losses. A custom loss (not from
  :mod:`gdcourse.losses`) gets only the generic checks.
"""

from __future__ import annotations

import numpy as np

from gdcourse import losses as L
from gdcourse.nn.module import Module
from gdcourse.validate import check_array, check_finite, check_positive, check_positive_int, check_same_length

_REGRESSION = (L.MSELoss, L.L1Loss, L.HuberLoss)
_BINARY = (L.BCELoss, L.BCEWithLogitsLoss)


def check_pair(pair, name: str, x_name: str, y_name: str):
    """``pair`` as ``(X, y)``: a 2-tuple/list, ``X`` a finite float array ``(N, ...)``, ``len(y) == N``."""
    if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
        got = f"a sequence of length {len(pair)}" if isinstance(pair, (tuple, list)) else type(pair).__name__
        raise ValueError(f"{name}: expected a pair ({x_name}, {y_name}), got {got}")
    X = check_array(pair[0], x_name, finite=True)
    if X.ndim < 2:
        raise ValueError(f"{x_name}: expected an array of shape (N, features...), got shape {X.shape}")
    y = np.asarray(pair[1])
    if y.ndim == 0:
        raise ValueError(f"{y_name}: expected an array with one target per row of {x_name}, got a scalar {y!r}")
    check_same_length(X, y, x_name, y_name)
    return X, y


def check_targets(loss, y: np.ndarray, name: str) -> None:
    """What can be checked of the targets ``y`` (one per sample) from the loss alone."""
    if y.dtype.kind not in "iuf":
        raise ValueError(f"{name}: expected numeric targets, got dtype {y.dtype}")
    check_finite(y, name)
    if isinstance(loss, L.CrossEntropyLoss):
        _check_class_targets(y, name)
    elif isinstance(loss, _BINARY) and y.size and (y.min() < 0 or y.max() > 1):
        raise ValueError(
            f"{name}: expected targets in [0, 1] for {type(loss).__name__}, "
            f"got values from {y.min()} to {y.max()}"
        )


def _check_class_targets(y, name):
    if y.ndim == 1:
        if y.dtype.kind not in "iu":
            raise ValueError(
                f"{name}: expected integer class labels for CrossEntropyLoss, got dtype {y.dtype}; "
                "convert with .astype(np.int64)"
            )
        if y.min() < 0:
            raise ValueError(f"{name}: expected class labels >= 0, got a minimum of {y.min()}")
    elif y.ndim == 2:
        sums = y.sum(axis=1)
        bad = np.flatnonzero((y < 0).any(axis=1) | ~np.isclose(sums, 1.0, atol=1e-6))  # the loss's tolerance
        if bad.size:
            row = int(bad[0])
            raise ValueError(
                f"{name}: expected rows of class probabilities (>= 0, summing to 1) for CrossEntropyLoss, "
                f"got {bad.size} other rows (first: row {row}, summing to {sums[row]:.6g})"
            )
    else:
        raise ValueError(
            f"{name}: expected class labels (N,) or probability rows (N, C) for CrossEntropyLoss, "
            f"got shape {y.shape}"
        )


def check_targets_fit_output(loss, y: np.ndarray, name: str, output: np.ndarray) -> None:
    """Check ``y`` against one batch of the model's ``output`` (its width is the model's)."""
    if not isinstance(output, np.ndarray):
        return
    if isinstance(loss, L.CrossEntropyLoss):
        if output.ndim != 2:
            return  # the loss itself reports a model output that is not (N, C) logits
        classes = output.shape[1]
        if y.ndim == 1 and y.max() >= classes:
            raise ValueError(
                f"{name}: expected labels in [0, {classes - 1}] for a model with {classes} outputs, "
                f"got values up to {y.max()}"
            )
        if y.ndim == 2 and y.shape[1] != classes:
            raise ValueError(
                f"{name}: expected {classes} columns (one per model output), got shape {y.shape}"
            )
    elif isinstance(loss, _REGRESSION + _BINARY) and y.shape[1:] != output.shape[1:]:
        want = (len(y), *output.shape[1:])
        hint = "; reshape it with y[:, None]" if y.ndim == 1 and output.shape[1:] == (1,) else ""
        raise ValueError(
            f"{name}: expected shape {want} to match the model's output (one row of shape "
            f"{output.shape[1:]} per sample), got {y.shape}{hint}"
        )


def check_same_features(X: np.ndarray, X_other: np.ndarray, name: str, other: str) -> None:
    """``X_other`` has the per-sample shape of ``X`` (same features, so the same model applies)."""
    if X_other.shape[1:] != X.shape[1:]:
        raise ValueError(
            f"{other}: expected samples of shape {X.shape[1:]} like {name}, got {X_other.shape[1:]} "
            f"(shape {X_other.shape})"
        )


def check_fit_args(model, loss, optimizer, data, val, epochs, batch_size, schedule, l1, l2, clip_norm,
                   early_stopping, callbacks):
    """Everything ``fit`` can check before it starts; returns ``X, y, val, callbacks``."""
    if not isinstance(model, Module):
        raise TypeError(f"model: expected a gdcourse.nn.Module, got {type(model).__name__}")
    for name, obj, methods in (("loss", loss, ("forward", "backward")),
                                 ("optimizer", optimizer, ("step", "zero_grad"))):
        missing = [m for m in methods if not callable(getattr(obj, m, None))]
        if missing:
            raise TypeError(f"{name}: expected an object with {'() and '.join(methods)}(), got {type(obj).__name__}")
    _check_optimizer_covers(model, optimizer)
    X, y = check_pair(data, "data", "X", "y")
    check_targets(loss, y, "y")
    if val is not None:
        X_val, y_val = check_pair(val, "val", "X_val", "y_val")
        check_same_features(X, X_val, "X", "X_val")
        check_targets(loss, y_val, "y_val")
        val = (X_val, y_val)
    check_positive_int(epochs, "epochs")
    check_positive_int(batch_size, "batch_size")
    check_positive(l1, "l1", allow_zero=True)
    check_positive(l2, "l2", allow_zero=True)
    if clip_norm is not None:
        check_positive(clip_norm, "clip_norm")
    if schedule is not None and not callable(schedule):
        raise TypeError(f"schedule: expected a callable step -> lr or None, got {type(schedule).__name__}")
    if early_stopping is not None and not callable(getattr(early_stopping, "step", None)):
        raise TypeError(
            f"early_stopping: expected an EarlyStopping or None, got {type(early_stopping).__name__}"
        )
    try:
        callbacks = tuple(callbacks)
    except TypeError:
        raise TypeError(
            f"callbacks: expected an iterable of callables, got {type(callbacks).__name__}; "
            "pass a single callback as [callback]"
        ) from None
    for i, callback in enumerate(callbacks):
        if not callable(callback):
            raise TypeError(
                f"callbacks[{i}]: expected a callable f(epoch, history, model), got {type(callback).__name__}"
            )
    return X, y, val, callbacks


def _check_optimizer_covers(model, optimizer):
    """An optimizer built over another model's parameters (e.g. before the model was rebuilt) would
    train nothing: refuse it. Sharing only some parameters (a frozen part) is fine."""
    owned = getattr(optimizer, "params", None)
    if not owned:
        return
    mine = {id(p) for p in model.parameters()}
    if mine and not any(id(p) in mine for p in owned):
        raise ValueError(
            "optimizer: expected an optimizer over model.parameters(), got one over "
            f"{len(owned)} other parameters (was the model rebuilt after the optimizer was made?)"
        )
