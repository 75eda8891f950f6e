"""A one-hidden-layer network by hand: forward, backward, the training loop, and a hidden unit's
error term ``δ_j = σ'(z_j) Σ_k W2[j, k] δ_k``.

The network is ``h = σ(x W1 + b1)``, ``out = h W2 + b2`` with shapes ``x (N, D)``, ``W1 (D, H)``,
``b1 (H,)``, ``W2 (H, C)``, ``b2 (C,)``.
"""

from __future__ import annotations

import numpy as np

from gdcourse import init as initializers
from gdcourse import losses, nn, optim
from gdcourse.functional import sigmoid
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["two_layer_forward", "two_layer_backward", "two_layer_params", "two_layer_as_module",
           "train_two_layer_by_hand", "train_two_layer_with_package",
           "SigmoidWithoutDerivative", "HIDDEN_ERROR_SCENARIOS", "hidden_error_terms"]


def _check_two_layer(x, W1, b1, W2, b2):
    x = check_array(x, "x", ndim=2)
    W1, W2 = check_array(W1, "W1", ndim=2), check_array(W2, "W2", ndim=2)
    b1, b2 = check_array(b1, "b1", ndim=1), check_array(b2, "b2", ndim=1)
    d, hidden, out = x.shape[1], W1.shape[1], W2.shape[1]
    for name, got, want in (("W1", W1.shape, (d, hidden)), ("b1", b1.shape, (hidden,)),
                            ("W2", W2.shape, (hidden, out)), ("b2", b2.shape, (out,))):
        if got != want:
            raise ValueError(f"{name}: expected shape {want} to match x {x.shape} (N, D), W1 (D, H) and "
                             f"W2 (H, C), got {got}")
    return x, W1, b1, W2, b2


def _check_upstream(dout, shape):
    dout = check_array(dout, "dout", ndim=2)
    if dout.shape != shape:
        raise ValueError(f"dout: expected the output's shape {shape}, got {dout.shape}")
    return dout


def two_layer_forward(x, W1, b1, W2, b2):
    """``h = σ(x W1 + b1)``, ``out = h W2 + b2``; returns ``(out (N, C), h (N, H))``."""
    x, W1, b1, W2, b2 = _check_two_layer(x, W1, b1, W2, b2)
    h = sigmoid(x @ W1 + b1)
    return h @ W2 + b2, h


def two_layer_backward(x, W1, b1, W2, b2, dout):
    """Every gradient of the network of :func:`two_layer_forward`, given ``dout = dL/dout (N, C)``.

    The chain rule one step at a time, with ``σ'(z1) = h (1 − h)``. Returns ``(dx, dW1, db1, dW2, db2)``,
    each of the shape of what it differentiates.
    """
    x, W1, b1, W2, b2 = _check_two_layer(x, W1, b1, W2, b2)
    dout = _check_upstream(dout, (len(x), W2.shape[1]))
    h = sigmoid(x @ W1 + b1)          # (N, H): the forward pass, recomputed
    dW2 = h.T @ dout                  # (H, C)
    db2 = dout.sum(axis=0)            # (C,)
    dh = dout @ W2.T                  # (N, H)
    dz1 = dh * h * (1 - h)            # (N, H)
    dW1 = x.T @ dz1                   # (D, H)
    db1 = dz1.sum(axis=0)             # (H,)
    dx = dz1 @ W1.T                   # (N, D)
    return dx, dW1, db1, dW2, db2


def two_layer_params(d_in, hidden, d_out, rng=None, scale=1.0) -> dict:
    """``{"W1", "b1", "W2", "b2"}``: Xavier-normal weights (times ``scale``), zero biases."""
    rng = as_rng(rng)
    return {"W1": scale * initializers.xavier_normal((d_in, hidden), rng),
            "b1": np.zeros(hidden),
            "W2": scale * initializers.xavier_normal((hidden, d_out), rng),
            "b2": np.zeros(d_out)}


def two_layer_as_module(params) -> nn.Sequential:
    """The same network as a package model: ``Linear → Sigmoid → Linear`` holding copies of ``params``."""
    W1, W2 = np.asarray(params["W1"], dtype=np.float64), np.asarray(params["W2"], dtype=np.float64)
    first, second = nn.Linear(*W1.shape), nn.Linear(*W2.shape)
    first.weight.value, first.bias.value = W1, params["b1"]
    second.weight.value, second.bias.value = W2, params["b2"]
    return nn.Sequential(first, nn.Sigmoid(), second)


# ---------------------------------------------------------------- the training loop, by hand and with the package

def _bce_targets(X, y, params):
    X = check_array(X, "X", ndim=2, finite=True)
    y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    _check_two_layer(X, params["W1"], params["b1"], params["W2"], params["b2"])
    return X, y


def _bce(logits, y):
    """Mean binary cross-entropy on logits and its gradient ``(σ(z) − y) / n``."""
    value = np.mean(np.logaddexp(0.0, logits) - y * logits)
    return float(value), (sigmoid(logits) - y) / logits.size


def train_two_layer_by_hand(X, y, params, lr, steps):
    """Full-batch gradient descent on binary cross-entropy, written out: forward, loss, backward, update.

    ``dL/dout = (σ(out) − y) / N`` (sigmoid output with cross-entropy), then
    :func:`two_layer_backward` and ``θ ← θ − lr · dθ`` for all four arrays.
    Returns ``(losses (steps,), final params)``; ``params`` is not modified.
    """
    X, y = _bce_targets(X, y, params)
    lr, steps = check_positive(lr, "lr"), check_positive_int(steps, "steps")
    p = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    history = []
    for _ in range(steps):
        out, _ = two_layer_forward(X, p["W1"], p["b1"], p["W2"], p["b2"])
        value, dout = _bce(out, y)
        history.append(value)
        _, dW1, db1, dW2, db2 = two_layer_backward(X, p["W1"], p["b1"], p["W2"], p["b2"], dout)
        for name, grad in (("W1", dW1), ("b1", db1), ("W2", dW2), ("b2", db2)):
            p[name] -= lr * grad
    return np.array(history), p


def train_two_layer_with_package(X, y, params, lr, steps):
    """The same training with the package: ``zero_grad → forward → loss → backward → SGD step``."""
    X, y = _bce_targets(X, y, params)
    model = two_layer_as_module(params)
    loss = losses.BCEWithLogitsLoss()
    optimizer = optim.SGD(model.parameters(), lr=check_positive(lr, "lr"))
    history = []
    for _ in range(check_positive_int(steps, "steps")):
        optimizer.zero_grad()
        history.append(loss.forward(model.forward(X), y))
        model.backward(loss.backward(), input_grad=False)
        optimizer.step()
    return np.array(history), model


# ---------------------------------------------------------------- a hidden unit's error term

class SigmoidWithoutDerivative(nn.Sigmoid):
    """A deliberately wrong sigmoid layer: its backward forgets the factor σ'(z) (returns ``dy``)."""

    def backward(self, dy, input_grad=True):
        self._saved()
        return dy


HIDDEN_ERROR_SCENARIOS = ("baseline", "large outgoing weights", "saturated unit", "bug: no σ' in backward")
"""The situations :func:`hidden_error_terms` compares."""


def hidden_error_terms(scenario="baseline", unit=2, rng=0, hidden=8, batch=128) -> np.ndarray:
    """Mean |δ_j| = mean |dL/dz_j| of each hidden unit of a ``8 → hidden → 1`` sigmoid network (MSE).

    ``δ_j = σ'(z_j) Σ_k W2[j, k] δ_k``. Scenarios (see :data:`HIDDEN_ERROR_SCENARIOS`),
    applied to hidden unit ``unit``: its outgoing weights ×10; its bias +10
    (saturated, σ' ≈ 5e-5); or a backward pass that forgets σ' for every unit.
    """
    if scenario not in HIDDEN_ERROR_SCENARIOS:
        raise ValueError(f"scenario: expected one of {list(HIDDEN_ERROR_SCENARIOS)}, got {scenario!r}")
    rng = as_rng(rng)
    X = rng.standard_normal((batch, 8))
    y = np.sin(X[:, :1]) + 0.5 * rng.standard_normal((batch, 1))
    params = two_layer_params(8, hidden, 1, rng)
    if scenario == "large outgoing weights":
        params["W2"][unit] *= 10.0
    elif scenario == "saturated unit":
        params["b1"][unit] += 10.0
    out, h = two_layer_forward(X, **params)
    dout = 2.0 * (out - y) / batch
    dh = dout @ params["W2"].T
    delta = dh if scenario.startswith("bug") else dh * h * (1 - h)
    return np.abs(delta).mean(axis=0)
