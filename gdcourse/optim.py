"""Optimizers: first-order update rules, and Newton's method for small problems.

The contract every rule follows (stated once, as in CS231n's ``optim.py``)
--------------------------------------------------------------------------
``opt = Rule(params, lr=..., **hyper)`` then, once per mini-batch::

    opt.zero_grad()          # clear every Parameter.grad
    ...backward...           # the model adds dL/dθ into Parameter.grad
    opt.step()               # t += 1, then θ is updated in place from its grad

* ``params`` is an iterable of ``gdcourse.nn.Parameter`` (``model.parameters()``).
* ``opt.lr`` is the learning rate γ; assign to it between steps to schedule it.
* ``opt.t`` counts the steps taken; the rules below number steps from t = 1.
* Each rule is one method ``_update(w, g, state)`` that changes the array ``w``
  in place from the gradient ``g`` (never written) and its own ``state`` dict
  (moment buffers, zeros until the first step). ``_update`` follows the rule's
  docstring formula line by line, in plain NumPy; a running average
  ``v ← ρ v + (1 − ρ) g²`` is written ``v *= rho; v += (1 - rho) * g**2`` so
  that the buffer keeps its storage (as in ``torch.optim``). Only ``Adam`` (and
  ``AdamW``) computes through scratch buffers instead, because there it pays
  (see the comment in ``Adam._update``).
* Update rules, argument names and defaults follow the pseudo-code of PyTorch's
  ``torch.optim`` documentation, so what is learned here transfers. In
  particular ``weight_decay`` λ is an L2 term added to the gradient,
  ``g ← g + λθ``, in every rule except ``AdamW``, which decays θ directly.

Why groups: ``Sequential`` packs all its parameters into one flat buffer (see
:mod:`gdcourse.nn.parameter`). When the optimizer is given exactly
those parameters it updates the flat buffer with one vectorized operation per
formula line instead of one per parameter array; the update of a small MLP is
dominated by that per-operation overhead. Otherwise each parameter is a group of
its own. The result is the same either way: every rule is elementwise.
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod

import numpy as np

from gdcourse.nn.parameter import Parameter, pack_of
from gdcourse.validate import check_positive, check_unit_interval

__all__ = [
    "Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "NAdam", "Newton", "OPTIMIZERS",
]


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


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum or Nesterov momentum.

    With momentum μ, dampening τ, weight decay λ (PyTorch's form)::

        g ← g + λθ
        b ← g                      at the first step
        b ← μ b + (1 − τ) g        afterwards
        g ← g + μ b  (Nesterov)    or   g ← b
        θ ← θ − γ g

    This is the velocity form of Polyak (1964) and, for Nesterov, of Sutskever
    et al. (2013) with the learning rate taken out of the buffer; it is the same
    method as ``v ← μv − γg; θ ← θ + v`` when γ is constant.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr)
        self.momentum = check_unit_interval(momentum, "momentum")
        self.dampening = _check_closed_unit(dampening, "dampening")
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.nesterov = _check_flag(nesterov, "nesterov")
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                "nesterov=True: expected momentum > 0 and dampening == 0, "
                f"got momentum={self.momentum}, dampening={self.dampening}"
            )

    def _update(self, w, g, state):
        if self.weight_decay:
            g = g + self.weight_decay * w
        if self.momentum:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = g.copy()
            else:
                b *= self.momentum  # b ← μ b + (1 − τ) g, in place
                b += (1 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        w -= self.lr * g

    def _hyper(self):
        return {"lr": self.lr, "momentum": self.momentum, "dampening": self.dampening,
                "weight_decay": self.weight_decay, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011): per-coordinate steps shrink with the sum of squared gradients.

    With lr decay η, weight decay λ, initial accumulator value s₀::

        γ̃ ← γ / (1 + (t − 1) η)
        g ← g + λθ
        s ← s + g²                 (s starts at s₀)
        θ ← θ − γ̃ g / (√s + ε)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 eps=1e-10):
        super().__init__(params, lr)
        self.lr_decay = check_positive(lr_decay, "lr_decay", allow_zero=True)
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.initial_accumulator_value = check_positive(
            initial_accumulator_value, "initial_accumulator_value", allow_zero=True)
        self.eps = check_positive(eps, "eps")

    def _update(self, w, g, state):
        lr = self.lr / (1 + (self.t - 1) * self.lr_decay)
        if self.weight_decay:
            g = g + self.weight_decay * w
        s = _buffer(state, "sum", w, fill=self.initial_accumulator_value)
        s += g**2
        w -= lr * g / (np.sqrt(s) + self.eps)

    def _hyper(self):
        return {"lr": self.lr, "lr_decay": self.lr_decay, "weight_decay": self.weight_decay,
                "initial_accumulator_value": self.initial_accumulator_value, "eps": self.eps}


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012): steps scaled by RMS(past steps) / RMS(gradients).

    With decay ρ and weight decay λ::

        g  ← g + λθ
        v  ← ρ v + (1 − ρ) g²
        Δx ← √(u + ε) / √(v + ε) · g
        u  ← ρ u + (1 − ρ) Δx²
        θ  ← θ − γ Δx
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        super().__init__(params, lr)
        self.rho = check_unit_interval(rho, "rho")
        self.eps = check_positive(eps, "eps")
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)

    def _update(self, w, g, state):
        rho, eps = self.rho, self.eps
        if self.weight_decay:
            g = g + self.weight_decay * w
        v, u = _buffer(state, "square_avg", w), _buffer(state, "acc_delta", w)
        v *= rho
        v += (1 - rho) * g**2
        delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u *= rho
        u += (1 - rho) * delta**2
        w -= self.lr * delta

    def _hyper(self):
        return {"lr": self.lr, "rho": self.rho, "eps": self.eps, "weight_decay": self.weight_decay}


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012 lecture 6e; centered form: Graves, 2013).

    With smoothing α, momentum μ, weight decay λ::

        g ← g + λθ
        v ← α v + (1 − α) g²
        ṽ ← v
        centered:  ḡ ← α ḡ + (1 − α) g;   ṽ ← ṽ − ḡ²
        μ > 0:     b ← μ b + g / (√ṽ + ε);   θ ← θ − γ b
        else:      θ ← θ − γ g / (√ṽ + ε)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(params, lr)
        self.alpha = check_unit_interval(alpha, "alpha")
        self.eps = check_positive(eps, "eps")
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.momentum = check_unit_interval(momentum, "momentum")
        self.centered = _check_flag(centered, "centered")

    def _update(self, w, g, state):
        alpha = self.alpha
        if self.weight_decay:
            g = g + self.weight_decay * w
        v = _buffer(state, "square_avg", w)
        v *= alpha
        v += (1 - alpha) * g**2
        v_tilde = v
        if self.centered:
            g_avg = _buffer(state, "grad_avg", w)
            g_avg *= alpha
            g_avg += (1 - alpha) * g
            v_tilde = v - g_avg**2
        if self.momentum:
            b = _buffer(state, "momentum_buffer", w)
            b *= self.momentum
            b += g / (np.sqrt(v_tilde) + self.eps)
            w -= self.lr * b
        else:
            w -= self.lr * g / (np.sqrt(v_tilde) + self.eps)

    def _hyper(self):
        return {"lr": self.lr, "alpha": self.alpha, "eps": self.eps, "weight_decay": self.weight_decay,
                "momentum": self.momentum, "centered": self.centered}


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), optionally AMSGrad (Reddi, Kale & Kumar, 2018).

    With betas (β₁, β₂) and L2 weight decay λ (coupled: it goes through the
    adaptive scaling, unlike ``AdamW``)::

        g  ← g + λθ
        m  ← β₁ m + (1 − β₁) g
        v  ← β₂ v + (1 − β₂) g²
        m̂ ← m / (1 − β₁ᵗ)
        amsgrad:  v_max ← max(v_max, v);  v̂ ← v_max / (1 − β₂ᵗ)
        else:     v̂ ← v / (1 − β₂ᵗ)
        θ  ← θ − γ m̂ / (√v̂ + ε)
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(params, lr)
        self.betas = _check_betas(betas)
        self.eps = check_positive(eps, "eps")
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.amsgrad = _check_flag(amsgrad, "amsgrad")

    def _update(self, w, g, state):
        # Scratch buffers instead of the formula line by line, because Adam is what most training
        # runs use: on the 269,322 parameters of the benchmark's large MLP the formula's temporary
        # arrays take 1.7 ms per step against 0.34 ms (``gdcourse bench --optimizers``, "Adam" vs
        # "Adam, as the formula"; bench/README.md, "Update rules").
        beta1, beta2 = self.betas
        if self._decoupled:
            d = g
            if self.weight_decay:
                w *= 1.0 - self.lr * self.weight_decay
        else:
            d = self._with_weight_decay(w, g, state, self.weight_decay) if self.weight_decay else g
        m, v = _update_moments(d, w, state, beta1, beta2)
        if self.amsgrad:
            v_max = _buffer(state, "max_exp_avg_sq", w)
            v = np.maximum(v_max, v, out=v_max)
        s = _buffer(state, "scratch", w)
        np.sqrt(v, out=s)
        s *= 1.0 / math.sqrt(1.0 - beta2**self.t)  # √v̂ = √v / √(1 − β₂ᵗ)
        s += self.eps
        np.divide(m, s, out=s)
        s *= self.lr / (1.0 - beta1**self.t)
        w -= s

    def _hyper(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    The decay shrinks θ directly instead of entering the gradient, so it is not
    divided by √v̂ (with Adam's L2 term, weights with large gradients are barely
    regularized)::

        θ ← θ − γλθ
        then Adam's update with λ = 0 (and AMSGrad if asked)
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


class NAdam(Optimizer):
    """NAdam: Adam with Nesterov momentum (Dozat, 2016), with the momentum schedule μₜ.

    With betas (β₁, β₂), momentum decay ψ and L2 weight decay λ::

        g  ← g + λθ
        μₜ ← β₁ (1 − ½ · 0.96^(t ψ));   μₜ₊₁ ← β₁ (1 − ½ · 0.96^((t+1) ψ))
        m  ← β₁ m + (1 − β₁) g
        v  ← β₂ v + (1 − β₂) g²
        m̂ ← μₜ₊₁ m / (1 − ∏ᵢ₌₁ᵗ⁺¹ μᵢ) + (1 − μₜ) g / (1 − ∏ᵢ₌₁ᵗ μᵢ)
        v̂ ← v / (1 − β₂ᵗ)
        θ  ← θ − γ m̂ / (√v̂ + ε)
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3):
        super().__init__(params, lr)
        self.betas = _check_betas(betas)
        self.eps = check_positive(eps, "eps")
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.momentum_decay = check_positive(momentum_decay, "momentum_decay", allow_zero=True)

    def _update(self, w, g, state):
        beta1, beta2 = self.betas
        t, psi = self.t, self.momentum_decay
        if self.weight_decay:
            g = g + self.weight_decay * w
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
        mu_product = state["mu_product"] = state.get("mu_product", 1.0) * mu  # ∏ᵢ₌₁ᵗ μᵢ
        m, v = _buffer(state, "exp_avg", w), _buffer(state, "exp_avg_sq", w)
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g**2
        m_hat = mu_next * m / (1 - mu_product * mu_next) + (1 - mu) * g / (1 - mu_product)
        v_hat = v / (1 - beta2**t)
        w -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

    def _hyper(self):
        return {"lr": self.lr, "betas": self.betas, "eps": self.eps, "weight_decay": self.weight_decay,
                "momentum_decay": self.momentum_decay}


class Newton(Optimizer):
    """Newton's method: a step to the minimum of the local quadratic model.

    ``hessian()`` (called with no arguments) returns the (P, P) Hessian of the
    loss at the current parameters, P the total number of parameter entries in
    the order of ``params`` (each flattened in C order). With damping δ
    (Levenberg, 1944), the step solves::

        (H + δ I) d = g
        θ ← θ − γ d

    On a quadratic ½ θᵀAθ − bᵀθ with γ = 1 and δ = 0 it lands on the minimum in
    one step. It costs O(P³) per step: for landscapes and small convex problems.
    """

    def __init__(self, params, hessian, lr=1.0, damping=0.0):
        super().__init__(params, lr)
        if not callable(hessian):
            raise TypeError(
                f"hessian: expected a callable returning the (P, P) Hessian, got {type(hessian).__name__}"
            )
        self.hessian = hessian
        self.damping = check_positive(damping, "damping", allow_zero=True)
        self.num_entries = sum(p.size for p in self.params)

    def step(self) -> None:
        """Solve for the Newton direction over all P entries at once, then update each group."""
        self._check_storage()
        self.t += 1
        g = np.concatenate([grad.ravel() for _, grad in self.groups])
        direction = self._solve(self._damped_hessian(), g)
        start = 0
        for value, _ in self.groups:
            stop = start + value.size
            value -= self.lr * direction[start:stop].reshape(value.shape)
            start = stop

    def _update(self, w, g, state):
        """Unused: the Newton direction couples every entry, so :meth:`step` solves for all of them at once."""
        raise TypeError("Newton updates all parameters together in step(); it has no per-group rule")

    def _damped_hessian(self):
        P = self.num_entries
        H = np.array(self.hessian(), dtype=np.float64)
        if H.shape != (P, P):
            raise ValueError(
                f"hessian(): expected a ({P}, {P}) array for {P} parameter entries, got shape {H.shape}"
            )
        if not np.isfinite(H).all():
            raise ValueError("hessian(): expected finite values, got NaN or inf")
        H[np.diag_indices(P)] += self.damping
        return H

    def _solve(self, H, g):
        try:
            return np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError(
                f"Newton.step: the Hessian plus damping={self.damping} is singular, so the Newton step "
                "is undefined; pass damping > 0 (e.g. damping=1e-3) to make H + damping*I invertible"
            ) from None

    def _hyper(self):
        return {"lr": self.lr, "damping": self.damping}


OPTIMIZERS = {
    "sgd": SGD, "adagrad": Adagrad, "adadelta": Adadelta, "rmsprop": RMSprop,
    "adam": Adam, "adamw": AdamW, "nadam": NAdam, "newton": Newton,
}


# ---------------------------------------------------------------- helpers


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
