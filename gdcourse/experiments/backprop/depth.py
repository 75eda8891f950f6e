"""Gradient norms across depth (vanishing gradients) and exploding gradients in training.

Through ``L`` layers the gradient is multiplied by one Jacobian per layer, ``diag(f'(z_l)) W_lᵀ``:
with sigmoid (``f' ≤ 1/4``) the product shrinks exponentially with depth; with weights that are too
large it grows until the loss overflows.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse import init as initializers
from gdcourse import losses, nn, optim, train
from gdcourse.diagnostics import gradient_norms
from gdcourse.experiments import common
from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = ["ACTIVATIONS", "INITS", "deep_mlp", "GradientProfile", "depth_gradient_profile", "vanishing_depth",
           "DivergenceRun", "divergence_run", "divergence_seeds"]

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU,
               "elu": nn.ELU, "gelu": nn.GELU, "linear": nn.Identity}
"""Activation name → layer class, for :func:`deep_mlp` and the depth explorer."""

INITS = {"xavier": "xavier_normal", "he": "he_normal", "lecun": "lecun_normal",
         "small normal": functools.partial(initializers.normal, std=0.01),
         "unit normal": functools.partial(initializers.normal, std=1.0)}
"""Initialization name → initializer: Var(W) = 2/(n_in + n_out), 2/n_in, 1/n_in, 0.01², 1."""

_BLOCK_STARTS = (nn.Linear, nn.Residual)
"""The first layer of each hidden block of :func:`deep_mlp` (and the output layer)."""


def _choice(value, options, name):
    if value not in options:
        raise ValueError(f"{name}: expected one of {list(options)}, got {value!r}")
    return options[value]


def deep_mlp(activation, init, depth, width=64, rng=None, norm=None, residual=False):
    """``depth`` hidden blocks ``Linear(width, width) [→ norm] → activation``, then ``Linear(width, 1)``.

    Built by :func:`gdcourse.experiments.common.mlp`. With ``residual=True`` each block is wrapped in
    :class:`gdcourse.nn.Residual` (``x + block(x)``). ``norm`` is None, ``"batch"`` or ``"layer"``
    (the hidden ``Linear`` layers keep their bias either way). The output layer uses Xavier
    initialization and a generator of its own, so it is the same whatever the depth.
    Returns ``(model, activation layers (depth,))``.
    """
    kind = _choice(activation, ACTIVATIONS, "activation")
    weights = _choice(init, INITS, "init")
    if norm is not None:
        _choice(norm, common.NORMS, "norm")
    depth, width = check_positive_int(depth, "depth"), check_positive_int(width, "width")
    output_rng, rng = as_rng(rng).spawn(2)
    model = common.mlp((width,) * (depth + 1) + (1,), activation=kind, init=weights, out_init="xavier_normal",
                       bias=True, norm=norm, residual=residual, rng=rng, out_rng=output_rng)
    return model, _activation_layers(model, kind)


def _activation_layers(model, kind):
    found = []
    for layer in model:
        inner = layer.block.layers if isinstance(layer, nn.Residual) else [layer]
        found += [m for m in inner if isinstance(m, kind)]
    return found


@dataclass(frozen=True)
class GradientProfile:
    """Gradient norms of a deep MLP on one batch (layer 1 is the first, the output layer last).

    ``weight_norms (depth + 1,)``: ‖dL/dW‖ of each block's ``Linear`` (from
    :func:`gdcourse.diagnostics.gradient_norms`); ``signal_norms (depth + 1,)``:
    ‖dL/d(input of block l)‖, the gradient that reaches each block;
    ``mean_derivative (depth,)``: mean of f'(z) over each hidden layer's units and samples.
    """

    activation: str
    init: str
    depth: int
    weight_norms: np.ndarray
    signal_norms: np.ndarray
    mean_derivative: np.ndarray
    norm: str | None = None
    residual: bool = False

    @property
    def name(self) -> str:
        """``"sigmoid, xavier init"`` plus ``" + batch norm"`` / ``" + residual"`` when used."""
        extras = (f" + {self.norm} norm" if self.norm else "") + (" + residual" if self.residual else "")
        return f"{self.activation}, {self.init} init{extras}"

    @property
    def ratio(self) -> float:
        """First layer's weight-gradient norm over the last (output) layer's."""
        return float(self.weight_norms[0] / self.weight_norms[-1])


@stored
def depth_gradient_profile(activation="sigmoid", init="xavier", depth=10, width=64, rng=0, norm=None,
                           residual=False, batch=64) -> GradientProfile:
    """Per-block gradient norms of :func:`deep_mlp` on a random regression batch (MSE loss).

    The data ``X (batch, width)``, ``y (batch, 1)`` (standard normal) and the weights
    come from two independent streams spawned from ``rng``, so the same seed gives
    the same data at every depth and the same first layers.
    """
    data_rng, model_rng = as_rng(rng).spawn(2)
    X = data_rng.standard_normal((check_positive_int(batch, "batch"), width))
    y = data_rng.standard_normal((batch, 1))
    model, acts = deep_mlp(activation, init, depth, width, model_rng, norm, residual)
    loss = losses.MSELoss()
    with np.errstate(over="ignore", invalid="ignore"):
        weight_norms = np.array([n for _, name, n in gradient_norms(model, loss, X, y)
                                 if name in ("Linear", "Residual")])
        signal = _signal_norms(model, loss, X, y)
        derivative = np.array([a.backward(np.ones((batch, width))).mean() for a in acts])
    return GradientProfile(activation, str(init), depth, weight_norms, signal, derivative, norm,
                           bool(residual))


def _signal_norms(model, loss, X, y):
    """‖dL/d(input of each block)‖, by walking the backward pass by hand."""
    loss.forward(model.forward(X), y)
    dy, norms = loss.backward(), []
    for layer in reversed(list(model)):
        dy = layer.backward(dy)
        if isinstance(layer, _BLOCK_STARTS):
            norms.append(float(np.linalg.norm(dy)))
    model.zero_grad()
    return np.array(norms[::-1])


def vanishing_depth(activation="sigmoid", init="xavier", threshold=1e-6, width=64, rng=0, max_depth=50,
                    **options) -> int | None:
    """The smallest depth at which the first layer's gradient norm is below ``threshold`` times the last's.

    Each depth 1, 2, … builds a fresh :func:`deep_mlp` with the same ``rng`` (what
    the depth explorer shows); None if no depth up to ``max_depth`` gets there.
    """
    check_positive(threshold, "threshold")
    for depth in range(1, check_positive_int(max_depth, "max_depth") + 1):
        if depth_gradient_profile(activation, init, depth, width, rng, **options).ratio < threshold:
            return depth
    return None


# ---------------------------------------------------------------- exploding gradients in training

@dataclass(frozen=True)
class DivergenceRun:
    """A training run of :func:`divergence_run`: per-step losses and global gradient norms (before clipping).

    ``diverged_at`` is the step whose loss was NaN/inf (None if training finished)
    and ``message`` the :class:`gdcourse.train.TrainingDiverged` text.
    """

    losses: np.ndarray
    grad_norms: np.ndarray
    diverged_at: int | None
    message: str

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


def divergence_run(lr, clip_norm=None, init="he", depth=6, width=32, epochs=20, rng=0) -> DivergenceRun:
    """Train a deep ReLU MLP with SGD on a smooth regression task and record what happens.

    Data: ``y = sin(x₀) + x₁x₂/2`` for 256 standard-normal inputs of 8 features,
    mini-batches of 32. A learning rate that is too high makes the gradient norm grow
    step after step until the loss overflows and :func:`gdcourse.train.fit` raises
    ``TrainingDiverged``; ``clip_norm`` caps each step's global gradient norm.
    """
    rng = as_rng(rng)
    X = rng.standard_normal((256, 8))
    y = (np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2])[:, None]
    sizes = (8,) + (check_positive_int(width, "width"),) * check_positive_int(depth, "depth") + (1,)
    model = common.mlp(sizes, activation="relu", init=_choice(init, INITS, "init"), out_init="xavier_normal",
                       rng=rng)
    optimizer = optim.SGD(model.parameters(), lr=check_positive(lr, "lr"))
    with np.errstate(all="ignore"):
        try:
            history = train.fit(model, losses.MSELoss(), optimizer, (X, y), epochs=epochs, batch_size=32,
                                clip_norm=clip_norm, progress=False, rng=rng)
            step, message = None, ""
        except train.TrainingDiverged as err:
            history, step, message = err.history, len(err.history.step_loss), str(err)
    return DivergenceRun(np.array(history.step_loss), np.array(history.step_grad_norm), step, message)


@stored
def divergence_seeds(settings, seeds=20) -> dict:
    """:func:`divergence_run` for each ``name -> keyword arguments`` of ``settings``, from seeds ``0 … seeds − 1``.

    The seed sets the data, the weights and the batch order. Returns name -> ``(diverged (seeds,) bool,
    final losses (seeds,), NaN where the run diverged)``.
    """
    seeds = check_positive_int(seeds, "seeds")
    summary = {}
    for name, kwargs in settings.items():
        runs = [divergence_run(rng=s, **kwargs) for s in range(seeds)]
        summary[name] = (np.array([r.diverged for r in runs]),
                         np.array([np.nan if r.diverged else r.losses[-1] for r in runs]))
    return summary
