"""Depth vs width: the tent map composed ``L`` times has ``2^L`` linear pieces from ``2L`` ReLU units; one
hidden layer needs one unit per piece (Telgarsky, 2016)."""

from __future__ import annotations

import numpy as np

from gdcourse import nn
from gdcourse.experiments.activations.perceptron import _hand_set
from gdcourse.validate import check_array, check_positive_int

__all__ = ["tent_network", "sawtooth_network", "sawtooth_knots", "shallow_relu_interpolant", "count_linear_pieces"]


def tent_network() -> nn.Sequential:
    """The tent map on [0, 1] as a ReLU block: ``t(x) = 2 relu(x) − 4 relu(x − ½)``, (N, 1) → (N, 1).

    ``t(0) = 0``, ``t(½) = 1``, ``t(1) = 0``: two units, two linear pieces.
    """
    model = nn.Sequential(nn.Linear(1, 2, init="zeros"), nn.ReLU(), nn.Linear(2, 1, init="zeros"))
    return _hand_set(model, [([[1.0, 1.0]], [0.0, -0.5]), ([[2.0], [-4.0]], [0.0])])


def sawtooth_network(depth) -> nn.Sequential:
    """The tent map composed ``depth`` times (Telgarsky, 2016): ``2·depth`` units, ``2^depth`` pieces."""
    layers = []
    for _ in range(check_positive_int(depth, "depth")):
        layers.extend(tent_network().layers)
    return nn.Sequential(*layers)


def sawtooth_knots(depth):
    """Knots ``j / 2^depth`` and values (0, 1, 0, 1, …, 0) of the composed tent map on [0, 1]."""
    n = 2 ** check_positive_int(depth, "depth")
    return np.arange(n + 1) / n, (np.arange(n + 1) % 2).astype(np.float64)


def shallow_relu_interpolant(knots, values) -> nn.Sequential:
    """One-hidden-layer ReLU network equal, on ``x ≥ knots[0]``, to the piecewise-linear interpolant.

    ``f(x) = v₀ + Σ_j c_j relu(x − t_j)`` over the knots ``t_0 … t_{n−2}``, with ``c_0 = s_0``
    and ``c_j = s_j − s_{j−1}`` (the change of slope at knot j): one unit per linear piece,
    ``len(knots) − 1`` units. ``knots`` strictly increasing ``(n,)``, ``values (n,)``.
    """
    t = check_array(knots, "knots", ndim=1, finite=True)
    v = check_array(values, "values", ndim=1, finite=True)
    if len(t) != len(v) or len(t) < 2:
        raise ValueError(f"knots, values: expected equal lengths >= 2, got {len(t)} and {len(v)}")
    if np.any(np.diff(t) <= 0):
        raise ValueError("knots: expected strictly increasing values")
    slopes = np.diff(v) / np.diff(t)
    units = len(slopes)
    hidden, out = nn.Linear(1, units, init="zeros"), nn.Linear(units, 1, init="zeros")
    hidden.weight.value = np.ones((1, units))
    hidden.bias.value = -t[:-1]
    out.weight.value = np.diff(slopes, prepend=0.0)[:, None]
    out.bias.value = [v[0]]
    return nn.Sequential(hidden, nn.ReLU(), out)


def count_linear_pieces(x, y, tol=1e-7) -> int:
    """Number of linear pieces of a sampled piecewise-linear function.

    Slopes between consecutive samples; a new piece starts where the slope changes by
    more than ``tol`` (relative to 1 + |slope|). Put the knots on the grid, otherwise a
    knot inside an interval adds one short extra piece.
    """
    x = check_array(x, "x", ndim=1, finite=True)
    y = check_array(y, "y", ndim=1, finite=True)
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"x, y: expected equal lengths >= 2, got {len(x)} and {len(y)}")
    slopes = np.diff(y) / np.diff(x)
    jumps = np.abs(np.diff(slopes)) > tol * (1 + np.abs(slopes[:-1]))
    return int(1 + np.count_nonzero(jumps))
