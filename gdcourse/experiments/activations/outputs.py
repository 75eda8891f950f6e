"""Output layers and losses: cross-entropy on the logit keeps a gradient where MSE on a sigmoid loses it;
sparse and one-hot targets give the same loss."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse.validate import as_rng, check_array, check_positive_int

__all__ = ["logit_gradients", "ConfidentWrongRun", "confident_wrong_run", "cross_entropy_formats"]


def logit_gradients(z, y=1.0):
    """Per-example ``dL/dz`` for a sigmoid output ``p = σ(z)`` and label ``y``, under two losses.

    Cross-entropy on the logit (``BCEWithLogitsLoss``): ``p − y``. MSE on the
    probability (``MSELoss`` then back through ``nn.Sigmoid``): ``2 (p − y) p (1 − p)``,
    the same error times ``2σ'(z)``, which vanishes when the unit saturates.
    Both are computed by the package's losses and layers; ``z (n,)``. Returns ``(ce, mse)``.
    """
    z = check_array(z, "z", ndim=1, finite=True)[:, None]
    target = np.full_like(z, y)
    n = len(z)
    ce = L.BCEWithLogitsLoss()
    ce.forward(z, target)
    sigmoid, mse = nn.Sigmoid(), L.MSELoss()
    mse.forward(sigmoid.forward(z), target)
    return ce.backward()[:, 0] * n, sigmoid.backward(mse.backward())[:, 0] * n


@dataclass(frozen=True)
class ConfidentWrongRun:
    """``accuracy (steps + 1,)`` and ``weight (steps + 1,)`` of a 1-D logistic unit, before each step and
    at the end."""

    loss: str
    accuracy: np.ndarray
    weight: np.ndarray


def confident_wrong_run(loss="ce", steps=100, lr=1.0, w0=-6.0, rng=0) -> ConfidentWrongRun:
    """Train ``σ(w x + b)`` on ``y = [x > 0]`` (200 points, x ~ N(0, 1)) from a confidently wrong ``w0 < 0``.

    ``loss="ce"``: ``BCEWithLogitsLoss`` on the logit; ``loss="mse"``: ``MSELoss`` on
    ``σ``. Plain gradient descent, full batch.
    """
    if loss not in ("ce", "mse"):
        raise ValueError(f"loss: expected 'ce' or 'mse', got {loss!r}")
    x = as_rng(rng).standard_normal((200, 1))
    y = (x > 0).astype(np.float64)
    linear = nn.Linear(1, 1, init="zeros")
    linear.weight.value = [[w0]]
    model = nn.Sequential(linear) if loss == "ce" else nn.Sequential(linear, nn.Sigmoid())
    criterion = L.BCEWithLogitsLoss() if loss == "ce" else L.MSELoss()
    opt = optim.SGD(model.parameters(), lr=lr)
    threshold = 0.0 if loss == "ce" else 0.5
    accuracy, weight = [], []
    for _ in range(check_positive_int(steps, "steps")):
        opt.zero_grad()
        out = model.forward(x)
        accuracy.append(float(np.mean((out > threshold) == (y > 0.5))))
        weight.append(float(linear.weight.value[0, 0]))
        criterion.forward(out, y)
        model.backward(criterion.backward(), input_grad=False)
        opt.step()
    accuracy.append(float(np.mean((model.forward(x) > threshold) == (y > 0.5))))
    weight.append(float(linear.weight.value[0, 0]))
    return ConfidentWrongRun(loss, np.array(accuracy), np.array(weight))


def cross_entropy_formats(logits, labels, num_classes=None, label_smoothing=0.0) -> dict:
    """``CrossEntropyLoss`` on integer labels (sparse) and on one-hot rows (categorical).

    Returns ``{"sparse": (loss, dlogits), "categorical": (loss, dlogits)}``. With
    ``label_smoothing`` the categorical target is smoothed by hand,
    ``(1 − ε) onehot + ε / C``, and the loss has no smoothing of its own.
    """
    logits = check_array(logits, "logits", ndim=2, finite=True)
    num_classes = num_classes or logits.shape[1]
    onehot = np.eye(num_classes)[np.asarray(labels)]
    smoothed = (1 - label_smoothing) * onehot + label_smoothing / num_classes
    out = {}
    for name, loss, target in (("sparse", L.CrossEntropyLoss(label_smoothing), labels),
                               ("categorical", L.CrossEntropyLoss(), smoothed)):
        value = loss.forward(logits, target)
        out[name] = (value, loss.backward())
    return out
