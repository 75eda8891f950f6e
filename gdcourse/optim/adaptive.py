"""Per-coordinate adaptive rules: Adagrad, Adadelta, RMSprop, Adam, AdamW, NAdam."""

from __future__ import annotations

import math

import numpy as np

from gdcourse.optim.base import Optimizer, _buffer, _check_betas, _check_flag, _update_moments
from gdcourse.validate import check_positive, check_unit_interval

__all__ = ["Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "NAdam"]


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
