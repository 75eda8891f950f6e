"""Depth (INIT-04): one forward and backward pass at initialization through a deep network, layer by layer,
and the init explorer's data."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse import losses, nn
from gdcourse.experiments.common import cached, one_blas_thread, read_only
from gdcourse.experiments.initialization.networks import deep_mlp, is_activation, saturated_fraction
from gdcourse.experiments.initialization.schemes import EXPLORER_SCHEMES, _check_scheme, weight_variance
from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_positive_int

__all__ = ["DepthProfile", "depth_profile", "default_hist_layers", "flat_gain", "ScaleSweep", "sigmoid_scale_sweep",
           "EXPLORER_WIDTH", "EXPLORER_BATCH", "EXPLORER_SEED", "explore_init"]


@dataclass(frozen=True)
class DepthProfile:
    """What one forward and backward pass at initialization shows, layer by layer (layer l = 1 … depth).

    ``stds``, ``second_moments``, ``saturated`` (share of saturated outputs for
    tanh/sigmoid, 0 otherwise): of each activation layer's output ``h_l``, shape
    ``(depth,)``. ``backward_stds (depth,)``: std of ``∂L/∂h_l``. ``grad_norms
    (depth + 1,)``: Frobenius norm of every ``Linear`` weight gradient, input to
    output (the last one is the head), as :func:`gdcourse.diagnostics.gradient_norms`
    reports them. ``loss``: the initial cross-entropy on random labels (``ln C`` is
    healthy). Histograms for ``hist_layers``: ``act_counts (k, bins)`` of ``h_l`` and
    ``grad_counts (k, bins)`` of ``∂L/∂h_l`` as fractions of entries, on the shared
    bin edges ``act_edges`` / ``grad_edges``.
    """

    scheme: str
    activation: str
    gain: float
    depth: int
    width: int
    stds: np.ndarray
    second_moments: np.ndarray
    saturated: np.ndarray
    backward_stds: np.ndarray
    grad_norms: np.ndarray
    loss: float
    hist_layers: tuple
    act_counts: np.ndarray
    act_edges: np.ndarray
    grad_counts: np.ndarray
    grad_edges: np.ndarray

    @property
    def layers(self) -> np.ndarray:
        """Layer numbers ``1 … depth``."""
        return np.arange(1, self.depth + 1)

    @property
    def moment_ratios(self) -> np.ndarray:
        """``E[h_l²] / E[h_{l−1}²]`` for l = 2 … depth: the per-layer factor of the second moment."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.second_moments[1:] / self.second_moments[:-1]


def default_hist_layers(depth) -> tuple:
    """About four layers spread over the depth: 1, ⅓, ⅔ and the last (without repeats)."""
    depth = check_positive_int(depth, "depth")
    return tuple(sorted({1, max(1, round(depth / 3)), max(1, round(2 * depth / 3)), depth}))


def _scaled_std(a):
    """``np.std`` that survives entries beyond 1e154 (whose squares would overflow)."""
    top = float(np.max(np.abs(a)))
    return 0.0 if top == 0 else top * float(np.std(a / top))


def _scaled_norm(a):
    top = float(np.max(np.abs(a)))
    return 0.0 if top == 0 else top * float(np.linalg.norm(a / top))


def _histograms(arrays, edges):
    counts = np.array([np.histogram(np.clip(a, edges[0], edges[-1]), bins=edges)[0] for a in arrays], dtype=float)
    return counts / np.array([a.size for a in arrays], dtype=float)[:, None]


def _activation_edges(activation, arrays, bins):
    if activation == "tanh":
        return np.linspace(-1.0, 1.0, bins + 1)
    if activation == "sigmoid":
        return np.linspace(0.0, 1.0, bins + 1)
    reach = max(float(np.percentile(np.abs(a), 99.5)) for a in arrays) or 1.0
    return np.linspace(0.0 if activation == "relu" else -reach, reach, bins + 1)


def _gradient_edges(arrays, bins):
    reach = max(float(np.percentile(np.abs(a), 99.5)) for a in arrays) or 1.0
    return np.linspace(-reach, reach, bins + 1)


def _forward_backward(model, X, y):
    """Activation outputs, ``∂L/∂h`` per activation layer, weight-gradient norms and the loss."""
    outputs, h = [], X
    for layer in model:
        h = layer.forward(h)
        if is_activation(layer):
            outputs.append(h)
    if not np.all(np.isfinite(h)):
        raise ValueError("the forward pass overflowed (the activations left the float64 range): "
                         "lower the gain or the depth")
    loss = losses.CrossEntropyLoss()
    value = loss.forward(h, y)
    model.zero_grad()
    dy, signals = loss.backward(), []
    for layer in reversed(model.layers):
        if is_activation(layer):
            signals.append(dy)
        dy = layer.backward(dy, input_grad=layer is not model[0])
    norms = [_scaled_norm(layer.weight.grad) for layer in model if isinstance(layer, nn.Linear)]
    return outputs, signals[::-1], np.array(norms), value


@cached(maxsize=64)
def depth_profile(scheme, activation, depth=30, width=256, gain=1.0, batch=128, num_classes=10, hist_layers=None,
                  bins=41, rng=0) -> DepthProfile:
    """One forward and backward pass at initialization through :func:`deep_mlp` with a softmax head.

    Inputs ``X ~ N(0, 1)`` of shape ``(batch, width)`` and random labels, drawn from
    ``rng`` before the weights. The same ``rng`` with another ``gain`` gives the same
    network rescaled (see :func:`initializer`). With an int ``rng`` the profile is cached
    (read-only): the notebook's figures and its explorer share them.
    """
    _check_scheme(scheme)
    depth, width, batch = (check_positive_int(v, name) for v, name in
                           ((depth, "depth"), (width, "width"), (batch, "batch")))
    bins, num_classes = check_positive_int(bins, "bins"), check_positive_int(num_classes, "num_classes")
    hist_layers = default_hist_layers(depth) if hist_layers is None else tuple(hist_layers)
    if not hist_layers or any(not 1 <= int(layer) <= depth for layer in hist_layers):
        raise ValueError(f"hist_layers: expected layer numbers in 1..{depth}, got {hist_layers!r}")
    rng = as_rng(rng)
    X = rng.standard_normal((batch, width))
    y = rng.integers(0, num_classes, batch)
    model = deep_mlp(depth, width, activation, scheme, gain, num_classes=num_classes, rng=rng)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        outputs, signals, norms, value = _forward_backward(model, X, y)
        stds = np.array([_scaled_std(h) for h in outputs])
        moments = np.array([float(np.mean(h * h)) for h in outputs])
        picked_h = [outputs[layer - 1] for layer in hist_layers]
        picked_g = [signals[layer - 1] for layer in hist_layers]
        act_edges = _activation_edges(activation, picked_h, bins)
        grad_edges = _gradient_edges(picked_g, bins)
        saturated = np.array([saturated_fraction(h, activation) if activation in ("tanh", "sigmoid") else 0.0
                              for h in outputs])
        return DepthProfile(
            scheme, activation, float(gain), depth, width, stds, moments, saturated,
            np.array([_scaled_std(g) for g in signals]), norms, value, tuple(int(v) for v in hist_layers),
            _histograms(picked_h, act_edges), act_edges, _histograms(picked_g, grad_edges), grad_edges,
        )


@dataclass(frozen=True)
class ScaleSweep:
    """Deep sigmoid networks at several weight scales, over seeds (INIT-03).

    ``gains (G,)`` multiply Xavier's weights (variance ``gain²/n`` for square layers);
    ``grad_ratio (G, S)``: ‖∂L/∂W₁‖ / ‖∂L/∂W_depth‖ (1 = the gradient reaches layer 1 intact);
    ``saturated (G, S)``: share of sigmoid outputs within 0.005 of 0 or 1, over all layers.
    """

    gains: np.ndarray
    seeds: tuple
    grad_ratio: np.ndarray
    saturated: np.ndarray


def sigmoid_scale_sweep(gains=(1.0, 4.0, 8.0, 11.0, 14.0), seeds=tuple(range(20)), depth=30, width=256) -> ScaleSweep:
    """:func:`depth_profile` of a sigmoid network for each gain and seed: no scale keeps the units unsaturated
    *and* the gradient intact. Cached per arguments."""
    return _sigmoid_scale_sweep(tuple(float(g) for g in gains), tuple(int(s) for s in seeds),
                                check_positive_int(depth, "depth"), check_positive_int(width, "width"))


@functools.lru_cache(maxsize=2)
@stored
@one_blas_thread
def _sigmoid_scale_sweep(gains, seeds, depth, width, batch=16):
    ratio = np.empty((len(gains), len(seeds)))
    saturated = np.empty_like(ratio)
    model = deep_mlp(depth, width, "sigmoid", "xavier", 1.0, num_classes=10, rng=0)
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    for j, seed in enumerate(seeds):
        rng = as_rng(seed)
        X, y = rng.standard_normal((batch, width)), rng.integers(0, 10, batch)
        # Fresh Xavier draws for this seed, written into one network (building one per seed costs more
        # than the passes); a gain then rescales the same draws, the head's too.
        base = [rng.normal(0.0, np.sqrt(weight_variance("xavier", *layer.weight.shape)), layer.weight.shape)
                for layer in linears]
        for i, gain in enumerate(gains):
            for layer, w in zip(linears, base, strict=True):
                layer.weight.value = gain * w
            with np.errstate(over="ignore", under="ignore"):
                outputs, _, norms, _ = _forward_backward(model, X, y)
            ratio[i, j] = norms[0] / norms[-2]
            saturated[i, j] = np.mean([saturated_fraction(h, "sigmoid") for h in outputs])
    return read_only(ScaleSweep(np.array(gains), seeds, ratio, saturated))


def flat_gain(activation="relu", scheme="xavier", depth=30, **profile_kwargs) -> float:
    """The gain that makes the last layer's activation std equal the first's, for ReLU or linear layers.

    ReLU (and the identity) is positively homogeneous, ``relu(g z) = g relu(z)`` for
    ``g > 0``, so multiplying every weight by ``g`` multiplies layer l by ``g^l``; the
    answer is exactly ``(std_1 / std_depth)^(1/(depth − 1))`` at gain 1 for the
    :func:`depth_profile` of the same arguments. For ReLU with Xavier weights of
    square layers theory says ``√2`` (that is He's initialization).
    """
    if activation not in ("relu", "linear"):
        raise ValueError(f"activation: the gain is exact only for positively homogeneous activations "
                         f"('relu', 'linear'), got {activation!r}")
    depth = check_positive_int(depth, "depth")
    if depth < 2:
        raise ValueError(f"depth: expected at least 2 layers to compare the first and the last, got {depth}")
    stds = depth_profile(scheme, activation, depth, gain=1.0, **profile_kwargs).stds
    return float((stds[0] / stds[-1]) ** (1.0 / (depth - 1)))


# ---------------------------------------------------------------- the explorer

EXPLORER_WIDTH = 256
EXPLORER_BATCH = 128
EXPLORER_SEED = 0


def explore_init(scheme="xavier", activation="tanh", depth=30, gain=1.0) -> DepthProfile:
    """The init explorer's data: :func:`depth_profile` at width 256, batch 128, seed 0."""
    _check_scheme(scheme, EXPLORER_SCHEMES)
    return depth_profile(scheme, activation, depth, EXPLORER_WIDTH, gain, batch=EXPLORER_BATCH, rng=EXPLORER_SEED)
