"""Functions of one variable for notebook 01: a parabola, a tilted double well, a sigmoid plateau, a cliff.

Each :class:`Function1D` carries its first two derivatives (vectorized), its minima and a plotting
window, so gradient descent on it can be judged against the exact answer.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gdcourse.functional import sigmoid
from gdcourse.validate import check_positive

__all__ = ["Function1D", "parabola", "double_well", "sigmoid_plateau", "cliff", "FUNCTIONS_1D", "get_function_1d"]


@dataclass(frozen=True)
class Function1D:
    """A function of one variable with its first two derivatives, all vectorized over arrays.

    Attributes
    ----------
    name, formula : str
        Key in :data:`FUNCTIONS_1D`, and the formula for plot titles.
    value, derivative, second_derivative : callable, array (...) -> array (...)
    minima : tuple of float
        The local minimizers, lowest value first; empty when there is none.
    lowest : float
        The minimum value (the infimum when no minimizer exists).
    bounds : (xmin, xmax)
        A plotting window.
    start : float
        A start away from the minimum, from which the lesson is visible.
    """

    name: str
    formula: str
    value: Callable
    derivative: Callable
    second_derivative: Callable
    minima: tuple
    lowest: float
    bounds: tuple
    start: float

    def __repr__(self):
        return f"Function1D({self.name!r}: {self.formula})"


def _float_array(x):
    return np.asarray(x, dtype=np.float64)


def parabola() -> Function1D:
    """``f(x) = x² + 5``: ``f' = 2x``, ``f'' = 2``, minimum 5 at x = 0; GD: ``x_{t+1} = (1 − 2η) x_t``."""
    return Function1D(
        name="parabola", formula="x² + 5",
        value=lambda x: _float_array(x) ** 2 + 5.0,
        derivative=lambda x: 2.0 * _float_array(x),
        second_derivative=lambda x: np.full_like(_float_array(x), 2.0),
        minima=(0.0,), lowest=5.0, bounds=(-3.5, 3.5), start=3.0,
    )


def double_well(tilt: float = 0.3) -> Function1D:
    """``f(x) = (x² − 1)² + tilt·x``: two minima near ±1; for tilt > 0 the left one is lower (global).

    ``f' = 4x(x² − 1) + tilt``, ``f'' = 12x² − 4``. The minimizers are the roots of
    ``f'`` with ``f'' > 0``; two exist while ``|tilt| < 8 / (3√3) ≈ 1.54``.
    """
    if isinstance(tilt, bool) or not isinstance(tilt, numbers.Real) or not abs(tilt) < 8 / (3 * math.sqrt(3)):
        raise ValueError(f"tilt: expected a real number with |tilt| < 1.5396 (two minima), got {tilt!r}")
    tilt = float(tilt)

    def value(x):
        x = _float_array(x)
        return (x * x - 1.0) ** 2 + tilt * x

    roots = np.roots([4.0, 0.0, -4.0, tilt])
    real = roots[np.abs(roots.imag) < 1e-9].real
    minima = sorted((float(r) for r in real if 12 * r * r - 4 > 0), key=lambda r: float(value(r)))
    return Function1D(
        name="double well", formula=f"(x² − 1)² + {tilt:g}x",
        value=value,
        derivative=lambda x: 4.0 * _float_array(x) * (_float_array(x) ** 2 - 1.0) + tilt,
        second_derivative=lambda x: 12.0 * _float_array(x) ** 2 - 4.0,
        minima=tuple(minima), lowest=float(value(minima[0])), bounds=(-2.0, 2.0), start=1.8,
    )


def sigmoid_plateau() -> Function1D:
    """``f(w) = (1 − σ(w))²``: one sigmoid unit that should output 1, started saturated at w = −6.

    ``f' = −2σ(1 − σ)²`` is about ``−2e^{w}`` for very negative w: a plateau where the
    loss stays near 1 for many steps, then drops. No minimizer; the infimum is 0
    (as w → ∞).
    """

    def derivative(w):
        s = sigmoid(_float_array(w))
        return -2.0 * s * (1.0 - s) ** 2

    def second_derivative(w):
        s = sigmoid(_float_array(w))
        return -2.0 * s * (1.0 - s) ** 2 * (1.0 - 3.0 * s)

    return Function1D(
        name="plateau", formula="(1 − σ(w))²",
        value=lambda w: (1.0 - sigmoid(_float_array(w))) ** 2,
        derivative=derivative, second_derivative=second_derivative,
        minima=(), lowest=0.0, bounds=(-8.0, 6.0), start=-6.0,
    )


def cliff(height: float = 10.0, steepness: float = 20.0) -> Function1D:
    """``f(w) = 0.05 (w − 4)² + height · σ(−steepness (w − 2))``: a gentle bowl behind a cliff at w = 2.

    On the cliff face the slope is about ``height · steepness / 4`` (50 by default),
    so one gradient step from there throws ``w`` far past the minimum near 4 (the
    wall adds less than 1e-14 to that minimizer). Steep walls like this appear in
    recurrent networks (Pascanu et al., 2013); gradient clipping tames them.
    """
    height = check_positive(height, "height")
    steepness = check_positive(steepness, "steepness")

    def derivative(w):
        w = _float_array(w)
        s = sigmoid(-steepness * (w - 2.0))
        return 0.1 * (w - 4.0) - height * steepness * s * (1.0 - s)

    def second_derivative(w):
        s = sigmoid(-steepness * (_float_array(w) - 2.0))
        return 0.1 + height * steepness**2 * s * (1.0 - s) * (1.0 - 2.0 * s)

    def value(w):
        w = _float_array(w)
        return 0.05 * (w - 4.0) ** 2 + height * sigmoid(-steepness * (w - 2.0))

    return Function1D(
        name="cliff", formula=f"0.05(w − 4)² + {height:g}σ(−{steepness:g}(w − 2))",
        value=value, derivative=derivative, second_derivative=second_derivative,
        minima=(4.0,), lowest=float(value(4.0)), bounds=(-1.0, 20.0), start=-1.0,
    )


FUNCTIONS_1D = {"parabola": parabola, "double well": double_well, "plateau": sigmoid_plateau, "cliff": cliff}
"""Name -> factory of a :class:`Function1D`."""


def get_function_1d(function) -> Function1D:
    """A :class:`Function1D` from itself or from its name in :data:`FUNCTIONS_1D`."""
    if isinstance(function, Function1D):
        return function
    if function not in FUNCTIONS_1D:
        raise ValueError(f"function: expected one of {sorted(FUNCTIONS_1D)} or a Function1D, "
                         f"got {function!r}")
    return FUNCTIONS_1D[function]()
