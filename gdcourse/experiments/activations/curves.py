"""Activation functions and their derivatives, from the layers of :mod:`gdcourse.nn`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import nn
from gdcourse.validate import check_array, check_positive, check_positive_int

__all__ = ["ACTIVATION_NAMES", "LABELS", "activation_layer", "ActivationCurve", "activation_curve",
           "derivative_peak", "one_sided_derivatives"]


ACTIVATION_NAMES = ("step", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "gelu", "silu",
                    "softplus", "identity")
"""Every activation of :mod:`gdcourse.nn` (``gelu`` takes ``approximate``; ``identity`` is "none")."""

LABELS = {"step": "step", "sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU",
          "prelu": "PReLU", "elu": "ELU", "gelu": "GELU", "silu": "SiLU (swish)", "softplus": "softplus",
          "identity": "identity (no activation)"}


def _check_name(name):
    if name not in ACTIVATION_NAMES:
        raise ValueError(f"name: expected one of {list(ACTIVATION_NAMES)}, got {name!r}")
    return name


def activation_layer(name, negative_slope=0.01, alpha=1.0, approximate="none") -> nn.Module:
    """The :mod:`gdcourse.nn` layer called ``name``.

    ``negative_slope`` is leaky ReLU's slope and PReLU's *initial* slope (PReLU learns
    it); ``alpha`` is ELU's; ``approximate`` ("none" or "tanh") is GELU's.
    """
    makers = {
        "step": nn.Step, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(negative_slope), "prelu": lambda: nn.PReLU(1, init=negative_slope),
        "elu": lambda: nn.ELU(alpha), "gelu": lambda: nn.GELU(approximate), "silu": nn.SiLU,
        "softplus": nn.Softplus, "identity": nn.Identity,
    }
    return makers[_check_name(name)]()


@dataclass(frozen=True)
class ActivationCurve:
    """``y = f(x)`` and ``dy = f'(x)`` on a grid ``x (n,)``, from the layer's forward and backward."""

    name: str
    label: str
    x: np.ndarray
    y: np.ndarray
    dy: np.ndarray


def _label(name, negative_slope, alpha, approximate):
    if name in ("leaky_relu", "prelu"):
        return f"{LABELS[name]} (slope {negative_slope:g})"
    if name == "elu":
        return f"ELU (α = {alpha:g})"
    if name == "gelu":
        return "GELU (tanh approx.)" if approximate == "tanh" else "GELU (exact)"
    return LABELS[name]


def activation_curve(name, x=None, negative_slope=0.01, alpha=1.0, approximate="none") -> ActivationCurve:
    """``f`` and ``f'`` of the layer ``name`` on ``x`` (default 801 points on [−4, 4], 0 included).

    The derivative is the layer's ``backward`` with ``dy = 1``: for an elementwise
    activation that is exactly ``f'(x)`` (with the layer's convention at a kink).
    """
    x = np.linspace(-4.0, 4.0, 801) if x is None else check_array(x, "x", ndim=1, finite=True)
    layer = activation_layer(name, negative_slope, alpha, approximate)
    y = np.array(layer.forward(x[:, None]))[:, 0]  # a copy: Identity returns its input
    dy = layer.backward(np.ones((len(x), 1)))[:, 0]
    return ActivationCurve(name, _label(name, negative_slope, alpha, approximate), x, y, dy)


def derivative_peak(name, low=-8.0, high=8.0, num=160001, **params) -> tuple[float, float]:
    """``(x*, f'(x*))``: where on ``[low, high]`` the derivative of ``name`` is largest, and its value.

    Evaluated on a grid with step ``(high − low)/(num − 1)`` (1e-4 by default, 0 on the
    grid); for ReLU-like functions, whose derivative is 1 on a whole half-line, x* is
    the first grid point where it is reached.
    """
    curve = activation_curve(name, np.linspace(low, high, check_positive_int(num, "num")), **params)
    i = int(np.argmax(curve.dy))
    return float(curve.x[i]), float(curve.dy[i])


def one_sided_derivatives(f, x0=0.0, h=1e-6) -> tuple[float, float]:
    """Left and right difference quotients ``((f(x0) − f(x0 − h))/h, (f(x0 + h) − f(x0))/h)``."""
    h = check_positive(h, "h")
    at = lambda x: float(np.asarray(f(np.array([x], dtype=np.float64)))[0])
    return (at(x0) - at(x0 - h)) / h, (at(x0 + h) - at(x0)) / h


def _default_init(activation) -> str:
    """Xavier-normal for the saturating activations (and the identity), He-normal for the ReLU family."""
    saturating = ("step", "sigmoid", "tanh", "softplus", "identity")
    return "xavier_normal" if activation in saturating else "he_normal"
