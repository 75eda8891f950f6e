"""Forward and backward factors (INIT-03): how much each layer multiplies the variance of the signal,
measured and from the formula; the singular values of a deep linear network's Jacobian."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import init as initializers
from gdcourse import nn
from gdcourse.experiments.common import one_blas_thread
from gdcourse.experiments.initialization.networks import layer_activations, make_mlp
from gdcourse.experiments.initialization.schemes import orthogonal, weight_variance
from gdcourse.validate import as_rng, check_positive_int

__all__ = ["SignalFactors", "signal_factors", "jacobian_singular_values"]


@dataclass(frozen=True)
class SignalFactors:
    """Per layer of a linear network: how much each layer multiplies the variance of the signal.

    ``forward (L,)``: ``Var(z_l) / Var(z_{l−1})`` measured (``z_0`` the input);
    ``backward (L,)``: ``Var(∂L/∂z_{l−1}) / Var(∂L/∂z_l)`` measured for a random
    upstream gradient; ``forward_formula = n_in Var(w)`` and ``backward_formula =
    n_out Var(w)`` from :func:`weight_variance`.
    """

    widths: tuple
    scheme: str
    forward: np.ndarray
    backward: np.ndarray
    forward_formula: np.ndarray
    backward_formula: np.ndarray


@one_blas_thread
def signal_factors(widths, scheme, batch=2000, rng=0) -> SignalFactors:
    """Measure the forward and backward variance factors of every layer of a linear network.

    The network is :func:`make_mlp` with identity activations, so nothing but the
    weights changes the variance; inputs and the upstream gradient are ``N(0, 1)``.
    """
    rng = as_rng(rng)
    model = make_mlp(widths, "linear", scheme, rng=rng)
    batch = check_positive_int(batch, "batch")
    X = rng.standard_normal((batch, model[0].in_features))
    forward = [X.var()] + [h.var() for h in layer_activations(model, X)]
    dy = rng.standard_normal((batch, model[-2].out_features))
    backward = [dy.var()]
    for layer in reversed(model.layers):
        dy = layer.backward(dy)
        if isinstance(layer, nn.Linear):
            backward.append(dy.var())
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    variances = np.array([weight_variance(scheme, m.in_features, m.out_features) for m in linears])
    return SignalFactors(
        tuple(widths), scheme,
        forward=np.array(forward[1:]) / np.array(forward[:-1]),
        backward=(np.array(backward[1:]) / np.array(backward[:-1]))[::-1],
        forward_formula=np.array([m.in_features for m in linears]) * variances,
        backward_formula=np.array([m.out_features for m in linears]) * variances,
    )


@one_blas_thread
def jacobian_singular_values(depth, width, kind="gaussian", rng=0) -> np.ndarray:
    """Singular values (descending) of the input-output Jacobian ``W_1 W_2 ⋯ W_depth`` of a linear network.

    ``kind="gaussian"``: LeCun's ``N(0, 1/width)``, which keeps the *average*
    squared singular value at 1 but spreads them out as depth grows;
    ``kind="orthogonal"``: :func:`orthogonal`, every singular value exactly 1
    (dynamical isometry, Saxe et al., 2014; Pennington et al., 2017).
    """
    depth, width = check_positive_int(depth, "depth"), check_positive_int(width, "width")
    makers = {"gaussian": initializers.lecun_normal, "orthogonal": orthogonal}
    if kind not in makers:
        raise ValueError(f"kind: expected one of {list(makers)}, got {kind!r}")
    rng = as_rng(rng)
    product = np.eye(width)
    for _ in range(depth):
        product = product @ makers[kind]((width, width), rng=rng)
    return np.linalg.svd(product, compute_uv=False)
