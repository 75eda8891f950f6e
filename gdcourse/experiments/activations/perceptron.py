"""The perceptron (Rosenblatt, 1958) and XOR: one linear unit learns any separable rule and never XOR; a
hidden layer of two units computes it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse.experiments import common
from gdcourse.experiments.activations.curves import _default_init, activation_layer
from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_array, check_positive_int

__all__ = ["XOR_X", "XOR_Y", "AND_Y", "perceptron_update", "PerceptronRun", "train_perceptron", "mistake_bound",
           "xor_step_network", "xor_relu_network", "train_xor_model", "xor_success", "XOR_SEEDS"]


XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
"""The four inputs of a two-input logic gate."""
XOR_Y = np.array([0, 1, 1, 0])
"""XOR of the inputs: not linearly separable."""
AND_Y = np.array([0, 0, 0, 1])
"""AND of the inputs: linearly separable."""


def perceptron_update(w, b, x, y, lr=1.0):
    """One step of Rosenblatt's rule (1958) on one example; labels ``y ∈ {−1, +1}``.

    If ``y (w·x + b) ≤ 0`` (a mistake; a score of exactly 0 counts as one) then
    ``w ← w + lr y x`` and ``b ← b + lr y``; otherwise nothing changes.
    Returns new ``(w, b)``; the inputs are not modified.
    """
    mistake = y * (np.dot(w, x) + b) <= 0
    if not mistake:
        return np.array(w, dtype=np.float64), float(b)
    return np.asarray(w, dtype=np.float64) + lr * y * np.asarray(x, dtype=np.float64), float(b + lr * y)


@dataclass(frozen=True)
class PerceptronRun:
    """``w (d,)``, ``b``; ``mistakes (epochs,)``: updates made in each epoch; ``accuracy`` of the final
    weights (a score ≤ 0 predicts class 0); ``converged``: an epoch without a mistake happened."""

    w: np.ndarray
    b: float
    mistakes: np.ndarray
    accuracy: float
    converged: bool


def train_perceptron(X, y, epochs=20, lr=1.0, rng=0, stop_when_converged=True) -> PerceptronRun:
    """Online perceptron from ``w = 0, b = 0`` on ``X (n, d)`` with labels ``y (n,)`` in {0, 1}.

    Each epoch visits the examples in a fresh random order and applies
    :func:`perceptron_update`. The loop over examples is the algorithm itself: each
    update changes the prediction for the next example, so it cannot be vectorized.
    """
    X = check_array(X, "X", ndim=2, finite=True)
    signs = np.where(np.asarray(y) == 1, 1.0, -1.0)
    epochs = check_positive_int(epochs, "epochs")
    rng = as_rng(rng)
    w, b = np.zeros(X.shape[1]), 0.0
    mistakes = []
    for _ in range(epochs):
        count = 0
        for i in rng.permutation(len(X)):
            new_w, new_b = perceptron_update(w, b, X[i], signs[i], lr)
            count += int(new_b != b or not np.array_equal(new_w, w))
            w, b = new_w, new_b
        mistakes.append(count)
        if count == 0 and stop_when_converged:
            break
    accuracy = float(np.mean((X @ w + b > 0) == (signs > 0)))
    return PerceptronRun(w, b, np.array(mistakes), accuracy, 0 in mistakes)


def mistake_bound(X, y, w_true, b_true) -> float:
    """Block-Novikoff bound ``(R/γ)²`` on the perceptron's mistakes, bias folded into the weights.

    ``R = max ‖(x, 1)‖``, ``u = (w, b)/‖(w, b)‖``, ``γ = min y u·(x, 1)`` with ``y ∈ {−1, +1}``.
    """
    augmented = np.hstack([check_array(X, "X", ndim=2), np.ones((len(X), 1))])
    u = np.append(np.asarray(w_true, dtype=np.float64), b_true)
    u /= np.linalg.norm(u)
    signs = np.where(np.asarray(y) == 1, 1.0, -1.0)
    gamma = float(np.min(signs * (augmented @ u)))
    if gamma <= 0:
        raise ValueError(f"w_true, b_true: expected a separating hyperplane, got margin {gamma:.3g}")
    return float(np.max(np.linalg.norm(augmented, axis=1)) / gamma) ** 2


def _hand_set(model, weights):
    for layer, (w, b) in zip([m for m in model if isinstance(m, nn.Linear)], weights, strict=True):
        layer.weight.value = w
        layer.bias.value = b
    return model


def xor_step_network() -> nn.Sequential:
    """2-2-1 step network computing XOR: hidden OR (``x₁ + x₂ − 0.5``) and AND (``x₁ + x₂ − 1.5``),
    output ``step(OR − AND − 0.5)``."""
    model = nn.Sequential(nn.Linear(2, 2, init="zeros"), nn.Step(), nn.Linear(2, 1, init="zeros"), nn.Step())
    return _hand_set(model, [([[1.0, 1.0], [1.0, 1.0]], [-0.5, -1.5]), ([[1.0], [-1.0]], [-0.5])])


def xor_relu_network() -> nn.Sequential:
    """2-2-1 ReLU network with a linear output: ``relu(x₁ + x₂) − 2 relu(x₁ + x₂ − 1)`` = XOR on {0, 1}²."""
    model = nn.Sequential(nn.Linear(2, 2, init="zeros"), nn.ReLU(), nn.Linear(2, 1, init="zeros"))
    return _hand_set(model, [([[1.0, 1.0], [1.0, 1.0]], [0.0, -1.0]), ([[1.0], [-2.0]], [0.0])])


def train_xor_model(hidden=2, activation="tanh", steps=500, lr=0.1, rng=0):
    """Train ``2-hidden-1`` with Adam on the four XOR points (full batch, BCE on the logit).

    Returns ``(model, final loss, solved)``; solved = all four logits on the right side of 0.
    """
    model = common.mlp((2, check_positive_int(hidden, "hidden"), 1), activation=lambda: activation_layer(activation),
                       init=_default_init(activation), rng=rng)
    target = XOR_Y[:, None].astype(np.float64)
    loss, opt = L.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=lr)
    for _ in range(check_positive_int(steps, "steps")):
        opt.zero_grad()
        loss.forward(model.forward(XOR_X), target)
        model.backward(loss.backward(), input_grad=False)
        opt.step()
    logits = model.forward(XOR_X)[:, 0]
    return model, loss.forward(logits[:, None], target), bool(np.all((logits > 0) == (XOR_Y == 1)))


XOR_SEEDS = 60
"""How many random starts the notebook and the bank (ACT-10, ACT-10a) quote success rates over."""


@stored
def xor_success(hidden, activation, seeds=XOR_SEEDS, steps=500, lr=0.1) -> np.ndarray:
    """Whether :func:`train_xor_model` solves XOR for each seed ``0 … seeds − 1``: bool ``(seeds,)``.

    The success *rate* is the claim; its binomial standard error is ``sqrt(p (1 − p) / seeds)``.
    """
    return np.array([train_xor_model(hidden, activation, steps, lr, rng=s)[2]
                     for s in range(check_positive_int(seeds, "seeds"))])
