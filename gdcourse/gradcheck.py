"""Gradient checking: compare an analytic gradient with central differences.

The central difference ``(f(x + ε e_i) − f(x − ε e_i)) / 2ε`` has truncation error
about ``ε² |f'''| / 6`` and round-off error about ``u |f| / ε`` (``u`` the unit
round-off). In float64 (``u ≈ 1.1e-16``) with ``ε = 1e-6`` that is ~1e-13 and
~1e-10 for ``|f| ~ 1``, so a correct gradient agrees to a relative error of about
1e-7 or better, except on entries far smaller than the rest of the gradient, where the
absolute round-off dominates: :func:`relative_error` measures those on the gradient's scale
(``ε ≈ 1e-5``, near ``u^(1/3)``, balances the two terms best).
In float32 (``u ≈ 6e-8``) the round-off alone is ~0.06, which is why everything here
insists on float64.

The workflow follows the CS231n assignments (``gradient_check.py``): a random
upstream gradient ``dy`` turns an array-valued layer into the scalar
``sum(module(x) * dy)``, whose gradient is exactly what ``backward(dy)`` returns.
A random ``dy`` matters: with ``dy = 1`` the input gradient of a normalization
layer is exactly zero, so a check with ones proves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gdcourse.nn.module import Module
from gdcourse.validate import as_rng, check_finite, check_positive

__all__ = [
    "central_difference",
    "numerical_gradient",
    "numerical_input_gradient",
    "relative_error",
    "check_module",
    "GradCheckReport",
]


def _check_float64(x, name):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name}: expected a numpy.ndarray, got {type(x).__name__}")
    if x.dtype != np.float64:
        raise ValueError(
            f"{name}: expected dtype float64, got {x.dtype}; central differences in lower "
            "precision are dominated by round-off, convert with .astype(np.float64)"
        )


def numerical_gradient(f, x, eps=1e-5):
    """Central-difference gradient of a scalar function ``f`` at ``x``.

    ``grad_i = (f(x + eps e_i) − f(x − eps e_i)) / (2 eps)``.

    Parameters
    ----------
    f : callable
        Called as ``f(x)`` with ``x`` perturbed in place; returns a scalar.
    x : ndarray, float64, any shape
        Perturbed one entry at a time and restored exactly afterwards.
    eps : float

    Returns
    -------
    ndarray, the shape of ``x``.
    """
    return _central_differences(lambda: _scalar(f(x)), x, eps, float)


def numerical_input_gradient(f, x, dy, eps=1e-5):
    """Central-difference gradient of ``sum(f(x) * dy)`` with respect to ``x``.

    For an array-valued ``f`` this is the vector-Jacobian product ``Jᵀ dy``, the
    quantity a layer's ``backward(dy)`` returns. ``dy`` has the shape of ``f(x)``.
    The two outputs are subtracted before they are weighted and summed,
    ``sum((f(x + eps e_i) − f(x − eps e_i)) / (2 eps) · dy)``: outputs that do not depend
    on ``x_i`` then cancel exactly instead of adding round-off.
    """
    dy = np.asarray(dy, dtype=np.float64)

    def output():
        y = np.array(f(x), dtype=np.float64)  # a copy: f may return (a view of) x itself
        if y.shape != dy.shape:
            raise ValueError(f"dy: expected the shape of f(x), {y.shape}, got {dy.shape}")
        if not np.isfinite(y).all():
            raise ValueError("f: expected finite outputs at every perturbed point, got NaN or inf")
        return y

    return _central_differences(output, x, eps, lambda derivatives: np.sum(derivatives * dy))


def central_difference(f, w, i, h=1e-6):
    """``∂f/∂w_i ≈ (f(w + h e_i) − f(w − h e_i)) / 2h``, error O(h²).

    ``f()`` takes no argument and reads ``w`` (a flat array), which is changed in place and restored
    exactly. ``f`` may return a number or an array (then each output's derivative, entry by entry).
    """
    original = w[i]
    w[i] = original + h
    plus = f()
    w[i] = original - h
    minus = f()
    w[i] = original
    return (plus - minus) / (2 * h)


def _central_differences(evaluate, x, eps, reduce):
    """``reduce(central_difference(evaluate, x, i, eps))`` for every entry ``i`` of ``x``, shaped like ``x``."""
    _check_float64(x, "x")
    check_positive(eps, "eps")
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    if x.size and not np.shares_memory(flat_x, x):
        raise ValueError("x: expected an array whose entries can be perturbed in place (a contiguous view)")
    for i in range(flat_x.size):
        flat_grad[i] = reduce(central_difference(evaluate, flat_x, i, eps))
    return grad


def _scalar(value):
    if np.ndim(value) != 0:
        raise ValueError(f"f: expected a scalar return value, got shape {np.shape(value)}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"f: expected a real number, got {value!r} ({type(value).__name__})") from None
    if not np.isfinite(value):
        raise ValueError(f"f: expected a finite value at every perturbed point, got {value}")
    return value


SCALE_FLOOR = 1e-3
"""Entries below this fraction of the largest ``|a_j| + |b_j|`` are measured on the gradient's scale."""


def relative_error(a, b, floor=1e-12, scale_floor=SCALE_FLOOR):
    """Worst elementwise relative error ``max_i |a_i − b_i| / max(|a_i| + |b_i|, scale_floor · s, floor)``.

    ``s = max_j (|a_j| + |b_j|)`` is the scale of the whole gradient. Symmetric in ``a`` and ``b`` and at
    most 1. Why a scale-aware floor: a central difference carries an absolute round-off of about
    ``u |f| / h`` whatever the size of the entry, so an entry near zero divided by its own tiny
    ``|a_i| + |b_i|`` raises a false alarm (``f = w₀² + w₁² + 100`` at ``w = (1, 1e-9)``, ``h = 1e-5``:
    0.032 with the absolute floor alone, 3e-8 with the scale floor, for a correct gradient). Entries
    smaller than ``scale_floor`` times the largest are therefore compared on the scale of the gradient
    (a wrong entry there still shows: 100% off at a millionth of the scale gives about 1e-3).
    ``scale_floor=0`` gives the plain CS231n form with the absolute ``floor`` only, which keeps entries
    where both are zero from dividing by zero. Empty arrays give 0. NaN or inf entries raise.
    """
    a, b = _real_array(a, "a"), _real_array(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a, b: expected the same shape, got {a.shape} and {b.shape}")
    check_positive(floor, "floor")
    if not 0.0 <= scale_floor < 1.0:
        raise ValueError(f"scale_floor: expected a number in [0, 1), got {scale_floor!r}")
    if a.size == 0:
        return 0.0
    magnitude = np.abs(a) + np.abs(b)
    scale = np.maximum(magnitude, max(scale_floor * float(magnitude.max()), floor))
    return float(np.max(np.abs(a - b) / scale))


def _real_array(x, name):
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected an array of real numbers, got {type(x).__name__}") from None
    check_finite(x, name)
    return x


@dataclass
class GradCheckReport:
    """Worst relative errors found by :func:`check_module`.

    ``input_error`` is for dL/dx; ``param_errors`` maps each parameter's path in the
    module (``"0.weight"``, as ``module.named_parameters()`` names it) to the error of its gradient.
    """

    module: str
    input_error: float
    param_errors: dict[str, float] = field(default_factory=dict)

    @property
    def worst(self) -> float:
        """The largest of all the errors."""
        return max([self.input_error, *self.param_errors.values()])

    def __str__(self):
        width = max([5, *(len(name) for name in self.param_errors)])
        lines = [f"gradient check of {self.module}: worst relative error {self.worst:.2e}",
                 f"  {'input':<{width}}  {self.input_error:.2e}"]
        lines += [f"  {name:<{width}}  {err:.2e}" for name, err in self.param_errors.items()]
        return "\n".join(lines)


def check_module(module, x, dy=None, rng=None, eps=1e-5) -> GradCheckReport:
    """Compare ``module.backward`` with central differences of ``sum(module(x) * dy)``.

    Parameters
    ----------
    module : Module, in train or eval mode, with float64 parameters
    x : ndarray, float64, the module's input shape
    dy : ndarray of the output's shape, optional
        Upstream gradient; drawn from a standard normal with ``rng`` if omitted.
    rng : int seed or numpy Generator, optional
    eps : float
        Step of the central differences.

    How the module is treated:

    * Its gradients are zeroed, then one forward and one backward give the analytic
      gradients (left in ``.grad`` afterwards).
    * Every numerical forward starts from the state the module had on entry: its
      buffers (running statistics, counters) and the state of its random generators,
      all from ``module.state_dict()``, are loaded back before each pass, so
      ``Dropout`` draws the same mask every time and ``BatchNorm1d`` does not drift.
    * Parameter values are perturbed in place and restored exactly; at the end the
      module is left as after one ordinary forward on ``x``.
    """
    if not isinstance(module, Module):
        raise TypeError(f"module: expected a gdcourse.nn.Module, got {type(module).__name__}")
    _check_float64(x, "x")
    check_finite(x, "x")
    named = list(module.named_parameters())
    for name, p in named:
        if p.dtype != np.float64:
            raise ValueError(f"parameter {name!r}: expected dtype float64, got {p.dtype}")
    start_state = _state_without_parameters(module)

    module.zero_grad()
    y = module(x.copy())
    if dy is None:
        dy = as_rng(rng).standard_normal(np.shape(y))
    dy = np.asarray(dy, dtype=np.float64)
    if dy.shape != np.shape(y):
        raise ValueError(f"dy: expected the output shape {np.shape(y)}, got {dy.shape}")
    dx = _checked_input_gradient(module, module.backward(dy.copy()), x)
    analytic = {name: p.grad.copy() for name, p in named}

    def output(xx):
        module.load_state_dict(start_state, strict=False)
        return module(xx)

    x_work = x.copy()
    input_error = relative_error(dx, numerical_input_gradient(output, x_work, dy, eps))
    param_errors = {}
    for name, p in named:
        numeric = numerical_input_gradient(lambda _: output(x_work), p.value, dy, eps)
        param_errors[name] = relative_error(analytic[name], numeric)

    module.load_state_dict(start_state, strict=False)
    module(x.copy())
    return GradCheckReport(type(module).__name__, input_error, param_errors)


def _checked_input_gradient(module, dx, x):
    """What ``module.backward`` returned must be dL/dx: a finite float array of the shape of ``x``."""
    name = f"{type(module).__name__}.backward"
    if not isinstance(dx, np.ndarray):
        raise ValueError(
            f"{name}: expected it to return dL/dx, an array of the input's shape {x.shape}, "
            f"got {type(dx).__name__}" + ("; did it forget to return?" if dx is None else "")
        )
    if dx.shape != x.shape:
        raise ValueError(
            f"{name}: expected it to return dL/dx of the input's shape {x.shape}, got shape {dx.shape}"
        )
    if dx.dtype.kind != "f":
        raise ValueError(f"{name}: expected it to return floating-point dL/dx, got dtype {dx.dtype}")
    check_finite(dx, f"{name}: dL/dx")
    return dx


def _state_without_parameters(module):
    """``module.state_dict()`` without the parameters (which the check perturbs): buffers and rng states."""
    parameters = {name for name, _ in module.named_parameters(remove_duplicate=False)}
    return {key: value for key, value in module.state_dict().items() if key not in parameters}
