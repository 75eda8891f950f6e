"""Notebook 06 checks: each passes the reference solution, fails plausible wrong answers with the
intended message, reports a NotImplementedError stub as "not done", and reports other exceptions as
"failed" naming the error. A check never raises."""

import numpy as np
import pytest
from check_helpers import (
    assert_fails_with,
    assert_not_done,
    assert_pair_fails_with,
    assert_passes,
    assert_verdict,
    run,
    stub,
)

from gdcourse import check
from gdcourse.check import normalization as checks
from gdcourse.experiments import normalization as E


def broken(*args, **kwargs):
    return 1 / 0


def test_checks_are_re_exported():
    for name in ("batchnorm_forward", "batchnorm_backward", "layernorm_forward", "fold_batchnorm",
                 "smallest_batch_size"):
        assert getattr(check, name) is getattr(checks, name) and name in check.REGISTRY


# ---------------------------------------------------------------- references (as in the notebook)

def bn_forward(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma)


def bn_backward(dout, cache):
    x_hat, inv_std, gamma = cache
    dx_hat = gamma * dout
    dx = inv_std * (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def bn_forward_variant(normalize):
    def forward(x, gamma, beta, eps=1e-5):
        return normalize(x, gamma, beta, eps), None
    return forward


def ln_forward(x, gamma, beta, eps=1e-5):
    return gamma * (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + eps) + beta


def fold(W, b, gamma, beta, running_mean, running_var, eps=1e-5):
    s = gamma / np.sqrt(running_var + eps)
    return W * s, (b - running_mean) * s + beta


# ---------------------------------------------------------------- batchnorm_forward

def test_batchnorm_forward_passes_the_reference_and_a_list_cache():
    assert_passes(check.batchnorm_forward, bn_forward)
    as_list = lambda x, g, b, eps=1e-5: [bn_forward(x, g, b, eps)[0].tolist(), "any cache"]
    assert_passes(check.batchnorm_forward, as_list)


def _ddof1(x, g, b, eps):
    return g * (x - x.mean(0)) / np.sqrt(x.var(0, ddof=1) + eps) + b


def _rows(x, g, b, eps):
    return g * (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + eps) + b


@pytest.mark.parametrize("wrong,fragments", [
    (bn_forward_variant(_ddof1), ["unbiased variance", "ddof=1"]),
    (bn_forward_variant(_rows), ["wrong axis", "layer norm", "axis=0"]),
    (bn_forward_variant(lambda x, g, b, eps: g * (x - x.mean(0)) / (x.std(0) + eps) + b),
     ["inside the square root"]),
    (bn_forward_variant(lambda x, g, b, eps: g * (x - x.mean(0)) / x.std(0) + b), ["left out eps"]),
    (bn_forward_variant(lambda x, g, b, eps: (x - x.mean(0)) / np.sqrt(x.var(0) + eps)),
     ["gamma * x_hat + beta"]),
    (bn_forward_variant(lambda x, g, b, eps: b * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + g), ["swapped"]),
    (bn_forward_variant(lambda x, g, b, eps: g * (x - x.mean(0)) / (x.var(0) + eps) + b),
     ["divided by the variance"]),
    (bn_forward_variant(lambda x, g, b, eps: g * (x - x.mean(0)) + b), ["did not divide"]),
    (bn_forward_variant(lambda x, g, b, eps: 2 * g * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + b),
     ["expected"]),
    (lambda x, g, b, eps=1e-5: bn_forward(x, g, b, eps)[0], ["return a pair (out, cache)"]),
    (bn_forward_variant(lambda x, g, b, eps: np.zeros(3)), ["shape (3,)", "the shape of x"]),
])
def test_batchnorm_forward_names_the_mistake(wrong, fragments):
    assert_fails_with(check.batchnorm_forward, wrong, *fragments)


def test_batchnorm_forward_not_done_and_errors():
    assert_not_done(check.batchnorm_forward, stub)
    assert_fails_with(check.batchnorm_forward, broken, "ZeroDivisionError", "x of shape (8, 4)")


# ---------------------------------------------------------------- batchnorm_backward

def test_batchnorm_backward_passes_the_reference():
    assert_verdict(run(check.batchnorm_backward, bn_forward, bn_backward), "passed", "central differences")


def backward_variant(dx_of=None, dgamma_of=None, dbeta_of=None):
    def backward(dout, cache):
        x_hat, inv_std, gamma = cache
        dx, dgamma, dbeta = bn_backward(dout, cache)
        if dx_of:
            dx = dx_of(dout, x_hat, inv_std, gamma)
        if dgamma_of:
            dgamma = dgamma_of(dout, x_hat)
        if dbeta_of:
            dbeta = dbeta_of(dout)
        return dx, dgamma, dbeta
    return backward


def _without(mean_path=True, var_path=True, use_gamma=True, scale=1.0):
    def dx_of(dout, x_hat, inv_std, gamma):
        d = gamma * dout if use_gamma else dout
        result = d.copy()
        if mean_path:
            result = result - d.mean(axis=0)
        if var_path:
            result = result - x_hat * (d * x_hat).mean(axis=0)
        return scale * inv_std * result
    return dx_of


def _layer_axis(dout, x_hat, inv_std, gamma):
    # the right formula with its batch means taken over the features instead
    d = gamma * dout
    return inv_std * (d - d.mean(1, keepdims=True) - x_hat * (d * x_hat).mean(1, keepdims=True))


@pytest.mark.parametrize("wrong,fragments", [
    (backward_variant(dx_of=_without(use_gamma=False)), ["dx is missing gamma", "gamma * dout"]),
    (backward_variant(dx_of=_without(mean_path=False, var_path=False)),
     ["as constants", "paths through the mean"]),
    (backward_variant(dx_of=_without(var_path=False)), ["path through the variance"]),
    (backward_variant(dx_of=_without(mean_path=False)), ["path through the mean"]),
    (backward_variant(dx_of=_without(scale=8.0)), ["N = 8 times too large"]),
    (backward_variant(dgamma_of=lambda dout, x_hat: dout.sum(0)), ["dgamma is missing x_hat"]),
    (backward_variant(dgamma_of=lambda dout, x_hat: (dout * x_hat).mean(0)),
     ["dgamma is N = 8 times too small"]),
    (backward_variant(dbeta_of=lambda dout: dout.mean(0)), ["dbeta is N = 8 times too small", "sum"]),
    (backward_variant(dbeta_of=lambda dout: dout), ["dbeta has shape (8, 4)", "sum over the batch"]),
    (backward_variant(dx_of=lambda dout, x_hat, inv_std, gamma: 3 * dout),
     ["dx is", "dx_hat = gamma * dout"]),
    (lambda dout, cache: bn_backward(dout, cache)[:2], ["(dx, dgamma, dbeta)"]),
])
def test_batchnorm_backward_names_the_mistake(wrong, fragments):
    assert_pair_fails_with(check.batchnorm_backward, bn_forward, wrong, *fragments)


def test_batchnorm_backward_detects_the_wrong_axis():
    assert_pair_fails_with(check.batchnorm_backward, bn_forward, backward_variant(dx_of=_layer_axis),
                           "over the features (axis=1)", "axis=0")


def test_batchnorm_backward_asks_to_fix_the_forward_first():
    assert_pair_fails_with(check.batchnorm_backward, bn_forward_variant(_ddof1), bn_backward,
                           "batchnorm_forward is not right yet")


def test_batchnorm_backward_not_done_and_errors():
    assert_not_done(check.batchnorm_backward, bn_forward, stub)
    assert_not_done(check.batchnorm_backward, stub, stub)
    assert_pair_fails_with(check.batchnorm_backward, bn_forward, broken, "ZeroDivisionError")


# ---------------------------------------------------------------- layernorm_forward

def test_layernorm_forward_passes_the_reference():
    assert_passes(check.layernorm_forward, ln_forward)


@pytest.mark.parametrize("wrong,fragments", [
    (lambda x, g, b, eps=1e-5: g * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + b,
     ["wrong axis", "batch norm"]),
    (lambda x, g, b, eps=1e-5: g * (x - x.mean(1)) / np.sqrt(x.var(1) + eps) + b, ["keepdims=True"]),
    (lambda x, g, b, eps=1e-5: g * (x - x.mean(1, keepdims=True))
     / np.sqrt(x.var(1, ddof=1, keepdims=True) + eps) + b,
     ["unbiased variance"]),
    (lambda x, g, b, eps=1e-5: g * (x - x.mean(1, keepdims=True)) / (x.std(1, keepdims=True) + eps) + b,
     ["inside the square root"]),
    (lambda x, g, b, eps=1e-5: (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + eps),
     ["gamma * x_hat + beta"]),
    (lambda x, g, b, eps=1e-5: (ln_forward(x, g, b, eps), None), ["return only the output"]),
    (lambda x, g, b, eps=1e-5: None, ["returned None"]),
])
def test_layernorm_forward_names_the_mistake(wrong, fragments):
    assert_fails_with(check.layernorm_forward, wrong, *fragments)


def test_layernorm_forward_not_done_and_errors():
    assert_not_done(check.layernorm_forward, stub)
    assert_fails_with(check.layernorm_forward, broken, "ZeroDivisionError")


# ---------------------------------------------------------------- fold_batchnorm

def test_fold_batchnorm_passes_the_reference_and_the_package():
    assert_passes(check.fold_batchnorm, fold)
    assert_passes(check.fold_batchnorm, E.fold_batchnorm)


def fold_variant(weight=None, bias=None):
    def folded(W, b, gamma, beta, mean, var, eps=1e-5):
        s = gamma / np.sqrt(var + eps)
        right_w, right_b = W * s, (b - mean) * s + beta
        folded_w = weight(W, s, gamma, var) if weight else right_w
        return folded_w, (bias(b, mean, s, beta) if bias else right_b)
    return folded


@pytest.mark.parametrize("wrong,fragments", [
    (fold_variant(bias=lambda b, mean, s, beta: b * s + beta), ["subtract the running mean"]),
    (fold_variant(bias=lambda b, mean, s, beta: (b - mean) * s), ["missing beta"]),
    (fold_variant(bias=lambda b, mean, s, beta: b - mean * s + beta), ["own bias b is scaled too"]),
    (fold_variant(weight=lambda W, s, gamma, var: W * gamma / (var + 1e-5)), ["divided by the variance"]),
    (fold_variant(weight=lambda W, s, gamma, var: W * gamma / np.sqrt(var)), ["left out eps"]),
    (fold_variant(weight=lambda W, s, gamma, var: W * gamma), ["running standard deviation"]),
    (fold_variant(weight=lambda W, s, gamma, var: W / np.sqrt(var + 1e-5)), ["s is missing gamma"]),
    (fold_variant(weight=lambda W, s, gamma, var: W * s[:, None] if W.shape[0] == W.shape[1] else W * s),
     ["scaled the rows of W", "columns"]),
    (fold_variant(weight=lambda W, s, gamma, var: (W * s).T), ["shape (3, 5)"]),
    (lambda *args: fold(*args)[0], ["return the pair (W', b')"]),
])
def test_fold_batchnorm_names_the_mistake(wrong, fragments):
    assert_fails_with(check.fold_batchnorm, wrong, *fragments)


def test_fold_batchnorm_not_done_and_errors():
    assert_not_done(check.fold_batchnorm, stub)
    assert_fails_with(check.fold_batchnorm, broken, "ZeroDivisionError")


# ---------------------------------------------------------------- smallest_batch_size

def test_smallest_batch_size_accepts_only_the_package_answer():
    truth = E.smallest_batch_size()
    assert_verdict(run(check.smallest_batch_size, truth), "passed", f"B = {truth}")
    assert_passes(check.smallest_batch_size, float(truth))
    assert_fails_with(check.smallest_batch_size, truth - 1, "below 95%", "increase the batch size")
    assert_fails_with(check.smallest_batch_size, truth + 5, "works", "step down")
    assert_fails_with(check.smallest_batch_size, 64, "smaller batch already reaches 95%")
    assert_fails_with(check.smallest_batch_size, 2, "increase")


@pytest.mark.parametrize("value,fragment", [
    ("42", "whole number"), (42.5, "whole number"), (True, "whole number"), (float("nan"), "whole number"),
    (1, "from 2 to 64"), (100, "from 2 to 64"),
])
def test_smallest_batch_size_rejects_malformed_answers(value, fragment):
    assert_fails_with(check.smallest_batch_size, value, fragment)


def test_smallest_batch_size_not_done():
    assert_not_done(check.smallest_batch_size, None)
