"""``Parameter`` and the flat buffers that make a training step fast.

A ``Parameter`` is a trainable array and its gradient; that is all a learner needs
(``p.value``, ``p.grad``, ``p.zero_grad()``). Three speed devices live here and
nowhere else, so no other module reaches into a Parameter's private attributes:

* **Packing** (:func:`pack_parameters`, :class:`FlatPack`): the parameters of a
  model share one flat value buffer and one flat grad buffer, and each
  ``Parameter`` holds views into them. An optimizer then updates the whole model
  with one vectorized operation per formula line instead of one per array,
  which is what dominates the step time of small networks.
* **Write instead of add** (:meth:`Parameter.accumulate_matmul`,
  :meth:`Parameter.accumulate_sum`): right after ``zero_grad()`` a layer's
  gradient is written straight into ``grad`` instead of being added to zeros,
  which saves a temporary array and a pass over memory. A flag records that the
  gradient is zero; it is dropped as soon as anything may write to ``grad``
  (reading or assigning ``p.grad``).
* **Zeroing without clearing** (``FlatPack.zero_grad(lazy=True)``, what an
  optimizer's ``zero_grad()`` does): since the next backward writes every
  gradient over the old values anyway, the flat grad buffer is not cleared; each
  gradient is only marked zero ("stale"), and one that no backward wrote is
  cleared when it is next read (``p.grad``, or :meth:`FlatPack.settle` before an
  update). That saves a pass over all gradients per step (a 1 MB write for the
  784-256-256-10 MLP of ``gdcourse bench``).
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["Parameter", "FlatPack", "pack_parameters", "pack_of", "flat_buffers", "grad_vector"]


class Parameter:
    """A trainable array and its gradient.

    ``value`` and ``grad`` always have the same shape and dtype. Assigning to
    either copies into the existing storage, so a Parameter packed into a flat
    buffer (see :func:`pack_parameters`) stays packed and an optimizer that holds
    the storage keeps seeing it.

    Layers add to the gradient with :meth:`accumulate_matmul` and :meth:`accumulate_sum`.
    As with PyTorch's ``zero_grad()`` (which sets gradients to None), zeroing starts a new
    gradient: an array taken from ``.grad`` before it must not be used afterwards.
    """

    __slots__ = ("_value", "_grad", "name", "_pack", "_grad_zero", "_grad_stale")

    def __init__(self, value, name: str = ""):
        value = np.array(value)  # own copy
        if value.dtype.kind != "f":
            raise ValueError(f"Parameter {name!r}: expected a floating-point value, got dtype {value.dtype}")
        if not np.isfinite(value).all():
            raise ValueError(f"Parameter {name!r}: expected finite values, got "
                             f"{int((~np.isfinite(value)).sum())} NaN/inf entries")
        self._value = value
        self._grad = np.zeros_like(value)
        self._grad_zero = True  # the gradient is zero ...
        self._grad_stale = False  # ... but its storage still holds old values (implies _grad_zero)
        self.name = name
        self._pack = None

    @property
    def value(self) -> np.ndarray:
        return self._value

    @value.setter
    def value(self, new):
        if new is not self._value:  # ``p.value -= g`` hands back the same array
            self._value[...] = _same_shape(new, self._value.shape, f"{self.name or 'Parameter'}.value")

    @property
    def grad(self) -> np.ndarray:
        if self._grad_stale:
            self._grad.fill(0)
            self._grad_stale = False
        self._grad_zero = False  # the caller may write into it
        return self._grad

    @grad.setter
    def grad(self, new):
        self._grad_zero = self._grad_stale = False
        if new is not self._grad:
            self._grad[...] = _same_shape(new, self._grad.shape, f"{self.name or 'Parameter'}.grad")

    @property
    def shape(self):
        return self._value.shape

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def size(self) -> int:
        return self._value.size

    @property
    def pack(self) -> FlatPack | None:
        """The :class:`FlatPack` whose buffers hold this parameter, or None."""
        return self._pack

    def zero_grad(self) -> None:
        self._grad.fill(0)
        self._grad_zero, self._grad_stale = True, False

    def accumulate_matmul(self, a, b) -> None:
        """``grad += a @ b``; shapes ``a (m, k)``, ``b (k, n)``, ``grad (m, n)`` (or ``(n,)`` for ``a (k,)``).

        Uses ``np.dot``, whose dispatch costs less than ``@`` for the small matrices of course models.
        """
        if not self._grad_zero:
            self._grad += np.dot(a, b)
        elif a.dtype == b.dtype == self._grad.dtype:
            np.dot(a, b, out=self._grad)  # out= needs the exact result dtype
        else:
            self._grad[...] = np.dot(a, b)
        self._grad_zero = self._grad_stale = False

    def accumulate_sum(self, dy) -> None:
        """``grad += Σ_n dy[n]``, the sum over the batch; shapes ``dy (N, n)``, ``grad (n,)`` (a bias).

        Computed as ``1ᵀ dy``, a product with a vector of ones: BLAS's matrix-vector
        product is 3-4x faster than NumPy's column sum ``dy.sum(axis=0)``.
        """
        self.accumulate_matmul(_ones(len(dy), dy.dtype), dy)

    def __repr__(self):
        return f"Parameter(name={self.name!r}, shape={self.shape}, dtype={self.dtype})"


@functools.lru_cache(maxsize=64)
def _ones(n, dtype):
    """A read-only vector of ``n`` ones (cached: the batch size rarely changes)."""
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


def _same_shape(new, shape, name):
    new = np.asarray(new)
    if new.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {new.shape}")
    if new.dtype.kind not in "fiu":
        raise ValueError(f"{name}: expected numbers, got dtype {new.dtype}")
    return new


class FlatPack:
    """One contiguous buffer holding the values (and one the grads) of several parameters.

    ``value`` and ``grad`` are 1-D; ``params`` are the parameters in buffer order.
    ``dissolved`` becomes True when one of them is packed elsewhere: the buffers
    then no longer hold all of them. After ``zero_grad(lazy=True)`` the ``grad``
    buffer holds every gradient only once :meth:`settle` has run.
    """

    __slots__ = ("value", "grad", "params", "dissolved", "stale")

    def __init__(self, value, grad, params):
        self.value, self.grad, self.params = value, grad, params
        self.dissolved = False
        self.stale = False  # some parameter may be stale

    def zero_grad(self, lazy: bool = False) -> None:
        """Zero every gradient: one fill of the buffer, or with ``lazy=True`` none at all
        (each gradient is marked zero and its old values are overwritten by the next backward)."""
        if not lazy:
            self.grad.fill(0)
        for p in self.params:
            p._grad_zero, p._grad_stale = True, lazy  # the next backward writes instead of adding
        self.stale = lazy

    def settle(self) -> None:
        """Clear the gradients that are still stale, so that ``grad`` holds every gradient."""
        if self.stale:
            for p in self.params:
                if p._grad_stale:
                    p._grad.fill(0)
                    p._grad_stale = False
            self.stale = False


def pack_parameters(params) -> None:
    """Move ``params`` into one flat value buffer and one flat grad buffer.

    Each ``Parameter`` then holds views into the buffers (see :class:`FlatPack`).
    Values and gradients are preserved. Parameters of different dtypes are left alone.
    """
    params = _unique(params)
    if not params or len({p.dtype for p in params}) != 1:
        return
    if pack_of(params) is not None:
        return
    value = np.concatenate([p.value.ravel() for p in params])
    grad = np.concatenate([p.grad.ravel() for p in params])
    pack = FlatPack(value, grad, tuple(params))
    start = 0
    for p in params:
        if p._pack is not None:
            p._pack.dissolved = True
        stop = start + p.size
        p._value = value[start:stop].reshape(p.shape)
        p._grad = grad[start:stop].reshape(p.shape)
        p._pack = pack
        start = stop


def _unique(params):
    seen, out = set(), []
    for p in params:
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out


def pack_of(params) -> FlatPack | None:
    """The pack whose parameters are exactly ``params``, in the same order, or None."""
    params = tuple(params)
    pack = params[0]._pack if params else None
    return pack if pack is not None and pack.params == params else None


def flat_buffers(params):
    """The flat ``(value, grad)`` buffers of ``params`` when they are exactly one pack, else None.

    The caller may write through either buffer.
    """
    pack = pack_of(params)
    if pack is None:
        return None
    pack.settle()
    for p in pack.params:
        p._grad_zero = False  # the caller may write through the grad buffer
    return pack.value, pack.grad


def grad_vector(params) -> np.ndarray:
    """All gradients as one 1-D array, for reading (norms, diagnostics).

    When the parameters are packed it is a read-only view of the flat buffer, not
    a copy (write gradients through ``Parameter.grad`` instead), valid until the
    next ``optimizer.zero_grad()``.
    """
    params = list(params)
    pack = pack_of(params)
    if pack is not None:
        pack.settle()
        view = pack.grad.view()
        view.flags.writeable = False
        return view
    return np.concatenate([p.grad.ravel() for p in params]) if params else np.zeros(0)
