"""Checks of notebook 08 (initialization).

``xavier_normal`` / ``he_normal``: the learner's ``f(shape, rng)`` drawing a weight
of shape ``(n_in, n_out)``; the empirical standard deviation of a large sample
must match the formula, and the usual slips (fan-out instead of fan-in, the
variance used as the standard deviation, LeCun instead of Glorot, a uniform
distribution, ignoring ``rng``) get their own hint. ``activation_stds``: the
learner's ``activation_stds(model, X)``. ``flat_relu_gain``: the gain found with
the explorer. Each compares with :mod:`gdcourse.experiments.initialization`.
"""

from __future__ import annotations

import math

import numpy as np

from gdcourse.check.core import Mismatch, answer, call, exercise, expect, is_number, same_array, show
from gdcourse.experiments import initialization as E

__all__ = ["xavier_normal", "he_normal", "activation_stds", "flat_relu_gain"]

STD_TOLERANCE = 0.03
"""Relative tolerance on the empirical std; a sample of 25,000+ weights estimates it to about 0.5 %."""

_SHAPES = ((400, 100), (64, 400), (300, 300))


# ---------------------------------------------------------------- xavier_normal, he_normal

def _weights(fn, shape, rng, describe):
    got = call(fn, shape, rng, describe=describe)
    if got is None:
        raise Mismatch(f"on {describe} your function returned None: did you forget to return the weights?")
    try:
        W = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise Mismatch(f"on {describe} you returned {type(got).__name__}, not an array of weights") from None
    if W.shape == shape[::-1] and shape[0] != shape[1]:
        raise Mismatch(f"on {describe} your weights have shape {W.shape}, the transpose of {shape}: our layers "
                       "compute y = x @ W, so W has shape (n_in, n_out). Return an array of exactly `shape`.")
    expect(W.shape == shape, f"on {describe} your weights have shape {W.shape}, expected {shape}")
    expect(np.all(np.isfinite(W)), f"on {describe} some of your weights are NaN or infinite")
    return W


def _reproducible(fn, shape, describe):
    first = np.asarray(call(fn, shape, np.random.default_rng(7), describe=describe), dtype=float)
    second = np.asarray(call(fn, shape, np.random.default_rng(7), describe=describe), dtype=float)
    expect(np.array_equal(first, second),
           f"on {describe} two calls with the same seeded rng gave different weights: draw them from the "
           "rng you are given (rng.normal(0.0, std, size=shape)), not from np.random.randn or another "
           "generator, so that the same seed gives the same network.")


def _check_distribution(W, want_std, variants, describe):
    n = W.size
    mean, std = float(W.mean()), float(W.std())
    if std == 0:
        raise Mismatch(f"on {describe} all your weights are equal ({mean:g}): they must be random, or every "
                       "unit of the layer stays identical (INIT-01).")
    expect(abs(mean) < 5 * std / math.sqrt(n) + 0.05 * std,          # ~5 standard errors, plus a margin
           f"on {describe} your weights have mean {mean:.4g}, expected 0 (their std is {std:.4g}): "
           "draw them from a distribution centred at 0.")
    if abs(std / want_std - 1) > STD_TOLERANCE:
        for variant_std, hint in variants:
            if abs(std / variant_std - 1) <= STD_TOLERANCE:
                raise Mismatch(f"on {describe} the std of your weights is {std:.4g}, expected {want_std:.4g}: "
                               f"{hint}")
        raise Mismatch(f"on {describe} the std of your weights is {std:.4g}, expected {want_std:.4g} "
                       f"(ratio {std / want_std:.3g}).")
    beyond = float(np.mean(np.abs(W - mean) > 2 * std))
    expect(beyond > 0.025,
           f"on {describe} only {beyond:.2%} of your weights lie beyond 2 standard deviations; a normal "
           "distribution has 4.6 % there. Your weights look uniform (or truncated): this exercise asks for the "
           "normal version, rng.normal(0.0, std, size=shape).")


def _xavier_variants(n_in, n_out):
    return [
        (2 / (n_in + n_out), "you used the variance 2/(n_in + n_out) as the standard deviation. rng.normal "
                             "takes the std: pass its square root."),
        (math.sqrt(1 / n_in), "that is LeCun's scale, Var = 1/n_in (what a popular article calls 'Xavier'). "
                              "Glorot & Bengio average the two fans: Var = 2/(n_in + n_out)."),
        (math.sqrt(1 / n_out), "that is Var = 1/n_out (fan-out only). Glorot & Bengio average the two fans: "
                               "Var = 2/(n_in + n_out)."),
        (math.sqrt(1 / (n_in + n_out)), "that is Var = 1/(n_in + n_out): the factor 2 is missing. "
                                        "Var = 2/(n_in + n_out) is the variance of a 1/avg-fan scale."),
        (math.sqrt(2 / n_in), "that is He's Var = 2/n_in (for ReLU). Xavier uses 2/(n_in + n_out)."),
        (math.sqrt(6 / (n_in + n_out)), "that is the bound a = sqrt(6/(n_in + n_out)) of the *uniform* version "
                                        "U(-a, a). For the normal version the std is sqrt(2/(n_in + n_out))."),
        (1.0, "your weights have std 1: scale the standard normal draws by sqrt(2/(n_in + n_out))."),
    ]


def _he_variants(n_in, n_out):
    return [
        (math.sqrt(2 / n_out), "you used fan_out = shape[1]. Our weights have shape (n_in, n_out) "
                               "(y = x @ W), so fan_in = shape[0]: Var = 2/shape[0]."),
        (2 / n_in, "you used the variance 2/n_in as the standard deviation. rng.normal takes the std: "
                   "pass sqrt(2/n_in)."),
        (math.sqrt(1 / n_in), "that is LeCun's Var = 1/n_in. ReLU zeroes half of its input, so He doubles "
                              "it: Var = 2/n_in."),
        (math.sqrt(2 / (n_in + n_out)), "that is Xavier's Var = 2/(n_in + n_out). He uses the fan-in only: "
                                        "Var = 2/n_in."),
        (math.sqrt(6 / n_in), "that is the bound a = sqrt(6/n_in) of the *uniform* version U(-a, a). For the "
                              "normal version the std is sqrt(2/n_in)."),
        (math.sqrt(1 / n_out), "that is Var = 1/n_out: use the fan-in shape[0], and the factor 2."),
        (1.0, "your weights have std 1: scale the standard normal draws by sqrt(2/n_in)."),
    ]


def _check_initializer(fn, formula, variants):
    for k, shape in enumerate(_SHAPES):
        n_in, n_out = shape
        describe = f"shape={shape} (n_in={n_in}, n_out={n_out})"
        W = _weights(fn, shape, np.random.default_rng(100 + k), describe)
        _check_distribution(W, math.sqrt(formula(n_in, n_out)), variants(n_in, n_out), describe)
    _reproducible(fn, _SHAPES[0], f"shape={_SHAPES[0]}")


@exercise("xavier_normal", success="your weights have mean 0 and std sqrt(2/(n_in + n_out)) on every shape "
                                   "tried, are normal, and the same seed gives the same weights.")
def xavier_normal(fn):
    """Check ``fn(shape, rng) -> (n_in, n_out)`` against ``N(0, 2/(n_in + n_out))`` (Glorot & Bengio, 2010)."""
    _check_initializer(fn, lambda n_in, n_out: E.weight_variance("xavier", n_in, n_out), _xavier_variants)


@exercise("he_normal", success="your weights have mean 0 and std sqrt(2/n_in) with n_in = shape[0] on every "
                               "shape tried, are normal, and the same seed gives the same weights.")
def he_normal(fn):
    """Check ``fn(shape, rng) -> (n_in, n_out)`` against ``N(0, 2/n_in)`` (He et al., 2015)."""
    _check_initializer(fn, lambda n_in, n_out: E.weight_variance("he", n_in, n_out), _he_variants)


# ---------------------------------------------------------------- activation_stds

def _model_cases():
    rng = np.random.default_rng(8)
    offsets = np.linspace(-2.0, 2.0, 20)            # uneven feature means make per-unit and global stds differ
    return [
        ("a sigmoid network with 6 hidden layers of width 12 (input width 12)",
         E.deep_mlp(6, 12, "sigmoid", "he", rng=3), rng.standard_normal((40, 12)) * 3),
        ("a tanh network 20 → 30 → 30 → 10 (3 activation layers)",
         E.make_mlp((20, 30, 30, 10), "tanh", "xavier", rng=1), rng.standard_normal((64, 20)) + offsets),
        ("a ReLU network with 4 hidden layers of width 16 and a linear head to 5 classes",
         E.deep_mlp(4, 16, "relu", "he", in_features=20, num_classes=5, rng=2),
         rng.standard_normal((50, 20)) * 2 + offsets),
    ]


def _std_variants(model, X):
    """What the usual slips compute, each with its hint."""
    outputs, pre, every_layer = [], [], []
    h = X
    for layer in model:
        h = layer.forward(h)
        every_layer.append(float(np.std(h)))
        (outputs if E.is_activation(layer) else pre).append(h)
    fed_x = [float(np.std(layer.forward(X))) for layer in model if E.is_activation(layer)]
    return [
        (fed_x, "every activation layer got the input X: feed each layer the previous layer's output "
                "(h = layer(h), starting from h = X)."),
        ([float(np.std(p)) for p in pre[: len(outputs)]],
         "you measured the Linear outputs (the pre-activations z = xW + b). Measure the output of each "
         "activation layer, after the nonlinearity."),
        ([float(np.var(o)) for o in outputs], "you returned variances: take the square root (np.std)."),
        ([float(np.std(o, axis=0).mean()) for o in outputs],
         "you averaged per-unit standard deviations (np.std(h, axis=0).mean()). Take one std over all "
         "entries of the batch: np.std(h)."),
        ([float(np.sqrt(np.mean(o * o))) for o in outputs],
         "you returned the root mean square sqrt(mean(h²)); the std subtracts the mean first: np.std(h)."),
        ([float(np.mean(o)) for o in outputs], "you returned the means of the activations, not their std."),
        ([float(np.std(o)) for o in outputs][::-1], "your list runs from the output to the input; return it "
                                                     "from the first layer to the last."),
        (every_layer, f"you returned {len(every_layer)} values, one per layer of the model; the model has "
                      f"{len(outputs)} activation layers: skip the Linear layers and measure only after each "
                      "activation."),
    ]


@exercise("activation_stds", success="your standard deviations match the package's on every network tried.")
def activation_stds(fn):
    """Check ``fn(model, X) -> (L,)`` against :func:`gdcourse.experiments.initialization.activation_stds`."""
    for describe, model, X in _model_cases():
        got = call(fn, model, X, describe=describe)
        if got is None:
            raise Mismatch(f"on {describe} your function returned None: did you forget to return the stds?")
        try:
            got = np.asarray(got, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise Mismatch(f"on {describe} you returned {type(got).__name__}, not a list of numbers") from None
        want = E.activation_stds(model, X)
        if same_array(got, want, rtol=5e-3, atol=1e-12):   # ddof=1 is fine too
            continue
        for variant, hint in _std_variants(model, X):
            variant = np.asarray(variant)
            if same_array(got, variant, rtol=5e-3, atol=1e-12):
                raise Mismatch(f"on {describe}: {hint}")
        if got.shape != want.shape:
            raise Mismatch(f"on {describe} you returned {got.size} values, expected {want.size}: one std per "
                           "activation layer, from the first to the last.")
        raise Mismatch(f"on {describe} you returned {show(got)}, expected {show(want)}. Feed each layer the "
                       "previous layer's output (h = layer(h)) and after every activation layer record np.std(h).")


# ---------------------------------------------------------------- flat_relu_gain (explorer)

@exercise("flat_relu_gain")
def flat_relu_gain(value, depth=30, tolerance=0.03):
    """Is ``value`` the gain at which ReLU + Xavier keeps the last layer's std equal to the first's?

    The truth is the package's :func:`~gdcourse.experiments.initialization.flat_gain`
    for the explorer's network (width 256, seed 0); within ``tolerance``.
    """
    value = answer(value)
    expect(is_number(value),
           f"enter the gain as a number, e.g. flat_gain = 1.5; got {value!r}")
    expect(value > 0, f"a gain must be > 0; got {value}")
    truth = E.flat_gain("relu", "xavier", depth, width=E.EXPLORER_WIDTH, batch=E.EXPLORER_BATCH,
                        rng=E.EXPLORER_SEED)
    ratio_last_first = (value / truth) ** (depth - 1)   # ReLU is homogeneous: layer l scales as gain^l
    if value > truth * (1 + tolerance):
        raise Mismatch(f"gain {value:g} is too large: layer {depth}'s std is {ratio_last_first:.3g} times layer "
                       "1's, so the std line still rises. Lower the gain until the line is flat.")
    if value < truth * (1 - tolerance):
        raise Mismatch(f"gain {value:g} is too small: layer {depth}'s std is only {ratio_last_first:.3g} times "
                       "layer 1's, so the signal still shrinks. Raise the gain until the line is flat.")
    return (f"gain {value:g} is within {abs(value / truth - 1):.1%} of the exact value {truth:.4f} for this "
            f"network (layer {depth} / layer 1 = {ratio_last_first:.2f}). Theory says √2 ≈ 1.414: ReLU keeps "
            "half of the second moment, so Xavier's 2/(n_in + n_out) = 1/n must be doubled to 2/n, which is He "
            "initialization.")
