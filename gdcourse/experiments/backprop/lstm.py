"""An LSTM cell's gradient through time, measured on the whole cell (every path), against the forget-gate
product that the textbook "direct path" argument keeps.

The cell (Hochreiter and Schmidhuber, 1997; forget gate: Gers et al., 2000), row-vector convention, hidden
size ``H``::

    z_t = x_t W_x + h_{t-1} W_h + b           (N, 4H): input, forget, output gates and candidate
    i, f, o = σ(z_i), σ(z_f), σ(z_o);  g = tanh(z_g)
    c_t = f ⊙ c_{t-1} + i ⊙ g;  h_t = o ⊙ tanh(c_t)

``∂c_t/∂c_{t-1} = diag(f_t)`` holds only along the direct cell path; ``c_{t-1}`` also reaches ``c_t``
through ``h_{t-1}`` and the gates. :func:`lstm_cell_gradient` backpropagates through all of it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse.functional import sigmoid
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = ["LSTMParams", "lstm_params", "lstm_forward", "LSTMGradient", "lstm_cell_gradient"]


@dataclass(frozen=True)
class LSTMParams:
    """``W_x (D, 4H)``, ``W_h (H, 4H)``, ``b (4H,)``; gate blocks in the order input, forget, output, candidate."""

    W_x: np.ndarray
    W_h: np.ndarray
    b: np.ndarray

    @property
    def hidden(self) -> int:
        return self.W_h.shape[0]


def lstm_params(hidden=32, inputs=None, forget_bias=1.0, weight_scale=1.0, rng=0) -> LSTMParams:
    """Random LSTM weights: entries ``N(0, weight_scale² / fan_in)``, biases 0 except the forget gate's."""
    hidden = check_positive_int(hidden, "hidden")
    inputs = hidden if inputs is None else check_positive_int(inputs, "inputs")
    rng = as_rng(rng)
    scale = check_positive(weight_scale, "weight_scale")
    W_x = rng.standard_normal((inputs, 4 * hidden)) * scale / np.sqrt(inputs)
    W_h = rng.standard_normal((hidden, 4 * hidden)) * scale / np.sqrt(hidden)
    b = np.zeros(4 * hidden)
    b[hidden:2 * hidden] = float(forget_bias)
    return LSTMParams(W_x, W_h, b)


def lstm_forward(params, xs, h0, c0):
    """Run the cell over ``xs (T, N, D)`` from ``h0, c0 (N, H)``.

    Returns ``(hs, cs, gates)``: ``hs, cs (T + 1, N, H)`` with the initial states first, and per step the
    tuple ``(i, f, o, g)`` of ``(N, H)`` arrays.
    """
    H = params.hidden
    hs, cs, gates = [h0], [c0], []
    for x in xs:
        z = x @ params.W_x + hs[-1] @ params.W_h + params.b
        i, f, o = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H]), sigmoid(z[:, 2 * H:3 * H])
        g = np.tanh(z[:, 3 * H:])
        cs.append(f * cs[-1] + i * g)
        hs.append(o * np.tanh(cs[-1]))
        gates.append((i, f, o, g))
    return np.array(hs), np.array(cs), gates


@dataclass(frozen=True)
class LSTMGradient:
    """For ``k = 0 … steps − 1`` steps back from the end: ``full[k] = ‖∂L/∂c_{T−k}‖`` through every path of
    the cell, and ``direct[k] = ‖u ⊙ f_T ⊙ … ⊙ f_{T−k+1}‖``, the forget-gate product alone (``L = u · c_T``).
    Both are divided by ``‖u‖``. ``grads (steps, N, H)``: the full gradients themselves."""

    forget_bias: float
    full: np.ndarray
    direct: np.ndarray
    grads: np.ndarray


def lstm_cell_gradient(forget_bias=1.0, steps=50, hidden=32, batch=1, weight_scale=1.0, rng=0) -> LSTMGradient:
    """Backpropagate a random ``u`` on the last cell state of a random LSTM through ``steps`` steps.

    Inputs ``x_t ~ N(0, 1)``, zero initial state, weights from :func:`lstm_params`. The backward pass is
    the exact one of :func:`lstm_forward` (a finite-difference test checks it): at every step the gradient
    on ``c_{t-1}`` collects the direct term ``f_t ⊙ dc_t`` *and* the path through ``h_{t-1}``.
    """
    steps = check_positive_int(steps, "steps")
    batch = check_positive_int(batch, "batch")
    rng = as_rng(rng)
    params = lstm_params(hidden, forget_bias=forget_bias, weight_scale=weight_scale, rng=rng)
    xs = rng.standard_normal((steps, batch, params.hidden))
    zeros = np.zeros((batch, params.hidden))
    hs, cs, gates = lstm_forward(params, xs, zeros, zeros)
    u = rng.standard_normal((batch, params.hidden))
    dc, dh = u.copy(), np.zeros_like(u)
    full, grads = [], []
    for t in range(steps, 0, -1):                       # gradient on c_t, h_t -> on c_{t-1}, h_{t-1}
        i, f, o, g = gates[t - 1]
        tanh_c = np.tanh(cs[t])
        dc_total = dc + dh * o * (1.0 - tanh_c ** 2)    # c_t reaches L directly and through h_t
        grads.append(dc_total)
        full.append(np.linalg.norm(dc_total))
        dz = np.concatenate([dc_total * g * i * (1 - i), dc_total * cs[t - 1] * f * (1 - f),
                             dh * tanh_c * o * (1 - o), dc_total * i * (1 - g ** 2)], axis=1)
        dh = dz @ params.W_h.T
        dc = dc_total * f
    norm_u = np.linalg.norm(u)
    return LSTMGradient(float(forget_bias), np.array(full) / norm_u, _direct_path_norms(u, gates) / norm_u,
                        np.array(grads))


def _direct_path_norms(u, gates):
    """``‖u ⊙ f_T ⊙ … ⊙ f_{T−k+1}‖`` for ``k = 0 … T − 1``."""
    product, norms = u.copy(), []
    for _, f, _, _ in reversed(gates):
        norms.append(np.linalg.norm(product))
        product = product * f
    return np.array(norms)
