"""Gradients through activations: vanishing gradients through depth, and the Jacobians of sigmoid and
softmax checked against central differences."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import diagnostics as D
from gdcourse import functional as F
from gdcourse import gradcheck, nn
from gdcourse import losses as L
from gdcourse.data import make_moons, standardize
from gdcourse.experiments import common
from gdcourse.experiments.activations.curves import _default_init, activation_layer
from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_array, check_positive_int

__all__ = ["moons", "deep_gradient_norms", "SigmoidGainSweep", "sigmoid_gain_sweep", "numerical_jacobian",
           "JacobianCheck", "check_jacobian"]


def moons(n=400, noise=0.15, rng=0):
    """Standardized two-moons data: ``X (n, 2)`` float64 and ``y (n,)`` int64."""
    X, y = make_moons(n, noise=noise, rng=rng)
    return standardize(X)[0], y


@stored
def deep_gradient_norms(activation, depth=10, width=32, init=None, rng=0) -> np.ndarray:
    """Weight-gradient norm of every ``Linear`` layer of a deep MLP at initialization, input side first.

    The MLP is ``depth`` hidden layers of ``width`` units with ``activation`` (a name of
    :data:`ACTIVATION_NAMES`) and a 2-class output, on 256 moons points with
    cross-entropy; ``init`` defaults to He for the ReLU family and Xavier otherwise.
    Returns ``(depth + 1,)`` norms from :func:`gdcourse.diagnostics.gradient_norms`.
    """
    depth = check_positive_int(depth, "depth")
    width = check_positive_int(width, "width")
    model = common.mlp((2,) + (width,) * depth + (2,), activation=lambda: activation_layer(activation),
                       init=init or _default_init(activation), rng=rng)
    X, y = moons(256)
    return np.array([norm for _, _, norm in D.gradient_norms(model, L.CrossEntropyLoss(), X, y)])


SATURATED = 0.01
"""A sigmoid unit counts as saturated when ``σ'(z) < 0.01`` (``|z| > 4.6``): it passes almost no gradient."""


@dataclass(frozen=True)
class SigmoidGainSweep:
    """Deep sigmoid MLPs with Xavier weights times ``gain``, at initialization, over many seeds.

    Arrays ``(len(gains), seeds)``: ``ratio`` the weight-gradient norm of the first hidden layer over the
    last hidden layer's; ``saturated`` the share of hidden units (and examples) with ``σ' < 0.01``;
    ``mean_derivative`` the mean ``σ'`` over hidden units and examples.
    """

    gains: np.ndarray
    ratio: np.ndarray
    saturated: np.ndarray
    mean_derivative: np.ndarray


@stored
def sigmoid_gain_sweep(gains=(1.0, 4.0, 10.0, 20.0), depth=30, width=64, seeds=20) -> SigmoidGainSweep:
    """Can a larger weight scale rescue a deep sigmoid network? The gradient ratio and the saturation.

    For each gain and seed ``0 … seeds − 1``: ``depth`` hidden sigmoid layers of ``width`` units, Xavier-normal
    weights multiplied by ``gain`` (variance ``gain² / width``), on 64 moons points with cross-entropy;
    one forward/backward pass at initialization. A gain near 4 offsets ``σ' ≤ 1/4`` only if the units stay
    near ``z = 0``; they do not, so the gradient can be kept from vanishing only by saturating many units.
    """
    gains = np.asarray(gains, dtype=np.float64)
    depth, width = check_positive_int(depth, "depth"), check_positive_int(width, "width")
    seeds = check_positive_int(seeds, "seeds")
    X, y = moons(64)
    shape = (len(gains), seeds)
    ratio, saturated, mean_derivative = np.empty(shape), np.empty(shape), np.empty(shape)
    for i, gain in enumerate(gains):
        for s in range(seeds):
            model = common.mlp((2,) + (width,) * depth + (2,), activation="sigmoid", init="xavier_normal",
                               weight_gain=float(gain), rng=s)
            norms = [norm for _, _, norm in D.gradient_norms(model, L.CrossEntropyLoss(), X, y)]
            ratio[i, s] = norms[0] / norms[-2]
            derivative = np.concatenate([a * (1.0 - a) for a in _sigmoid_outputs(model, X)])
            saturated[i, s] = np.mean(derivative < SATURATED)
            mean_derivative[i, s] = derivative.mean()
    return SigmoidGainSweep(gains, ratio, saturated, mean_derivative)


def _sigmoid_outputs(model, X):
    """The output of every Sigmoid layer of ``model`` on ``X``, in order (a list of ``(N, width)``)."""
    outputs, h = [], X
    for layer in model:
        h = layer(h)
        if isinstance(layer, nn.Sigmoid):
            outputs.append(h)
    return outputs


def numerical_jacobian(f, z, eps=1e-6) -> np.ndarray:
    """Central-difference Jacobian ``J[k, i] = ∂f_k/∂z_i`` of ``f: (n,) -> (m,)``, shape ``(m, n)``.

    Row k is :func:`gdcourse.gradcheck.numerical_input_gradient` with the upstream
    gradient ``e_k`` (one unit vector per output; m is small here).
    """
    z = np.array(check_array(z, "z", ndim=1, finite=True), dtype=np.float64)
    m = np.asarray(f(z)).shape[0]
    eye = np.eye(m)
    return np.stack([gradcheck.numerical_input_gradient(f, z, eye[k], eps) for k in range(m)])


@dataclass(frozen=True)
class JacobianCheck:
    """The analytic Jacobian of ``name`` at ``z``, the numerical one, and their relative errors.

    ``jacobian_error``: worst relative error between the two matrices. ``backward_error``:
    the layer's ``backward(dy)`` for a random ``dy`` against the numerical ``Jᵀ dy``.
    """

    name: str
    z: np.ndarray
    analytic: np.ndarray
    numeric: np.ndarray
    jacobian_error: float
    backward_error: float


def check_jacobian(name, z, rng=0) -> JacobianCheck:
    """Check ``F.sigmoid_jacobian`` or ``F.softmax_jacobian`` (``name`` "sigmoid"/"softmax") at ``z (n,)``."""
    functions = {"sigmoid": (F.sigmoid, F.sigmoid_jacobian, nn.Sigmoid),
                 "softmax": (F.softmax, F.softmax_jacobian, nn.Softmax)}
    if name not in functions:
        raise ValueError(f"name: expected 'sigmoid' or 'softmax', got {name!r}")
    f, jacobian, layer_type = functions[name]
    z = np.array(check_array(z, "z", ndim=1, finite=True), dtype=np.float64)
    analytic = jacobian(z)
    numeric = numerical_jacobian(f, z)
    dy = as_rng(rng).standard_normal(z.shape)
    layer = layer_type()
    layer.forward(z[None, :])
    backward = layer.backward(dy[None, :])[0]
    numeric_vjp = gradcheck.numerical_input_gradient(f, z.copy(), dy)
    return JacobianCheck(name, z, analytic, numeric, gradcheck.relative_error(analytic, numeric),
                         gradcheck.relative_error(backward, numeric_vjp))
