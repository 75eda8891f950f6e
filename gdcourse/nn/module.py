"""``Module`` and ``Sequential``: the contract every layer follows, and the module tree.

A layer is a forward/backward pair (as in CS231n's ``layers.py``):

* ``forward(x)`` computes the output and keeps in ``self._cache`` what ``backward``
  needs;
* ``backward(dy)`` receives dL/d(output), **adds** dL/d(parameter) into each
  ``Parameter.grad`` and returns dL/d(input).

Gradients accumulate (as in PyTorch): this is deliberate, so two backward
passes before ``zero_grad()`` add up (gradient accumulation over several
batches); optimizers read ``Parameter.grad`` and update ``Parameter.value`` in place.

Checks, once per call and cheap: every ``backward(dy)`` requires ``dy`` to be a
floating-point ndarray of exactly the shape of the output of the last ``forward``
(a shape compare, see :meth:`Module._saved`). The data a model is given is checked
at its boundary (:meth:`Module._check_data`): at least one row and no NaN or inf.
A container (``Sequential``, ``Residual``) checks its input once and its layers
skip that check, so the activations of a diverging model may become inf or NaN
and reach the loss, whose NaN value is how ``fit`` detects divergence.

The tree, with the names and semantics of ``torch.nn.Module``: a module's
attributes holding a ``Parameter``, a ``Module`` or a list/tuple of Modules make
it up, in the order they were assigned. ``children()``, ``modules()``,
``parameters()``, ``buffers()`` and their ``named_*`` forms walk it depth first,
a module's own members before its children's; names are dotted paths such as
``"0.weight"`` (layer 0 of a ``Sequential``) or ``"2.block.bias"``. Buffers are
state that is saved but not trained (``BatchNorm1d``'s running statistics),
declared with :meth:`Module.register_buffer`. ``state_dict()`` copies
parameters, buffers and the state of every random generator a layer draws from
(``Dropout``'s masks), so ``load_state_dict`` brings back exactly the same behaviour.
"""

from __future__ import annotations

import copy
import numbers
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np

from gdcourse.nn.parameter import Parameter, flat_buffers, grad_vector, pack_of, pack_parameters
from gdcourse.validate import all_finite, check_finite

__all__ = [
    "Module", "Sequential", "IncompatibleKeys",
    # defined in gdcourse.nn.parameter, importable from here as before
    "Parameter", "pack_parameters", "grad_vector", "flat_buffers",
]


_NO_DY = object()  # ``_saved()`` called without an upstream gradient (layers written outside gdcourse.nn)


class _Nesting:
    """Whether a container's forward is running: its layers then skip the data check (one pass
    over the data per model call, not one per layer). One flag per process: the course runs one
    model at a time in one thread."""

    __slots__ = ("inside",)

    def __init__(self):
        self.inside = False


_NESTING = _Nesting()


class IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` returns (as in PyTorch): keys it lacked and keys it ignored."""

    missing_keys: list
    unexpected_keys: list


class Module(ABC):
    """Base class of every layer and model.

    Subclasses implement ``forward`` and ``backward``; the tree methods find
    parameters, buffers and sub-modules among the attributes automatically.
    """

    def __init__(self):
        self.training = True
        self._cache = None
        self._y_shape = None  # the shape of the last output, which ``dy`` must have
        self._buffer_names = []

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

    def _keep(self, cache, y):
        """Store ``cache`` for ``backward`` and the shape of the output ``y``; return ``y``."""
        self._cache = cache
        self._y_shape = y.shape
        return y

    def _saved(self, dy=_NO_DY):
        """What ``forward`` cached, after checking that it ran and that ``dy`` fits its output.

        ``dy`` must be a floating-point ndarray of exactly the shape of the output of the
        last ``forward`` (O(1): a type, a shape and a dtype compare). Called without ``dy``
        (layers written outside ``gdcourse.nn``) only the first check is made.
        """
        if dy is _NO_DY:
            if self._cache is None:
                self._raise_before_forward()
        elif not (isinstance(dy, np.ndarray) and dy.shape == self._y_shape and dy.dtype.kind == "f"):
            self._raise_bad_upstream(dy)  # also before forward: _y_shape is None then
        return self._cache

    def _raise_before_forward(self):
        raise RuntimeError(
            f"{type(self).__name__}.backward was called before forward: "
            "call the module on an input first, then backward with dL/d(output)"
        )

    def _raise_bad_upstream(self, dy):
        if self._cache is None:
            self._raise_before_forward()
        want = f"a floating-point array of shape {self._y_shape} (the shape of the output of forward)"
        if not isinstance(dy, np.ndarray):
            got = f"a {type(dy).__name__}; convert it with np.asarray(dy, dtype=float)"
        elif dy.dtype.kind != "f":
            got = f"dtype {dy.dtype}"
        else:
            got = f"shape {dy.shape}"
        raise ValueError(f"{type(self).__name__}.backward: dy: expected {want}, got {got}")

    def _check_data(self, x):
        """At a model's boundary, raise unless the float array ``x`` has at least one row and
        only finite values (one vectorized pass); inside a container this is skipped."""
        if _NESTING.inside or not isinstance(x, np.ndarray):
            return
        if x.ndim and not x.shape[0]:
            raise ValueError(f"{type(self).__name__}: x: expected at least one row, got shape {x.shape}")
        if x.dtype.kind == "f" and not all_finite(x):
            check_finite(x, f"{type(self).__name__}: x")

    def _contain(self, x, run):
        """``run(x)`` for a container: the data check here, once, and not in the layers inside."""
        if _NESTING.inside:
            return run(x)
        self._check_data(x)
        _NESTING.inside = True
        try:
            return run(x)
        finally:
            _NESTING.inside = False

    # --- the tree ---------------------------------------------------------------------

    def register_buffer(self, name: str, value) -> None:
        """Store ``value`` as attribute ``name`` and save it in ``state_dict()``, untrained.

        ``value`` is an array (updated in place by the layer, e.g. a running mean)
        or an int (a counter, e.g. ``num_batches_tracked``).
        """
        if isinstance(value, bool) or not isinstance(value, (np.ndarray, numbers.Integral)):
            raise TypeError(f"register_buffer: {name!r}: expected a numpy array or an int, "
                            f"got {type(value).__name__}")
        setattr(self, name, value)
        names = self.__dict__.setdefault("_buffer_names", [])
        if name not in names:
            names.append(name)

    def named_children(self):
        """``(name, module)`` for each sub-module held in an attribute (``"attr"``) or in a
        list or tuple attribute (``"attr.i"``)."""
        for attr, v in vars(self).items():
            if isinstance(v, Module):
                yield attr, v
            elif isinstance(v, (list, tuple)):
                for i, m in enumerate(v):
                    if isinstance(m, Module):
                        yield f"{attr}.{i}", m

    def children(self):
        """The sub-modules of :meth:`named_children`."""
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix: str = "", remove_duplicate: bool = True):
        """``(path, module)`` for this module (path ``prefix``) and all modules below it, depth first.

        A module reachable by several paths is listed once, unless ``remove_duplicate=False``.
        """
        yield from _walk(self, prefix, set() if remove_duplicate else None)

    def modules(self):
        """This module and every module below it, each once, depth first."""
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """``(path, Parameter)`` pairs, e.g. ``("0.weight", ...)``; a shared Parameter once."""
        yield from self._named_members(_own_parameters, prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> list[Parameter]:
        """The parameters of :meth:`named_parameters`, as a list (``torch`` returns an iterator)."""
        return [p for _, p in self.named_parameters(recurse=recurse)]

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        """``(path, buffer)`` pairs, e.g. ``("1.running_mean", array)``."""
        yield from self._named_members(_own_buffers, prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> list:
        """The buffers of :meth:`named_buffers`, as a list."""
        return [b for _, b in self.named_buffers(recurse=recurse)]

    def _named_members(self, own, prefix, recurse, remove_duplicate):
        seen = set()
        modules = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        for path, module in modules:
            for name, member in own(module):
                if remove_duplicate and isinstance(member, (Parameter, np.ndarray)):
                    if id(member) in seen:
                        continue
                    seen.add(id(member))
                yield _join(path, name), member

    # --- saving and loading ---------------------------------------------------------------

    def state_dict(self) -> dict:
        """Copies of what the module's behaviour depends on besides its code, by path.

        Parameter values and array buffers as arrays, integer buffers as 0-d int64
        arrays, and for every ``numpy.random.Generator`` attribute its
        ``bit_generator.state`` (so a ``Dropout`` draws the same masks after loading).
        Hyper-parameters and the training mode are not included (as in PyTorch).
        Every path is listed, including several paths to one shared object.
        """
        return {key: _copy_state(value) for key, (_, _, value) in _state_targets(self).items()}

    def load_state_dict(self, state_dict: Mapping, strict: bool = True) -> IncompatibleKeys:
        """Copy ``state_dict`` (from :meth:`state_dict`) into this module's storage.

        Values are copied into the existing arrays, so optimizers created before and
        the packing of ``Sequential`` stay valid. With ``strict=True`` the keys must
        match exactly; with ``strict=False`` missing and unexpected keys are skipped
        and returned. A shape mismatch is always an error. Nothing is changed unless
        the whole state fits.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: state_dict: expected a mapping from paths to values, "
                            f"got {type(state_dict).__name__}")
        targets = _state_targets(self)
        missing = [key for key in targets if key not in state_dict]
        unexpected = [key for key in state_dict if key not in targets]
        errors = []
        if strict and missing:
            errors.append(f"missing keys: {', '.join(missing)}")
        if strict and unexpected:
            errors.append(f"unexpected keys: {', '.join(map(str, unexpected))}")
        for key, (_, _, current) in targets.items():
            problem = _mismatch(key, current, state_dict[key]) if key in state_dict else None
            if problem:
                errors.append(problem)
        if errors:
            raise RuntimeError(f"load_state_dict: the state does not fit this {type(self).__name__}:\n  "
                               + "\n  ".join(errors))
        for key, (module, name, current) in targets.items():
            if key in state_dict:
                _load(module, name, current, state_dict[key])
        return IncompatibleKeys(missing, unexpected)

    # --- modes and gradients ---------------------------------------------------------------

    def zero_grad(self) -> None:
        params = self.parameters()
        pack = pack_of(params)
        if pack is not None:
            pack.zero_grad()
        else:
            for p in params:
                p.zero_grad()

    def train(self, mode: bool = True):
        """Set training mode (``mode=True``) or evaluation mode here and below; returns ``self``."""
        if not isinstance(mode, (bool, np.bool_)):
            raise ValueError(f"train: mode: expected True or False, got {mode!r}")
        mode = bool(mode)
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


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _walk(module, prefix, seen):
    """Depth-first ``(path, module)``; ``seen`` (a set of ids, or None) drops repeats."""
    if seen is not None:
        if id(module) in seen:
            return
        seen.add(id(module))
    yield prefix, module
    for name, child in module.named_children():
        yield from _walk(child, _join(prefix, name), seen)


def _own_parameters(module):
    return [(name, v) for name, v in vars(module).items() if isinstance(v, Parameter)]


def _own_buffers(module):
    return [(name, getattr(module, name)) for name in vars(module).get("_buffer_names", ())]


def _own_generators(module):
    return [(name, v) for name, v in vars(module).items() if isinstance(v, np.random.Generator)]


def _state_targets(module) -> dict:
    """path -> (owning module, attribute name, current value) for every entry of ``state_dict()``."""
    targets = {}
    for path, m in module.named_modules(remove_duplicate=False):
        for own in (_own_parameters, _own_buffers, _own_generators):
            for name, value in own(m):
                targets[_join(path, name)] = (m, name, value)
    return targets


def _copy_state(value):
    if isinstance(value, Parameter):
        return value.value.copy()
    if isinstance(value, np.random.Generator):
        return copy.deepcopy(value.bit_generator.state)
    if isinstance(value, np.ndarray):
        return value.copy()
    return np.array(value, dtype=np.int64)


def _mismatch(key, current, new) -> str | None:
    """Why ``new`` cannot be loaded where ``current`` is, or None."""
    if isinstance(current, np.random.Generator):
        kind = current.bit_generator.state["bit_generator"]
        if not (isinstance(new, Mapping) and new.get("bit_generator") == kind):
            got = new.get("bit_generator") if isinstance(new, Mapping) else type(new).__name__
            return f"{key}: expected the state of a {kind} generator, got {got}"
        return None
    if not isinstance(current, (Parameter, np.ndarray)):  # an integer buffer
        if np.ndim(new) != 0 or np.asarray(new).dtype.kind not in "iu":
            return f"{key}: expected an integer, got {new!r}"
        return None
    shape = np.shape(new)
    if shape != current.shape:
        return f"{key}: expected shape {current.shape}, got {shape}"
    new = np.asarray(new)
    if new.dtype.kind not in "fiu":
        return f"{key}: expected a numeric array, got dtype {new.dtype}"
    return None


def _load(module, name, current, new):
    if isinstance(current, Parameter):
        current.value = new  # copies into the existing (possibly packed) storage
    elif isinstance(current, np.random.Generator):
        current.bit_generator.state = copy.deepcopy(new)
    elif isinstance(current, np.ndarray):
        current[...] = new
    else:
        setattr(module, name, int(new))


class Sequential(Module):
    """Layers applied in order: ``y = layers[-1](...layers[0](x))``.

    The parameters of all layers are packed into one flat buffer (see
    :func:`gdcourse.nn.parameter.pack_parameters`) so optimizers update them in
    one operation. Layer ``i`` is the child named ``"i"`` (as in PyTorch), so
    its weight is ``"i.weight"`` in ``named_parameters()`` and ``state_dict()``.
    """

    def __init__(self, *layers: Module):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential: layer {i} is a {type(layer).__name__}, expected a Module")
        self.layers = list(layers)
        pack_parameters(self.parameters())

    def named_children(self):
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def forward(self, x):
        """The layers in order; ``x`` is checked once here (see :meth:`Module._check_data`)."""
        # Module._contain, written out: this is the hot path of every training step
        if _NESTING.inside:
            for layer in self.layers:
                x = layer.forward(x)
        else:
            self._check_data(x)
            _NESTING.inside = True
            try:
                for layer in self.layers:
                    x = layer.forward(x)
            finally:
                _NESTING.inside = False
        self._cache, self._y_shape = True, x.shape
        return x

    def backward(self, dy, input_grad: bool = True):
        """Backpropagate through the layers in reverse.

        ``input_grad=False`` skips dL/dx of the first layer (a full matrix product
        for ``Linear``), which training never needs.
        """
        self._saved(dy)
        for layer in reversed(self.layers[1:]):
            dy = layer.backward(dy)
        return self.layers[0].backward(dy, input_grad) if self.layers else dy

    def __call__(self, x):
        return self.forward(x)  # without Module.__call__'s *args, **kwargs: a model call per step

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)
