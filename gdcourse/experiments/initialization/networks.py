"""Networks of one initialization scheme, and what flows through them: activation statistics per layer."""

from __future__ import annotations

import numpy as np

from gdcourse import nn
from gdcourse.experiments import common
from gdcourse.experiments.initialization.schemes import initializer
from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["ACTIVATIONS", "make_mlp", "deep_mlp", "is_activation", "layer_activations", "activation_stds",
           "second_moments", "saturated_fraction", "unit_spread", "scale_sweep"]

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid, "linear": nn.Identity}
"""Activation name → layer class."""

_ACTIVATION_TYPES = (nn.Identity, nn.Step, nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.ELU,
                     nn.GELU, nn.SiLU, nn.Softplus, nn.Softmax)


def _activation_class(activation):
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation: expected one of {list(ACTIVATIONS)}, got {activation!r}")
    return ACTIVATIONS[activation]


def make_mlp(widths, activation="tanh", scheme="xavier", gain=1.0, num_classes=None, rng=0) -> nn.Sequential:
    """``Linear(widths[0], widths[1]), act, …, Linear(widths[-2], widths[-1]), act`` [+ a linear head].

    Built by :func:`gdcourse.experiments.common.mlp`. Every weight (the head's too) comes from
    ``scheme`` (see :func:`initializer`); biases start at 0. With ``num_classes`` a final
    ``Linear(widths[-1], num_classes)`` produces logits. One generator feeds every layer, so the layers differ.
    """
    widths = tuple(widths)
    if len(widths) < 2:
        raise ValueError(f"widths: expected at least 2 layer widths (input, hidden...), got {widths!r}")
    widths = tuple(check_positive_int(n, "widths") for n in widths)
    options = {"activation": _activation_class(activation), "init": initializer(scheme, gain), "rng": rng}
    if num_classes is None:
        return common.mlp(widths, final_activation=True, **options)
    return common.mlp(widths + (check_positive_int(num_classes, "num_classes"),), **options)


def deep_mlp(depth, width, activation="tanh", scheme="xavier", gain=1.0, in_features=None, num_classes=None,
             rng=0) -> nn.Sequential:
    """:func:`make_mlp` with ``depth`` hidden layers of ``width`` units (input ``in_features``, default ``width``)."""
    depth = check_positive_int(depth, "depth")
    width = check_positive_int(width, "width")
    first = width if in_features is None else check_positive_int(in_features, "in_features")
    return make_mlp((first,) + (width,) * depth, activation, scheme, gain, num_classes, rng)


def is_activation(layer) -> bool:
    """Whether ``layer`` is an activation layer (tanh, ReLU, sigmoid, identity, …), not a ``Linear``."""
    return isinstance(layer, _ACTIVATION_TYPES)


def _check_model(model):
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model: expected a gdcourse.nn.Sequential, got {type(model).__name__}")
    return model


def layer_activations(model, X) -> list:
    """The output of every activation layer of ``model`` on ``X (N, d)``, input to output: arrays ``(N, width_l)``."""
    _check_model(model)
    h = check_array(X, "X", ndim=2, finite=True)
    outputs = []
    for layer in model:
        h = layer.forward(h)
        if is_activation(layer):
            outputs.append(h)
    return outputs


def activation_stds(model, X) -> np.ndarray:
    """Standard deviation of each activation layer's output over the whole batch, shape ``(L,)``.

    ``std_l = np.std(h_l)`` over all ``N × width_l`` entries, where ``h_l`` is the
    output of the l-th activation layer (Linear outputs are not counted).
    """
    with np.errstate(over="ignore", under="ignore"):
        return np.array([float(np.std(h)) for h in layer_activations(model, X)])


def second_moments(model, X) -> np.ndarray:
    """``E[h_l²]`` of each activation layer's output over the whole batch, shape ``(L,)``.

    For ReLU this, not the variance, is what the next layer's variance depends on:
    ``Var(z_{l+1}) = n · Var(w) · E[h_l²]`` (He et al., 2015).
    """
    with np.errstate(over="ignore", under="ignore"):
        return np.array([float(np.mean(h * h)) for h in layer_activations(model, X)])


def saturated_fraction(h, activation, threshold=0.99) -> float:
    """Share of saturated outputs: ``|tanh| > threshold``, or a sigmoid within ``(1 − threshold)/2`` of 0 or 1.

    There the derivative is below ``1 − threshold²`` (tanh), so almost no gradient
    flows through the unit.
    """
    h = check_array(h, "h", float_only=False)
    if not 0 < threshold < 1:
        raise ValueError(f"threshold: expected a number in (0, 1), got {threshold!r}")
    if activation == "tanh":
        return float(np.mean(np.abs(h) > threshold))
    if activation == "sigmoid":
        return float(np.mean(np.abs(2.0 * h - 1.0) > threshold))
    raise ValueError(f"activation: saturation is defined for 'tanh' and 'sigmoid', got {activation!r}")


def unit_spread(M) -> float:
    """How different the units (columns) of ``M (n_in, units)`` are: ``max |M − M[:, :1]| / max |M|``.

    0 when every column equals the first (all units identical, or ``M`` all zero).
    """
    M = check_array(M, "M", ndim=2, finite=True)
    top = float(np.max(np.abs(M)))
    return 0.0 if top == 0 else float(np.max(np.abs(M - M[:, :1]))) / top


@stored
@common.one_blas_thread
def scale_sweep(weight_stds, activation="relu", depth=50, width=512, batch=64, rng=0) -> dict:
    """Activation std per layer for several weight scales on the *same* random draws.

    One network of ``N(0, 1)`` weights (:func:`deep_mlp`, scheme "large normal") is
    drawn once; for each ``label → s`` of ``weight_stds`` every weight is multiplied
    by ``s`` (so only the scale differs between the runs) and :func:`activation_stds`
    is measured on the same inputs ``X ~ N(0, 1) (batch, width)``. Returns
    ``label → stds (depth,)``.
    """
    rng = as_rng(rng)
    X = rng.standard_normal((check_positive_int(batch, "batch"), check_positive_int(width, "width")))
    model = deep_mlp(depth, width, activation, "large normal", rng=rng)
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    draws = [layer.weight.value.copy() for layer in linears]
    stds = {}
    for label, s in weight_stds.items():
        s = check_positive(s, f"weight_stds[{label!r}]")
        for layer, W in zip(linears, draws, strict=True):
            layer.weight.value = s * W
        stds[label] = activation_stds(model, X)
    return stds
