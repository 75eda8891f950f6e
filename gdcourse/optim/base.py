"""The optimizer contract (see :mod:`gdcourse.optim`) and the helpers every rule shares."""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod

import numpy as np

from gdcourse.nn.parameter import Parameter, pack_of
from gdcourse.validate import check_positive, check_unit_interval

__all__ = ["Optimizer"]


class Optimizer(ABC):
    """Base class: holds the parameters, the learning rate, the step count and the state.

    Attributes
    ----------
    params : list of Parameter
        In the order given.
    groups : list of (value, grad) array pairs
        What ``_update`` is applied to: one flat pair when ``params`` are exactly
        one packed buffer, else one pair per parameter.
    state : list of dict
        ``state[i]`` is the optimizer state (moment buffers) of ``groups[i]``.
    t : int
        Number of steps taken.
    """

    def __init__(self, params, lr):
        self.params = _check_params(params, type(self).__name__)
        self.lr = lr
        self.t = 0
        self._flat = pack_of(self.params)  # the flat buffers when params are exactly one pack
        if self._flat is not None:
            self.groups = [(self._flat.value, self._flat.grad)]
        else:
            self.groups = [(p.value, p.grad) for p in self.params]
        self.state = [{} for _ in self.groups]

    @property
    def lr(self) -> float:
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = check_positive(value, "lr", allow_zero=True)

    def zero_grad(self) -> None:
        """Start new gradients: every ``.grad`` is zero from now on.

        For a packed model the flat buffer is not even cleared: the next backward
        writes every gradient over the old values (see :mod:`gdcourse.nn.parameter`).
        As with PyTorch's ``zero_grad()``, an array taken from ``.grad`` before must
        not be used afterwards.
        """
        if self._flat is not None:
            self._flat.zero_grad(lazy=True)
        else:
            for p in self.params:
                p.zero_grad()

    def step(self) -> None:
        """Apply one update to every parameter from its current ``.grad``."""
        self._check_storage()
        self.t += 1
        for (value, grad), state in zip(self.groups, self.state, strict=True):
            self._update(value, grad, state)

    @abstractmethod
    def _update(self, w, g, state):
        """Apply the rule to ``w`` in place from gradient ``g`` (never written) and ``state``."""

    def _check_storage(self):
        """Raise if a parameter was moved to new storage (re-packed) since the groups were formed;
        else make sure the groups' gradient arrays hold every gradient."""
        if self._flat is not None:
            if not self._flat.dissolved:
                self._flat.settle()
                return
            moved = next(p for p in self.params if p.pack is not self._flat)
        else:
            moved = next((p for p, (value, _) in zip(self.params, self.groups, strict=True)
                          if p.value is not value), None)
            if moved is None:
                return
        raise RuntimeError(
            f"{type(self).__name__}.step: parameter {moved.name or moved!r} was re-packed into a new "
            "buffer (e.g. by building a Sequential around its layer) after this optimizer was "
            "created, so the optimizer no longer sees its storage; create the optimizer again "
            "after building the model"
        )

    def _with_weight_decay(self, w, g, state, weight_decay):
        """``g + λw`` in a reusable buffer (callers skip it when λ = 0); ``g`` is never written."""
        out = _buffer(state, "decayed_grad", w)
        np.multiply(w, weight_decay, out=out)
        out += g
        return out

    def __repr__(self):
        hyper = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({len(self.params)} parameters, {hyper})"

    def _hyper(self) -> dict:
        return {"lr": self.lr}



def _buffer(state, name, like, fill=0.0):
    """``state[name]``, created filled with ``fill`` (shaped like ``like``) on first use."""
    buf = state.get(name)
    if buf is None:
        buf = state[name] = np.full_like(like, fill)
    return buf


def _update_moments(d, w, state, beta1, beta2):
    """Adam's running moments ``m ← β₁m + (1−β₁)d`` and ``v ← β₂v + (1−β₂)d²``, in place."""
    m, v, s = _buffer(state, "exp_avg", w), _buffer(state, "exp_avg_sq", w), _buffer(state, "scratch", w)
    m *= beta1
    np.multiply(d, 1.0 - beta1, out=s)
    m += s
    v *= beta2
    np.multiply(d, d, out=s)
    s *= 1.0 - beta2
    v += s
    return m, v


def _check_params(params, owner):
    if isinstance(params, Parameter):
        raise TypeError(f"{owner}: params: expected an iterable of Parameter, got a single Parameter; "
                        "pass [param] or model.parameters()")
    if hasattr(params, "parameters") and callable(params.parameters):
        raise TypeError(f"{owner}: params: expected an iterable of Parameter, got a "
                        f"{type(params).__name__}; pass model.parameters()")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{owner}: params: expected an iterable of Parameter, got "
                        f"{type(params).__name__}") from None
    if not params:
        raise ValueError(f"{owner}: params: expected at least one Parameter, got an empty list")
    seen = {}
    for i, p in enumerate(params):
        if not isinstance(p, Parameter):
            raise TypeError(f"{owner}: params[{i}]: expected a gdcourse.nn.Parameter, got "
                            f"{type(p).__name__}")
        if id(p) in seen:
            raise ValueError(f"{owner}: params: expected each Parameter once, got {p!r} at positions "
                             f"{seen[id(p)]} and {i}")
        seen[id(p)] = i
    return params


def _check_betas(betas):
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas: expected a pair (beta1, beta2), got {betas!r}")
    return (check_unit_interval(betas[0], "betas[0]"), check_unit_interval(betas[1], "betas[1]"))


def _check_flag(value, name):
    """A switch is True or False: a string such as "no" would otherwise count as True."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def _check_closed_unit(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(f"{name}: expected a number in [0, 1], got {value!r}")
    return float(value)
