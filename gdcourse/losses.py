"""Loss functions: ``forward(pred, target) -> float`` (mean over the batch) and
``backward() -> dL/dpred`` (same shape as ``pred``).

Every loss is the mean over all its terms, so its gradient carries a ``1/n``;
the math matches the ``torch.nn`` losses of the same name (``reduction="mean"``).

Targets are data and are checked (shape, finite values, the range a loss needs);
predictions are the model's output: a NaN or inf prediction gives a NaN or inf
loss, quietly, because that is how ``fit`` and the learning-rate range test see a
diverging model.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from gdcourse import functional as F
from gdcourse.validate import (
    all_finite,
    check_array,
    check_finite,
    check_labels,
    check_positive,
    check_same_length,
    check_unit_interval,
)

__all__ = ["Loss", "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
           "distillation_loss", "z_loss"]


@functools.lru_cache(maxsize=16)
def _rows(n):
    """``np.arange(n)``, read-only and cached: the batch size rarely changes."""
    rows = np.arange(n)
    rows.flags.writeable = False
    return rows


class Loss:
    """Base class: subclasses implement ``forward`` (storing what ``backward`` needs in
    ``self._cache``) and ``backward``."""

    def __init__(self):
        self._cache = None

    def __call__(self, pred, target):
        return self.forward(pred, target)

    def _saved(self):
        if self._cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward was called before forward: compute the loss first"
            )
        return self._cache

    def __repr__(self):
        return f"{type(self).__name__}()"


def _check_pair(pred, target, loss):
    """``target`` as an array of ``pred``'s dtype, after checking ``pred``'s type, both shapes
    and that ``target`` is numeric (its finiteness: :func:`_finite_target_loss`)."""
    if not isinstance(pred, np.ndarray) or pred.dtype.kind != "f":
        got = getattr(pred, "dtype", type(pred).__name__)
        raise ValueError(f"{loss}: expected pred to be a floating-point array, got {got}")
    target = np.asarray(target)
    if target.shape != pred.shape:
        raise ValueError(f"{loss}: expected target of shape {pred.shape} (the shape of pred), got {target.shape}")
    if pred.size == 0:
        raise ValueError(f"{loss}: expected a non-empty batch, got pred of shape {pred.shape}")
    if target.dtype.kind not in "fiub":
        raise ValueError(f"{loss}: target: expected numbers, got dtype {target.dtype}")
    return target.astype(pred.dtype, copy=False)


def _finite_target_loss(value, target, loss):
    """``value`` after making sure a NaN or inf loss comes from ``pred``, not from ``target``.

    Checked only when the loss is not finite, which a non-finite target always makes
    it: the check costs nothing on the hot path.
    """
    if not math.isfinite(value):
        check_finite(target, f"{loss}: target")
    return value


def _check_unit_targets(target, loss):
    """Binary cross-entropy targets are probabilities: every entry in [0, 1]."""
    low, high = target.min(), target.max()
    if not (0 <= low and high <= 1):
        check_finite(target, f"{loss}: target")
        raise ValueError(f"{loss}: target: expected values in [0, 1] (probabilities of class 1), "
                         f"got values from {low} to {high}")


class MSELoss(Loss):
    """``L = mean((pred − target)²)``; ``dL/dpred = 2 (pred − target) / n``."""

    def forward(self, pred, target):
        target = _check_pair(pred, target, "MSELoss")
        diff = pred - target
        self._cache = diff
        return _finite_target_loss(float(np.vdot(diff, diff)) / diff.size, target, "MSELoss")

    def backward(self):
        diff = self._saved()
        return diff * np.asarray(2.0 / diff.size, dtype=diff.dtype)


class L1Loss(Loss):
    """``L = mean(|pred − target|)``; ``dL/dpred = sign(pred − target) / n`` (0 at ties)."""

    def forward(self, pred, target):
        target = _check_pair(pred, target, "L1Loss")
        diff = pred - target
        self._cache = diff
        return _finite_target_loss(float(np.abs(diff).mean()), target, "L1Loss")

    def backward(self):
        diff = self._saved()
        return np.sign(diff) / diff.size


class HuberLoss(Loss):
    """Quadratic near zero, linear beyond ``delta`` (Huber, 1964)::

        ℓ(r) = r²/2                 if |r| ≤ δ
               δ (|r| − δ/2)        otherwise

    ``dℓ/dr = clip(r, −δ, δ)``: outliers pull with a bounded force.
    """

    def __init__(self, delta=1.0):
        super().__init__()
        self.delta = check_positive(delta, "delta")

    def forward(self, pred, target):
        target = _check_pair(pred, target, "HuberLoss")
        r = pred - target
        self._cache = r
        a = np.abs(r)
        d = self.delta
        return _finite_target_loss(float(np.where(a <= d, 0.5 * r * r, d * (a - 0.5 * d)).mean()), target,
                                   "HuberLoss")

    def backward(self):
        r = self._saved()
        return np.clip(r, -self.delta, self.delta) / r.size

    def __repr__(self):
        return f"HuberLoss(delta={self.delta})"


_LOG_FLOOR = -100.0  # torch's BCELoss clamps log terms at -100, so p = 0 or 1 gives a finite loss


class BCELoss(Loss):
    """Binary cross-entropy on probabilities ``p ∈ [0, 1]``::

        L = −mean(y log p + (1 − y) log(1 − p))
        dL/dp = (p − y) / (p (1 − p)) / n

    Log terms are clamped at −100 and the denominator at 1e-12 (as PyTorch does),
    so p = 0 or 1 stays finite. Predictions and targets must lie in [0, 1]: a NaN
    prediction is an error, as in PyTorch (``fit`` reports a diverged model's NaN
    output as :class:`~gdcourse.train.TrainingDiverged`). Prefer
    :class:`BCEWithLogitsLoss` on logits.
    """

    def forward(self, pred, target):
        target = _check_pair(pred, target, "BCELoss")
        _check_unit_targets(target, "BCELoss")
        low, high = pred.min(), pred.max()  # NaN if pred holds NaN
        if not (0 <= low and high <= 1):
            what = "NaN" if np.isnan(low) else f"values from {low} to {high}"
            raise ValueError(
                f"BCELoss: pred: expected probabilities in [0, 1], got {what}; "
                "pass logits to BCEWithLogitsLoss instead"
            )
        floor = np.exp(_LOG_FLOOR)
        log_p = np.maximum(np.log(np.maximum(pred, floor)), _LOG_FLOOR)
        log_1mp = np.maximum(np.log(np.maximum(1 - pred, floor)), _LOG_FLOOR)
        self._cache = (pred, target)
        return float(-(target * log_p + (1 - target) * log_1mp).mean())

    def backward(self):
        p, y = self._saved()
        return (p - y) / np.maximum(p * (1 - p), 1e-12) / p.size


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy on logits ``z`` (numerically stable)::

        L = mean(max(z, 0) − y z + log(1 + e^{−|z|}))
        dL/dz = (σ(z) − y) / n

    Targets must lie in [0, 1] (with −1 the loss could go negative); infinite
    logits give the limits (see :func:`gdcourse.functional.bce_with_logits`).
    """

    def forward(self, pred, target):
        target = _check_pair(pred, target, "BCEWithLogitsLoss")
        _check_unit_targets(target, "BCEWithLogitsLoss")
        self._cache = (pred, target)
        loss, _ = F.bce_with_logits(pred, target)
        return loss

    def backward(self):
        z, y = self._saved()
        return (F.sigmoid(z) - y) / z.size


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy on logits ``z (N, C)``.

    ``target`` is either integer labels ``(N,)`` (*sparse* categorical) or rows of
    class probabilities ``(N, C)`` such as one-hot vectors (*categorical*); the two
    give the same loss for the same classes. ``label_smoothing=ε`` mixes the target
    with the uniform distribution: ``(1 − ε) y + ε / C``.

    ``L = −(1/N) Σ_i Σ_c y_ic log softmax(z_i)_c``, ``dL/dz = (softmax(z) − y) / N``.

    Probability rows must be finite, non-negative and sum to 1 (within 1e-6).
    Infinite logits give the limits of :func:`gdcourse.functional.log_softmax`
    (a +inf logit on the right class: loss 0), NaN logits a NaN loss, quietly.
    """

    def __init__(self, label_smoothing=0.0):
        super().__init__()
        self.label_smoothing = check_unit_interval(label_smoothing, "label_smoothing")

    def forward(self, pred, target):
        if not isinstance(pred, np.ndarray) or pred.ndim != 2 or pred.dtype.kind != "f":
            raise ValueError(
                f"CrossEntropyLoss: expected logits of shape (N, C) and float dtype, got "
                f"{getattr(pred, 'shape', type(pred).__name__)} {getattr(pred, 'dtype', '')}"
            )
        n, c = pred.shape
        if n == 0:
            raise ValueError("CrossEntropyLoss: expected a non-empty batch, got 0 rows")
        target = np.asarray(target)
        # log softmax(z)_k = s_k − log Σ_j e^{s_j} with s = z − max(z): one exp, nothing overflows
        top = pred.max(axis=1, keepdims=True)
        shifted = pred - top if all_finite(top) else F.log_softmax(pred, axis=1)  # inf − inf is NaN
        exp = np.exp(shifted)
        total = exp.sum(axis=1)
        log_total = np.log(total)
        eps = self.label_smoothing
        if target.ndim == 1:
            labels = check_labels(target, "target", c)
            if len(labels) != n:
                raise ValueError(f"CrossEntropyLoss: expected {n} labels (one per row of logits), got {len(labels)}")
            nll = log_total.sum() - shifted[_rows(n), labels].sum()
            loss = (1 - eps) * nll + eps * (log_total.sum() - shifted.mean(axis=1).sum()) if eps else nll
        else:
            labels = self._check_probabilities(target, (n, c))
            loss = -F.xlogp(labels, shifted - log_total[:, None]).sum()  # 0 · log 0 = 0
        self._cache = (exp, total, labels)
        return float(loss) / n

    def _check_probabilities(self, target, shape):
        if target.shape != shape:
            raise ValueError(
                f"CrossEntropyLoss: expected target labels (N,) or probabilities {shape}, got {target.shape}"
            )
        if target.dtype.kind not in "fiub":
            raise ValueError(f"CrossEntropyLoss: target: expected numbers, got dtype {target.dtype}")
        check_finite(target, "CrossEntropyLoss: target")
        negative = np.argwhere(target < 0)
        if len(negative):
            (row, col), count = negative[0], len(negative)
            raise ValueError(
                f"CrossEntropyLoss: target: expected rows of non-negative probabilities summing to 1, got "
                f"{count} negative entries, the first in row {row}, column {col}: {target[row, col]}"
            )
        sums = target.sum(axis=1)
        off = np.flatnonzero(np.abs(sums - 1.0) > 1e-6)
        if len(off):
            raise ValueError(
                f"CrossEntropyLoss: target: expected rows of probabilities summing to 1, got {len(off)} row(s) "
                f"that do not; the first, row {off[0]}, sums to {sums[off[0]]:.6g}"
            )
        eps = self.label_smoothing
        return (1 - eps) * target + eps / shape[1] if eps else target

    def backward(self):
        exp, total, labels = self._saved()
        n, c = exp.shape
        grad = exp / total[:, None]  # the softmax probabilities
        if labels.ndim == 1:
            eps = self.label_smoothing
            if eps:
                grad -= eps / c
            grad[_rows(n), labels] -= 1 - eps
        else:
            grad -= labels
        grad *= np.asarray(1.0 / n, dtype=grad.dtype)
        return grad

    def __repr__(self):
        return f"CrossEntropyLoss(label_smoothing={self.label_smoothing})"


def distillation_loss(student_logits, teacher_logits, labels, temperature=4.0, alpha=0.9):
    """Knowledge-distillation loss (Hinton, Vinyals & Dean, 2015) and its gradient.

    ``L = α T² KL(p_t^T ‖ p_s^T) + (1 − α) CE(y, p_s)``, ``p^T = softmax(z / T)``,
    averaged over the batch. ``student_logits, teacher_logits (N, C)``,
    ``labels (N,)`` ints. Gradient with respect to the student logits::

        dL/dz_s = [α T (p_s^T − p_t^T) + (1 − α)(p_s − onehot(y))] / N

    The ``T²`` keeps the soft term's gradient from shrinking like ``1/T²``.
    Returns ``(loss, grad (N, C))``.
    """
    zs = check_array(student_logits, "student_logits", ndim=2, finite=True)
    zt = check_array(teacher_logits, "teacher_logits", ndim=2, finite=True)
    if zs.shape != zt.shape:
        raise ValueError(f"teacher_logits: expected shape {zs.shape} like student_logits, got {zt.shape}")
    labels = check_labels(labels, "labels", zs.shape[1])
    check_same_length(zs, labels, "student_logits", "labels")
    T = check_positive(temperature, "temperature")
    alpha = check_positive(alpha, "alpha", allow_zero=True)
    if alpha > 1:
        raise ValueError(f"alpha: expected a number in [0, 1], got {alpha}")
    n = len(zs)
    log_ps_T, log_pt_T = F.log_softmax(zs / T, axis=1), F.log_softmax(zt / T, axis=1)
    pt_T = np.exp(log_pt_T)
    log_ps = F.log_softmax(zs, axis=1)
    kl = np.sum(pt_T * (log_pt_T - log_ps_T)) / n
    ce = -np.mean(log_ps[np.arange(n), labels])
    onehot = np.zeros_like(zs)
    onehot[np.arange(n), labels] = 1.0
    grad = (alpha * T * (np.exp(log_ps_T) - pt_T) + (1 - alpha) * (np.exp(log_ps) - onehot)) / n
    return float(alpha * T * T * kl + (1 - alpha) * ce), grad


def z_loss(logits, weight=1e-4):
    """The z-loss of PaLM (Chowdhery et al., 2022): ``weight · mean_i (log Z_i)²`` and its gradient.

    ``Z_i = Σ_c exp(z_ic)`` is the softmax normalizer of row ``i`` of ``logits (N, C)``. Cross-entropy does
    not change when a constant is added to a row's logits, so nothing in it stops the logits drifting; the
    z-loss pulls ``log Z`` toward 0 (then the top logit sits near 0). Added to the cross-entropy with
    ``weight = 1e-4`` it leaves the predictions alone. Gradient::

        dL/dz_i = 2 · weight · log Z_i · softmax(z_i) / N

    Returns ``(loss, grad (N, C))``.
    """
    z = check_array(logits, "logits", ndim=2, finite=True)
    if z.shape[0] == 0:
        raise ValueError("logits: expected a non-empty batch, got 0 rows")
    weight = check_positive(weight, "weight", allow_zero=True)
    log_z = _logsumexp(z)
    p = np.exp(z - log_z[:, None])
    n = len(z)
    return float(weight * np.mean(log_z**2)), (2 * weight / n) * log_z[:, None] * p


def _logsumexp(z):
    """``log Σ_c exp(z_c)`` per row, without overflow."""
    top = z.max(axis=1)
    return top + np.log(np.exp(z - top[:, None]).sum(axis=1))
