"""Linear layers collapse into one, a ReLU network can be exactly linear, and without biases a ReLU network
is positively homogeneous: what an activation and a bias add."""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse.data import make_xor
from gdcourse.experiments import common
from gdcourse.experiments.activations.curves import _default_init, activation_layer
from gdcourse.train import fit
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["merge_linear_layers", "XORCloudFit", "fit_xor_clouds", "relu_identity_network", "separable_data",
           "fit_shifted_line"]


def merge_linear_layers(first: nn.Linear, second: nn.Linear) -> nn.Linear:
    """One ``Linear`` equal to ``second(first(x))``: ``W = W1 W2``, ``b = b1 W2 + b2``.

    With row vectors, ``(x W1 + b1) W2 + b2 = x (W1 W2) + (b1 W2 + b2)``. A missing bias
    counts as zero; the merged layer has a bias when either input layer has one.
    """
    _check_chain(first, second)
    W1, b1 = first.weight.value, _bias_or_zeros(first)
    W2, b2 = second.weight.value, _bias_or_zeros(second)
    has_bias = first.bias is not None or second.bias is not None
    merged = nn.Linear(first.in_features, second.out_features, bias=has_bias, init="zeros", dtype=W1.dtype)
    merged.weight.value = W1 @ W2
    if has_bias:
        merged.bias.value = b1 @ W2 + b2
    return merged


def _check_chain(first, second):
    for layer, name in ((first, "first"), (second, "second")):
        if not isinstance(layer, nn.Linear):
            raise TypeError(f"{name}: expected a gdcourse.nn.Linear, got {type(layer).__name__}")
    if first.out_features != second.in_features:
        raise ValueError(f"second: expected in_features = {first.out_features} (first.out_features), "
                         f"got {second.in_features}")


def _bias_or_zeros(layer):
    return layer.bias.value if layer.bias is not None else np.zeros(layer.out_features, layer.weight.dtype)


@dataclass(frozen=True)
class XORCloudFit:
    """A classifier trained on the XOR clouds: the model, the data ``X (n, 2)``, ``y (n,)``, its accuracy."""

    model: nn.Sequential
    X: np.ndarray
    y: np.ndarray
    accuracy: float


def fit_xor_clouds(activation="relu", depth=2, width=8, epochs=60, lr=0.02, rng=0) -> XORCloudFit:
    """Train ``depth`` hidden layers of ``width`` units with ``activation`` on ``make_xor(200)``.

    With ``activation="identity"`` the network is a product of linear maps, i.e. one
    linear classifier, which cannot exceed about 75 % on XOR. Adam, batches of 32,
    binary cross-entropy on the logit.
    """
    rng = as_rng(rng)
    X, y = make_xor(200, rng=rng)
    model = common.mlp((2,) + (width,) * check_positive_int(depth, "depth") + (1,),
                       activation=lambda: activation_layer(activation), init=_default_init(activation),
                       out_init="xavier_normal", rng=rng)
    target = y[:, None].astype(np.float64)
    fit(model, L.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=lr), (X, target), epochs=epochs,
        batch_size=32, progress=False, rng=rng)
    accuracy = float(np.mean((model.forward(X)[:, 0] > 0) == (y == 1)))
    return XORCloudFit(model, X, y, accuracy)


def relu_identity_network(w, b=0.0) -> nn.Sequential:
    """A ReLU network that computes exactly the linear function ``x · w + b``.

    ``Linear(d, 2) → ReLU → Linear(2, 1)`` with hidden units ``relu(x·w + b)`` and
    ``relu(−(x·w + b))`` and output weights ``(1, −1)``: ``relu(z) − relu(−z) = z``.
    ``w (d,)``; returns a model mapping ``(N, d)`` to ``(N, 1)``.
    """
    w = check_array(w, "w", ndim=1, finite=True)
    if not isinstance(b, numbers.Real) or not np.isfinite(b):
        raise ValueError(f"b: expected a finite real number, got {b!r}")
    hidden, out = nn.Linear(len(w), 2, init="zeros"), nn.Linear(2, 1, init="zeros")
    hidden.weight.value = np.stack([w, -w], axis=1)
    hidden.bias.value = [b, -b]
    out.weight.value = [[1.0], [-1.0]]
    return nn.Sequential(hidden, nn.ReLU(), out)


def separable_data(n=100, margin=0.3, rng=0):
    """Linearly separable 2-D points with a margin.

    Points uniform on ``[−2, 2]²``, label 1 where ``x₁ + 0.5 x₂ − 0.2 > 0``, and every point
    closer than ``margin`` to that line dropped (then resampled), so a perceptron
    provably converges. Returns ``X (n, 2)``, ``y (n,)`` int64 in {0, 1}.
    """
    n = check_positive_int(n, "n")
    margin = check_positive(margin, "margin")
    rng = as_rng(rng)
    w, b = np.array([1.0, 0.5]), -0.2
    X = rng.uniform(-2, 2, size=(8 * n + 64, 2))
    X = X[np.abs(X @ w + b) / np.linalg.norm(w) >= margin][:n]
    if len(X) < n:  # pragma: no cover - only for margins close to the box size
        raise ValueError(f"margin: {margin} leaves too few points in [-2, 2]²; use a smaller margin")
    return X, (X @ w + b > 0).astype(np.int64)


def fit_shifted_line(bias=True, steps=300, lr=0.01, rng=0):
    """Fit ``y = x + 3`` on ``x ∈ [−1, 1]`` with a 1-16-16-1 ReLU network, with or without biases.

    Without biases the network is positively homogeneous, ``f(cx) = c f(x)`` for
    ``c > 0``, so ``f(0) = 0`` whatever the weights, and the fit cannot reach 3 at 0.
    Returns ``(model, final MSE)``; Adam, full batch of 41 points.
    """
    rng = as_rng(rng)
    # written out rather than built by common.mlp, whose output layer always has a bias
    model = nn.Sequential(nn.Linear(1, 16, bias=bias, rng=rng), nn.ReLU(),
                          nn.Linear(16, 16, bias=bias, rng=rng), nn.ReLU(),
                          nn.Linear(16, 1, bias=bias, rng=rng))
    x = np.linspace(-1.0, 1.0, 41)[:, None]
    loss, opt = L.MSELoss(), optim.Adam(model.parameters(), lr=lr)
    for _ in range(check_positive_int(steps, "steps")):
        opt.zero_grad()
        loss.forward(model.forward(x), x + 3.0)
        model.backward(loss.backward(), input_grad=False)
        opt.step()
    return model, loss.forward(model.forward(x), x + 3.0)
