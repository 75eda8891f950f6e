"""Checks of notebook 06 (normalization).

``batchnorm_forward``: the learner's training-mode ``batchnorm_forward(x, gamma, beta, eps) -> (out, cache)``;
``batchnorm_backward``: their ``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``, fed the cache of
their own forward; ``layernorm_forward``: ``layernorm_forward(x, gamma, beta, eps) -> out``;
``fold_batchnorm``: the folded weights of ``Linear → BatchNorm1d`` at inference;
``smallest_batch_size``: the batch size found with the batch-size explorer. The references are
``gdcourse.nn.BatchNorm1d`` / ``LayerNorm`` and :mod:`gdcourse.experiments.normalization`; each check
compares with the known wrong variants to name the likely mistake.
"""

from __future__ import annotations

import numpy as np

from gdcourse import gradcheck, nn
from gdcourse.check.core import (
    Mismatch,
    answer,
    call,
    exercise,
    expect,
    is_whole_number,
    returned_array,
    same_array,
    show,
)
from gdcourse.experiments import normalization as E

__all__ = ["batchnorm_forward", "batchnorm_backward", "layernorm_forward", "fold_batchnorm",
           "smallest_batch_size"]

EPS = 1e-5


def _cases(seed, shapes):
    """``(describe, x, gamma, beta)``: features with different means and scales, one of them nearly constant
    (std 0.01, where the place of eps matters), random gamma and beta."""
    rng = np.random.default_rng(seed)
    cases = []
    for n, d in shapes:
        scales = np.geomspace(0.01, 5.0, d)
        x = rng.standard_normal((n, d)) * scales + rng.uniform(-3, 3, d)
        gamma, beta = rng.uniform(0.5, 2.0, d), rng.standard_normal(d)
        cases.append((f"x of shape ({n}, {d}) with random gamma and beta", x, gamma, beta))
    return cases


def _normalize(x, axis, ddof=0, eps=EPS, eps_outside=False):
    """``(x − mean) / sqrt(var + eps)`` over ``axis``, with the usual slips as options."""
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    return (x - mean) / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps))


def _forward_variants(x, gamma, beta, axis):
    """``[(output of one plausible mistake, hint)]`` for a normalization over ``axis`` (0: BN, 1: LN)."""
    other = 1 - axis
    right_name, wrong_name = ("Batch norm", "layer norm") if axis == 0 else ("Layer norm", "batch norm")
    per = ("feature (column), over the batch: axis=0" if axis == 0
           else "sample (row), over its features: axis=1")
    xhat = _normalize(x, axis)
    mean = x.mean(axis=axis, keepdims=True)
    variants = [
        (gamma * _normalize(x, axis, ddof=1) + beta,
         "you normalized with the unbiased variance (ddof=1, dividing by N − 1 instead of N). Normalization "
         "uses the biased variance, np.var's default (ddof=0); the unbiased estimate is only used for batch "
         "norm's running variance."),
        (gamma * _normalize(x, other) + beta,
         f"you normalized over the wrong axis: that is {wrong_name}. {right_name} computes one mean and "
         f"variance per {per}."),
        (gamma * _normalize(x, axis, eps_outside=True) + beta,
         "eps belongs inside the square root: (x − mean) / np.sqrt(var + eps), not / (np.sqrt(var) + eps)."),
        (gamma * _normalize(x, axis, eps=0.0) + beta,
         "you left out eps: divide by np.sqrt(var + eps). It matters for features with a tiny variance."),
        (xhat, "you returned x_hat: scale and shift it, out = gamma * x_hat + beta."),
        (beta * xhat + gamma,
         "gamma and beta are swapped: out = gamma * x_hat + beta (gamma scales, beta shifts)."),
        (gamma * (x - mean) / (x.var(axis=axis, keepdims=True) + EPS) + beta,
         "you divided by the variance; divide by the standard deviation, np.sqrt(var + eps)."),
        (gamma * (x - mean) + beta, "you subtracted the mean but did not divide by np.sqrt(var + eps)."),
    ]
    if axis == 1 and x.shape[0] == x.shape[1]:
        # without keepdims the row statistics broadcast along the wrong axis (silently, for a square x)
        m, s = x.mean(axis=1), np.sqrt(x.var(axis=1) + EPS)
        variants.append((gamma * (x - m) / s + beta,
                         "your row means and variances broadcast across columns: compute them with "
                         "keepdims=True (shape (N, 1)) so that row i is normalized by its own statistics."))
    return variants


def _explain_forward(got, want, variants, describe):
    if got.shape != want.shape:
        raise Mismatch(f"on {describe} the output has shape {got.shape}, expected {want.shape} "
                       "(the shape of x)")
    if same_array(got, want):
        return
    for variant, hint in variants:
        if same_array(got, variant):
            raise Mismatch(f"on {describe}: {hint}")
    raise Mismatch(f"on {describe} you returned {show(got)}, expected {show(want)}: "
                   "out = gamma * (x − mean) / np.sqrt(var + eps) + beta.")


# ---------------------------------------------------------------- batch norm forward

def _batchnorm_reference(x, gamma, beta):
    """The package's training-mode BatchNorm1d on ``x``: ``(layer, output)``."""
    layer = nn.BatchNorm1d(x.shape[1], eps=EPS)
    layer.gamma.value, layer.beta.value = gamma, beta
    return layer, layer(x)


def _unpack_forward(result, describe):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise Mismatch(f"on {describe} you returned a {type(result).__name__}; return a pair (out, cache): "
                       "the output and whatever your backward pass needs.")
    return returned_array(result[0], describe, "out"), result[1]


def _bn_cases():
    return _cases(606, [(8, 4), (5, 5), (2, 3)])


@exercise("batchnorm_forward",
          success="your outputs match BatchNorm1d in training mode on every case (including a batch of 2, "
                  "where every normalized value is ±1 up to eps).")
def batchnorm_forward(fn):
    """Check ``fn(x, gamma, beta, eps) -> (out, cache)`` against ``nn.BatchNorm1d`` in training mode."""
    for describe, x, gamma, beta in _bn_cases():
        got, _ = _unpack_forward(call(fn, x, gamma, beta, EPS, describe=describe), describe)
        _, want = _batchnorm_reference(x, gamma, beta)
        _explain_forward(got, want, _forward_variants(x, gamma, beta, axis=0), describe)


# ---------------------------------------------------------------- batch norm backward

_BACKWARD_ORDER = ("dbeta", "dgamma", "dx")


def _backward_variants(x, gamma, dout):
    """``[(name, wrong gradient, hint)]`` for the usual slips of the backward pass."""
    n = len(x)
    xhat = _normalize(x, 0)
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + EPS)
    dxhat = gamma * dout

    def full(dxh, axis=0):
        return inv_std * (dxh - dxh.mean(axis=axis, keepdims=True)
                          - xhat * (dxh * xhat).mean(axis=axis, keepdims=True))

    return [
        ("dbeta", dout.mean(axis=0), f"dbeta is N = {n} times too small: sum dout over the batch "
                                     "(dout.sum(axis=0)); do not average."),
        ("dgamma", (dout * xhat).mean(axis=0), f"dgamma is N = {n} times too small: "
                                               "dgamma = (dout * x_hat).sum(axis=0)."),
        ("dgamma", dout.sum(axis=0), "dgamma is missing x_hat: out = gamma * x_hat + beta, so "
                                     "dgamma = (dout * x_hat).sum(axis=0)."),
        ("dgamma", (dout * x).sum(axis=0), "dgamma multiplies dout by x; it should be x_hat, the normalized "
                                           "input: dgamma = (dout * x_hat).sum(axis=0)."),
        ("dx", full(dout), "dx is missing gamma: the gradient reaching x_hat is dx_hat = gamma * dout."),
        ("dx", dxhat * inv_std,
         "you treated the batch mean and variance as constants (dx = gamma * dout / std). In training mode "
         "they depend on every x_i: add the paths through the mean and the variance, "
         "dx = (dx_hat − mean(dx_hat) − x_hat · mean(dx_hat · x_hat)) / std."),
        ("dx", inv_std * (dxhat - dxhat.mean(axis=0)),
         "dx is missing the path through the variance: subtract x_hat * mean(dx_hat * x_hat) as well."),
        ("dx", inv_std * (dxhat - xhat * (dxhat * xhat).mean(axis=0)),
         "dx is missing the path through the mean: subtract mean(dx_hat) over the batch as well."),
        ("dx", n * full(dxhat), f"dx is N = {n} times too large: the mean and variance paths carry a 1/N "
                                "(dx = (1/N) / std · (N dx_hat − sum(dx_hat) − x_hat sum(dx_hat x_hat)))."),
        ("dx", full(dxhat, axis=1),
         "your dx takes its means over the features (axis=1), as layer norm would; batch norm's statistics "
         "are over the batch, so the means in dx are over axis=0."),
    ]


def _unpack_backward(result, describe):
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        raise Mismatch(f"on {describe} you returned a {type(result).__name__}; return three arrays in this "
                       "order: (dx, dgamma, dbeta).")
    names = ("dx", "dgamma", "dbeta")
    return {name: returned_array(value, describe, name) for name, value in zip(names, result, strict=True)}


def _explain_backward(got, want, x, gamma, dout, describe):
    for name in _BACKWARD_ORDER:
        if got[name].shape != want[name].shape:
            raise Mismatch(f"on {describe} {name} has shape {got[name].shape}, expected {want[name].shape}"
                           + (" (one value per feature: sum over the batch, axis=0)" if name != "dx" else ""))
    for name in _BACKWARD_ORDER:
        if same_array(got[name], want[name]):
            continue
        for variant_name, variant, hint in _backward_variants(x, gamma, dout):
            if variant_name == name and same_array(got[name], variant):
                raise Mismatch(f"on {describe}: {hint}")
        raise Mismatch(f"on {describe} {name} is {show(got[name])}, expected {show(want[name])}. With "
                       "dx_hat = gamma * dout: dbeta = sum(dout), dgamma = sum(dout * x_hat), "
                       "dx = (dx_hat − mean(dx_hat) − x_hat · mean(dx_hat · x_hat)) / sqrt(var + eps).")


def _central_difference_error(got_dx, x, gamma, beta, dout):
    """Relative error of the learner's dx against central differences of ``sum(BN(x) * dout)``."""
    def f(values):
        return float(np.sum(_batchnorm_reference(values, gamma, beta)[1] * dout))

    return gradcheck.relative_error(got_dx, gradcheck.numerical_gradient(f, x.copy()))


@exercise("batchnorm_backward")
def batchnorm_backward(forward_fn, backward_fn):
    """Check ``backward_fn(dout, cache) -> (dx, dgamma, dbeta)`` with the cache of ``forward_fn``.

    The upstream gradient is random (with ``dout = 1`` the true ``dx`` is zero and would prove nothing); the
    reference is ``nn.BatchNorm1d.backward`` and, for the message, central differences.
    """
    rng = np.random.default_rng(6060)
    errors = []
    for describe, x, gamma, beta in _bn_cases():
        describe = describe + " and a random dout"
        out, cache = _unpack_forward(call(forward_fn, x, gamma, beta, EPS, describe=describe), describe)
        layer, want_out = _batchnorm_reference(x, gamma, beta)
        expect(same_array(out, want_out), f"on {describe} your batchnorm_forward is not right yet (run its check "
                                      "above): fix it first, the backward pass uses its cache.")
        dout = rng.standard_normal(x.shape)
        got = _unpack_backward(call(backward_fn, dout, cache, describe=describe), describe)
        dx = layer.backward(dout)
        want = {"dx": dx, "dgamma": layer.gamma.grad.copy(), "dbeta": layer.beta.grad.copy()}
        _explain_backward(got, want, x, gamma, dout, describe)
        errors.append(_central_difference_error(got["dx"], x, gamma, beta, dout))
    return (f"dx, dgamma and dbeta match BatchNorm1d.backward on {len(errors)} cases with a random upstream "
            f"gradient; against central differences your dx agrees to a relative error of {max(errors):.1e}.")


# ---------------------------------------------------------------- layer norm forward

@exercise("layernorm_forward",
          success="your outputs match LayerNorm on every case, including a single sample (layer norm needs "
                  "no batch) and a square input where a broadcasting slip would hide.")
def layernorm_forward(fn):
    """Check ``fn(x, gamma, beta, eps) -> out`` against ``nn.LayerNorm``."""
    for describe, x, gamma, beta in _cases(707, [(4, 4), (6, 4), (1, 5)]):  # square first: see the variants
        x = x[:, np.random.default_rng(len(x)).permutation(x.shape[1])]  # scales vary along each row
        result = call(fn, x, gamma, beta, EPS, describe=describe)
        if isinstance(result, (tuple, list)):
            raise Mismatch(f"on {describe} you returned a {type(result).__name__}; return only the output "
                           "array (layer norm needs no cache here).")
        got = returned_array(result, describe, "out")
        layer = nn.LayerNorm(x.shape[1], eps=EPS)
        layer.gamma.value, layer.beta.value = gamma, beta
        want = layer(x)
        _explain_forward(got, want, _forward_variants(x, gamma, beta, axis=1), describe)


# ---------------------------------------------------------------- folding

def _fold_cases():
    rng = np.random.default_rng(808)
    cases = []
    for d_in, d_out in ((5, 3), (4, 4)):
        arrays = (rng.standard_normal((d_in, d_out)), rng.standard_normal(d_out),
                  rng.uniform(0.5, 2.0, d_out), rng.standard_normal(d_out), rng.standard_normal(d_out),
                  rng.uniform(0.01, 3.0, d_out))
        cases.append((f"W ({d_in}, {d_out}) with random b, gamma, beta and running statistics", arrays))
    return cases


def _fold_variants(W, b, gamma, beta, mean, var):
    s = gamma / np.sqrt(var + EPS)
    right_w, right_b = W * s, (b - mean) * s + beta
    variants = [
        ("bias", b * s + beta,
         "the folded bias must subtract the running mean: b' = (b − running_mean) · s + beta."),
        ("bias", (b - mean) * s, "the folded bias is missing beta: b' = (b − running_mean) · s + beta."),
        ("bias", b - mean * s + beta,
         "the layer's own bias b is scaled too: b' = (b − running_mean) · s + beta."),
        ("weight", W * gamma / (var + EPS),
         "s = gamma / sqrt(running_var + eps): you divided by the variance."),
        ("weight", W * gamma / np.sqrt(var), "s = gamma / np.sqrt(running_var + eps): you left out eps."),
        ("weight", W * gamma, "the weights must be divided by the running standard deviation too: "
                              "s = gamma / sqrt(running_var + eps)."),
        ("weight", W / np.sqrt(var + EPS), "s is missing gamma: s = gamma / sqrt(running_var + eps)."),
    ]
    if W.shape[0] == W.shape[1]:
        variants.append(("weight", W * s[:, None],
                         "you scaled the rows of W; with y = x @ W, output feature j is column j, so scale "
                         "the columns: W * s (broadcast over rows)."))
    return right_w, right_b, variants


@exercise("fold_batchnorm",
          success="your folded layer computes exactly what Linear followed by BatchNorm1d (eval mode) "
                  "computes.")
def fold_batchnorm(fn):
    """Check ``fn(W, b, gamma, beta, running_mean, running_var, eps) -> (W', b')`` against the package."""
    for describe, arrays in _fold_cases():
        result = call(fn, *arrays, EPS, describe=describe)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise Mismatch(f"on {describe} you returned a {type(result).__name__}; return the pair (W', b').")
        got_w, got_b = (returned_array(v, describe, name) for v, name in zip(result, ("W'", "b'"), strict=True))
        want_w, want_b = E.fold_batchnorm(*arrays, EPS)
        for name, got, want in (("weight", got_w, want_w), ("bias", got_b, want_b)):
            if got.shape != want.shape:
                raise Mismatch(f"on {describe} the folded {name} has shape {got.shape}, "
                               f"expected {want.shape}.")
        for name, got, want in (("weight", got_w, want_w), ("bias", got_b, want_b)):
            if same_array(got, want):
                continue
            for variant_name, variant, hint in _fold_variants(*arrays)[2]:
                if variant_name == name and same_array(got, variant):
                    raise Mismatch(f"on {describe}: {hint}")
            raise Mismatch(f"on {describe} the folded {name} is {show(got)}, expected {show(want)}. "
                           "With s = gamma / sqrt(running_var + eps): W' = W * s, "
                           "b' = (b − running_mean) * s + beta.")


# ---------------------------------------------------------------- the batch-size exercise

@exercise("smallest_batch_size")
def smallest_batch_size(value, tolerance=E.EXERCISE_TOLERANCE, level=E.EXERCISE_LEVEL):
    """Is ``value`` the smallest batch size whose mean is within ``tolerance``σ in ``level`` of the batches?

    The truth is :func:`gdcourse.experiments.normalization.smallest_batch_size` (what the explorer shows).
    """
    value = answer(value)
    expect(is_whole_number(value), f"enter the batch size as a whole number, e.g. batch_size = 12; got {value!r}")
    b = int(value)
    expect(2 <= b <= E.MAX_BATCH, f"the explorer goes from 2 to {E.MAX_BATCH}; got {b}")
    view = E.batch_size_view(b, tolerance, level)
    truth, share = view.answer, view.current_coverage
    if b == truth:
        previous = view.coverage[b - 1 - view.batch_sizes[0]]
        return (f"B = {b}: {share:.2%} of random batches have their mean within {tolerance:g}σ (B = {b - 1}: "
                f"{previous:.2%}). The error of a batch mean is N(0, σ²/B), so the share is 2Φ({tolerance:g}√B) − 1, "
                f"and it reaches 95% once {tolerance:g}√B ≥ 1.96: B ≥ (1.96 / {tolerance:g})² ≈ "
                f"{(1.96 / tolerance) ** 2:.1f}, rounded up to {b}.")
    if share < level:
        raise Mismatch(f"at B = {b} only {share:.2%} of batches have their mean within {tolerance:g}σ, below "
                       f"{level:.0%}: increase the batch size.")
    raise Mismatch(f"B = {b} works ({share:.2%} ≥ {level:.0%}), but a smaller batch already reaches "
                   f"{level:.0%}: step down one at a time and keep the smallest batch size whose share is "
                   "still above the line.")
