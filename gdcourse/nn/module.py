"""``Parameter``, ``Module`` and ``Sequential``: the contract every layer follows.

A layer is a forward/backward pair (as in CS231n's ``layers.py``):

* ``forward(x)`` computes the output and keeps in ``self._cache`` what ``backward``
  needs;
* ``backward(dy)`` receives dL/d(output), **adds** dL/d(parameter) into each
  ``Parameter.grad`` and returns dL/d(input).

Gradients accumulate (as in PyTorch) so that two backward passes before
``zero_grad()`` add up; optimizers read ``Parameter.grad`` and update
``Parameter.value`` in place.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

__all__ = ["Parameter", "Module", "Sequential", "pack_parameters", "grad_vector", "flat_buffers"]


class Parameter:
    """A trainable array and its gradient.

    ``value`` and ``grad`` always have the same shape and dtype. Assigning to
    either copies into the existing storage, so a Parameter packed into a flat
    buffer (see :func:`pack_parameters`) stays packed.

    Layers add to the gradient with :meth:`accumulate_matmul`. Right after
    ``zero_grad()`` it writes the product straight into ``grad`` instead of adding
    it to zeros, which saves a temporary array and a pass over memory; the
    ``_grad_zero`` flag that allows this is dropped as soon as ``grad`` is read or
    assigned. As with PyTorch's ``zero_grad()`` (which sets gradients to None),
    ``zero_grad()`` starts a new gradient: an array taken from ``.grad`` before it
    must not be written to afterwards.
    """

    __slots__ = ("_value", "_grad", "name", "_pack", "_grad_zero")

    def __init__(self, value, name: str = ""):
        value = np.array(value)  # own copy
        if value.dtype.kind != "f":
            raise ValueError(f"Parameter {name!r}: expected a floating-point value, got dtype {value.dtype}")
        self._value = value
        self._grad = np.zeros_like(value)
        self._grad_zero = True
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
        self._grad_zero = False  # the caller may write into it
        return self._grad

    @grad.setter
    def grad(self, new):
        self._grad_zero = False
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

    def zero_grad(self) -> None:
        self._grad.fill(0)
        self._grad_zero = True

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
        self._grad_zero = False

    def __repr__(self):
        return f"Parameter(name={self.name!r}, shape={self.shape}, dtype={self.dtype})"


def _same_shape(new, shape, name):
    new = np.asarray(new)
    if new.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {new.shape}")
    return new


class _Pack:
    """One contiguous buffer holding the values (and one the grads) of several parameters."""

    __slots__ = ("value", "grad", "params")

    def __init__(self, value, grad, params):
        self.value, self.grad, self.params = value, grad, params


def pack_parameters(params) -> None:
    """Move ``params`` into one flat value buffer and one flat grad buffer.

    Each ``Parameter`` then holds views into the buffers, so an optimizer can
    update all of them with one vectorized operation instead of one per array,
    which is what dominates the step time of small networks. Values and
    gradients are preserved. Parameters of different dtypes are left alone.
    """
    params = _unique(params)
    if not params or len({p.dtype for p in params}) != 1:
        return
    if _packed_together(params):
        return
    value = np.concatenate([p.value.ravel() for p in params])
    grad = np.concatenate([p.grad.ravel() for p in params])
    pack = _Pack(value, grad, tuple(params))
    start = 0
    for p in params:
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


def _packed_together(params) -> bool:
    """True when ``params`` are exactly the parameters of one pack, in order."""
    pack = params[0]._pack
    return pack is not None and pack.params == tuple(params)


def flat_buffers(params):
    """The flat ``(value, grad)`` buffers of ``params``, or None.

    Returns the two 1-D arrays of their pack when ``params`` are exactly the
    parameters that :func:`pack_parameters` packed together, in the same order;
    otherwise None. Optimizers use it to update everything with one operation.
    """
    params = list(params)
    if params and _packed_together(params):
        for p in params:
            p._grad_zero = False  # the caller may write through the grad buffer
        pack = params[0]._pack
        return pack.value, pack.grad
    return None


def grad_vector(params) -> np.ndarray:
    """All gradients as one 1-D array, for reading (norms, diagnostics).

    When the parameters are packed it is a read-only view of the flat buffer, not
    a copy; write gradients through ``Parameter.grad`` instead.
    """
    params = list(params)
    if params and _packed_together(params):
        view = params[0]._pack.grad.view()
        view.flags.writeable = False
        return view
    return np.concatenate([p.grad.ravel() for p in params]) if params else np.zeros(0)


class Module(ABC):
    """Base class of every layer and model.

    Subclasses implement ``forward`` and ``backward``; ``parameters()``,
    ``train()``/``eval()`` and ``zero_grad()`` find parameters and sub-modules
    among the attributes automatically, in the order they were assigned.
    """

    def __init__(self):
        self.training = True
        self._cache = None

    def __call__(self, x, *args, **kwargs):
        return self.forward(x, *args, **kwargs)

    @abstractmethod
    def forward(self, x):
        """Compute the output, caching in ``self._cache`` what ``backward`` needs."""

    @abstractmethod
    def backward(self, dy, input_grad: bool = True):
        """Return dL/dx for upstream ``dy``; with ``input_grad=False`` a layer whose
        input gradient costs a matrix product (``Linear``) may skip it and return None.
        """

    def _saved(self):
        """What ``forward`` cached, or a clear error if it has not run."""
        if self._cache is None:
            raise RuntimeError(
                f"{type(self).__name__}.backward was called before forward: "
                "call the module on an input first, then backward with dL/d(output)"
            )
        return self._cache

    def children(self):
        """Sub-modules held directly in attributes (or lists/tuples of them)."""
        for v in vars(self).values():
            if isinstance(v, Module):
                yield v
            elif isinstance(v, (list, tuple)):
                yield from (m for m in v if isinstance(m, Module))

    def parameters(self) -> list[Parameter]:
        """Own parameters first, then those of sub-modules, without duplicates."""
        found = []
        for v in vars(self).values():
            if isinstance(v, Parameter):
                found.append(v)
        for child in self.children():
            found.extend(child.parameters())
        return _unique(found)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True):
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        kids = list(self.children())
        if not kids:
            return f"{type(self).__name__}({self.extra_repr()})"
        body = "\n".join("  " + repr(k).replace("\n", "\n  ") for k in kids)
        return f"{type(self).__name__}(\n{body}\n)"


class Sequential(Module):
    """Layers applied in order: ``y = layers[-1](...layers[0](x))``.

    The parameters of all layers are packed into one flat buffer (see
    :func:`pack_parameters`) so optimizers update them in one operation.
    """

    def __init__(self, *layers: Module):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} is a {type(layer).__name__}, expected a Module")
        self.layers = list(layers)
        pack_parameters(self.parameters())

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dy, input_grad: bool = True):
        """Backpropagate through the layers in reverse.

        ``input_grad=False`` skips dL/dx of the first layer (a full matrix product
        for ``Linear``), which training never needs.
        """
        for layer in reversed(self.layers[1:]):
            dy = layer.backward(dy)
        return self.layers[0].backward(dy, input_grad) if self.layers else dy

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)
