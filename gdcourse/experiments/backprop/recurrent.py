"""Recurrent networks: a tanh RNN multiplies the gradient by the same matrix at every time step; an
LSTM's cell path by its forget gates only; clipping caps the global gradient norm."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import nn
from gdcourse.experiments.initialization.schemes import orthogonal
from gdcourse.functional import sigmoid
from gdcourse.regularization import clip_grad_norm, global_grad_norm
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = ["RNNGradient", "rnn_gradient_vs_steps", "forget_gate_path", "clipping_effect"]


@dataclass(frozen=True)
class RNNGradient:
    """How far back the gradient of the last output reaches in a tanh RNN.

    ``norms[k]`` = ‖dL/dx_{T−k}‖ (over the batch), the gradient at the input ``k``
    steps before the last; ``bound[k] = scale^k · norms[0]``, the most it can be
    (every singular value of ``W_hh`` is ``scale`` and tanh' ≤ 1).
    """

    scale: float
    bptt_steps: int | None
    norms: np.ndarray
    bound: np.ndarray


def _rnn(scale, hidden, rng, bptt_steps=None):
    """An RNN with ``W_hh = scale · Q`` (``Q`` random orthogonal) and ``W_xh = I``."""
    rnn = nn.RNN(hidden, hidden, bptt_steps=bptt_steps, rng=rng)
    rnn.W_hh.value = scale * orthogonal((hidden, hidden), rng=rng)
    rnn.W_xh.value = np.eye(hidden)
    return rnn


def rnn_gradient_vs_steps(scale=1.0, steps=50, hidden=32, rng=0, bptt_steps=None, input_scale=0.1,
                          batch=16) -> RNNGradient:
    """Backpropagate a random gradient of the last hidden state of an :class:`gdcourse.nn.RNN`.

    ``W_hh = scale · Q`` with ``Q`` a random orthogonal matrix, so every singular
    value (and the spectral radius) of ``W_hh`` is exactly ``scale``; ``W_xh = I``,
    so the gradient at input ``x_s`` is the gradient at pre-activation ``s``.
    Inputs are ``input_scale ·`` standard normal. ``bptt_steps=k`` truncates
    backpropagation through time to ``k`` steps.
    """
    scale = check_positive(scale, "scale")
    steps, hidden = check_positive_int(steps, "steps"), check_positive_int(hidden, "hidden")
    rng = as_rng(rng)
    rnn = _rnn(scale, hidden, rng, bptt_steps)
    x = check_positive(input_scale, "input_scale") * rng.standard_normal((batch, steps, hidden))
    h = rnn(x)
    dh = np.zeros_like(h)
    dh[:, -1] = rng.standard_normal((batch, hidden))
    dx = rnn.backward(dh)
    norms = np.linalg.norm(dx, axis=(0, 2))[::-1].copy()
    return RNNGradient(scale, bptt_steps, norms, norms[0] * scale ** np.arange(steps))


def forget_gate_path(forget_bias, steps=50, hidden=32, rng=0, noise=1.0) -> np.ndarray:
    """Gain of an LSTM's cell-state path over ``k`` steps: mean over units of ``Π_{t} f_t``.

    Along ``c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t`` the direct derivative is ``diag(f_t)``,
    so ``k`` steps multiply the gradient by the product of the forget gates, with no
    weight matrix and no tanh'. Here ``f_t = σ(forget_bias + noise · ε)``, ε standard
    normal per unit and step. Returns shape ``(steps + 1,)``, starting at 1.
    """
    rng = as_rng(rng)
    gates = sigmoid(forget_bias + noise * rng.standard_normal((check_positive_int(steps, "steps"),
                                                               check_positive_int(hidden, "hidden"))))
    return np.concatenate([[1.0], np.cumprod(gates, axis=0).mean(axis=1)])


def clipping_effect(scale, max_norm=1.0, steps=50, hidden=32, rng=0) -> tuple[float, float, float, float]:
    """Clip the parameter gradient of :func:`rnn_gradient_vs_steps`' RNN by global norm.

    Returns ``(norm before, norm after, ‖dL/dx_1‖ before, ‖dL/dx_1‖ after)``: the
    global parameter-gradient norm, and the gradient at the first input (the oldest
    step) scaled by the same factor clipping applied. Clipping multiplies every
    gradient by ``min(1, max_norm/‖g‖)``, so neither can grow.
    """
    rng = as_rng(rng)
    rnn = _rnn(check_positive(scale, "scale"), hidden, rng)
    h = rnn(0.1 * rng.standard_normal((16, check_positive_int(steps, "steps"), hidden)))
    dh = np.zeros_like(h)
    dh[:, -1] = rng.standard_normal((16, hidden))
    oldest = float(np.linalg.norm(rnn.backward(dh)[:, 0]))
    before = clip_grad_norm(rnn.parameters(), max_norm)
    after = global_grad_norm(rnn.parameters())
    return before, after, oldest, oldest * after / before
