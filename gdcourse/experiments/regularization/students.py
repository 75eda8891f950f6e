"""REG-07 and REG-11 over seeds: many small digit classifiers trained at once, one per seed.

:func:`gdcourse.experiments.regularization.train_student` trains one ``64-h-10`` student with the package
(``Linear``, ``ReLU``, ``SGD`` with momentum, :func:`gdcourse.losses.distillation_loss`). Twenty seeds of
four settings take half a minute that way, almost all of it Python overhead on a tiny network.
:func:`train_students` runs the same recipe for ``S`` seeds at once: every weight carries a leading seed
axis, each seed's student is built by the package's :func:`mlp` from the seed and draws its batch order
from the same generator afterwards, exactly as ``train_student`` does, so a seed's student here is that
seed's student there (up to floating-point rounding; ``tests/test_nb07_claims.py`` compares them).
"""

from __future__ import annotations

import numpy as np

from gdcourse import functional as F
from gdcourse.data import batch_indices
from gdcourse.experiments.regularization.shared import mlp
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["train_students", "students_accuracy"]


def train_students(X, y, teacher_logits=None, hidden=16, temperature=4.0, alpha=0.9, epochs=30, lr=0.05,
                   batch_size=64, seeds=(0,), augment=None) -> list[np.ndarray]:
    """``[W1 (S, d, h), b1 (S, h), W2 (S, h, 10), b2 (S, 10)]``: one trained student per seed.

    Hard labels when ``teacher_logits`` is None, else the distillation gradient
    ``[α T (p_s^T − p_t^T) + (1 − α)(p_s − onehot(y))] / B``; SGD with momentum 0.9 in PyTorch's form
    (``b ← 0.9 b + g``, ``θ ← θ − lr b``). ``augment(X, rng) -> X'`` (optional) perturbs the training images
    afresh at the start of every epoch, from the seed's generator, as
    :func:`gdcourse.experiments.regularization.train_digits` does (which this also reproduces).
    """
    X = check_array(X, "X", ndim=2, finite=True)
    hidden, epochs = check_positive_int(hidden, "hidden"), check_positive_int(epochs, "epochs")
    T, lr = check_positive(temperature, "temperature"), check_positive(lr, "lr")
    rngs = [as_rng(int(s)) for s in seeds]
    students = [mlp((X.shape[1], hidden, 10), rng=r) for r in rngs]          # the package's initialization
    params = [np.stack([m.parameters()[k].value for m in students]) for k in range(4)]
    buffers = [np.zeros_like(p) for p in params]
    onehot = np.eye(10)[y]
    seed_axis = np.arange(len(rngs))[:, None]
    for _ in range(epochs):
        X_epoch = np.stack([augment(X, r) for r in rngs]) if augment is not None else None
        batches = [batch_indices(len(X), batch_size, rng=r) for r in rngs]   # (S seeds) x (batches)
        for k in range(len(batches[0])):
            idx = np.stack([b[k] for b in batches])                         # (S, B)
            W1, b1, W2, b2 = params
            xb = X[idx] if X_epoch is None else X_epoch[seed_axis, idx]
            h = np.maximum(xb @ W1 + b1[:, None], 0.0)
            logits = h @ W2 + b2[:, None]
            if teacher_logits is None:
                grad = F.softmax(logits, axis=2) - onehot[idx]
            else:
                zt = teacher_logits[idx]
                grad = (alpha * T * (F.softmax(logits / T, axis=2) - F.softmax(zt / T, axis=2))
                        + (1 - alpha) * (F.softmax(logits, axis=2) - onehot[idx]))
            grad /= idx.shape[1]
            dh = grad @ W2.transpose(0, 2, 1) * (h > 0)
            grads = [xb.transpose(0, 2, 1) @ dh, dh.sum(1), h.transpose(0, 2, 1) @ grad, grad.sum(1)]
            for p, g, b in zip(params, grads, buffers, strict=True):
                b *= 0.9
                b += g
                p -= lr * b
    return params


def students_accuracy(params, X, y) -> np.ndarray:
    """Accuracy of every student on ``X (N, d)``, ``y (N,)``: ``(S,)``."""
    W1, b1, W2, b2 = params
    h = np.maximum(X @ W1 + b1[:, None], 0.0)
    return ((h @ W2 + b2[:, None]).argmax(axis=2) == y).mean(axis=1)
