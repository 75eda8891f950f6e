"""Notebook 07 checks: each passes the reference solution, rejects the plausible wrong answers with the
intended message, reports a NotImplementedError stub as "not done" and names any other error."""

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
from gdcourse.experiments import regularization as E

# ---------------------------------------------------------------- dropout


def good_forward(x, p, rng, training=True):
    if not training or p == 0:
        return x, None
    mask = (rng.random(x.shape) >= p) / (1.0 - p)
    return x * mask, mask


def good_backward(dout, mask):
    return dout if mask is None else dout * mask


def keep_less_than_forward(x, p, rng, training=True):
    """Also correct: keeps a unit when u < 1 − p (a different mask with the same distribution)."""
    if not training or p == 0:
        return x, None
    mask = (rng.random(x.shape) < 1 - p) / (1 - p)
    return x * mask, mask


def test_dropout_accepts_the_reference_and_an_equivalent_mask_rule():
    assert_passes(check.dropout_forward_backward, good_forward, good_backward)
    assert_passes(check.dropout_forward_backward, E.dropout_forward, E.dropout_backward)
    assert_passes(check.dropout_forward_backward, keep_less_than_forward, good_backward)


def test_dropout_rejects_scaling_at_test_time():
    def forward(x, p, rng, training=True):
        if not training:
            return x * (1 - p), None
        mask = rng.random(x.shape) >= p
        return x * mask, mask

    assert_pair_fails_with(check.dropout_forward_backward, forward, good_backward,
                           "original (non-inverted) dropout, scaling at test time")


def test_dropout_rejects_a_forgotten_scale():
    def forward(x, p, rng, training=True):
        if not training or p == 0:
            return x, None
        mask = (rng.random(x.shape) >= p).astype(float)
        return x * mask, mask

    assert_pair_fails_with(check.dropout_forward_backward, forward, good_backward, "you forgot to divide by 1 - p")


def test_dropout_rejects_a_new_mask_in_backward():
    state = {}

    def forward(x, p, rng, training=True):
        if not training or p == 0:
            return x, None
        state["rng"], state["p"] = rng, p
        mask = (rng.random(x.shape) >= p) / (1 - p)
        return x * mask, mask

    def backward(dout, mask):
        if mask is None:
            return dout
        fresh = (state["rng"].random(dout.shape) >= state["p"]) / (1 - state["p"])
        return dout * fresh

    assert_pair_fails_with(check.dropout_forward_backward, forward, backward, "reuse the mask of the forward pass")


def test_dropout_rejects_a_backward_that_ignores_the_mask_or_its_scale():
    assert_pair_fails_with(check.dropout_forward_backward, good_forward, lambda dout, mask: dout, "ignored the mask")

    def unscaled_backward(dout, mask):
        return dout if mask is None else dout * (mask != 0)

    assert_pair_fails_with(check.dropout_forward_backward, good_forward, unscaled_backward,
                           "misses the 1/(1 - p) factor")


def test_dropout_rejects_keep_probability_and_division_by_p():
    def keep_prob(x, p, rng, training=True):
        if not training or p == 0:
            return x, None
        mask = (rng.random(x.shape) < p) / p
        return x * mask, mask

    assert_pair_fails_with(check.dropout_forward_backward, keep_prob, good_backward, "probability to DROP a unit")

    def divide_by_p(x, p, rng, training=True):
        if not training or p == 0:
            return x, None
        mask = (rng.random(x.shape) >= p) / p
        return x * mask, mask

    assert_pair_fails_with(check.dropout_forward_backward, divide_by_p, good_backward, "= 1/p", "KEEP probability")


def test_dropout_rejects_dropout_at_evaluation_and_double_scaling():
    def always_on(x, p, rng, training=True):
        mask = (rng.random(x.shape) >= p) / (1 - p)
        return x * mask, mask

    assert_pair_fails_with(check.dropout_forward_backward, always_on, good_backward, "still active at evaluation")

    def double(x, p, rng, training=True):
        if not training:
            return x * (1 - p), None
        return good_forward(x, p, rng, training)

    assert_pair_fails_with(check.dropout_forward_backward, double, good_backward,
                           "evaluation pass also multiplies by 1 - p")


def test_dropout_rejects_the_global_random_state():
    def global_rng(x, p, rng, training=True):
        if not training or p == 0:
            return x, None
        mask = (np.random.random(x.shape) >= p) / (1 - p)
        return x * mask, mask

    assert_pair_fails_with(check.dropout_forward_backward, global_rng, good_backward,
                           "draw the mask from the rng argument")


def test_dropout_not_done_and_errors():
    assert_not_done(check.dropout_forward_backward, stub, stub)

    def broken(x, p, rng, training=True):
        raise KeyError("oops")

    assert_pair_fails_with(check.dropout_forward_backward, broken, good_backward, "KeyError")

    assert_pair_fails_with(check.dropout_forward_backward, lambda x, p, rng, training=True: x, good_backward,
                           "return a pair (out, mask)")


# ---------------------------------------------------------------- L2 penalty


def good_l2(params, lam):
    penalty, grads = 0.0, {}
    for name, value in params.items():
        if value.ndim >= 2:
            penalty += 0.5 * lam * np.sum(value**2)
            grads[name] = lam * value
        else:
            grads[name] = np.zeros_like(value)
    return penalty, grads


def variant_l2(value_factor=0.5, grad_factor=1.0, biases=False, drop_bias_keys=False, lam_in_grad=True):
    def fn(params, lam):
        penalty, grads = 0.0, {}
        for name, value in params.items():
            if value.ndim >= 2 or biases:
                penalty += value_factor * lam * np.sum(value**2)
                grads[name] = grad_factor * (lam if lam_in_grad else 1.0) * value
            elif not drop_bias_keys:
                grads[name] = np.zeros_like(value)
        return penalty, grads

    return fn


def test_l2_accepts_the_reference():
    assert_passes(check.l2_penalty_grad, good_l2)
    assert_passes(check.l2_penalty_grad, variant_l2())


@pytest.mark.parametrize("variant, message", [
    (variant_l2(value_factor=1.0), "your penalty is twice too big"),
    (variant_l2(biases=True), "your penalty includes the biases"),
    (variant_l2(grad_factor=2.0), "your gradient is twice too big"),
    (variant_l2(grad_factor=0.5), "your gradient is half the right size"),
    (variant_l2(grad_factor=-1.0), "wrong sign"),
    (variant_l2(drop_bias_keys=True), "has no entry for ['b1', 'b2']"),
    (variant_l2(lam_in_grad=False), "multiply by lam"),
])
def test_l2_names_the_mistake(variant, message):
    assert_fails_with(check.l2_penalty_grad, variant, message)


def test_l2_catches_penalized_bias_gradients_even_with_the_right_value():
    def fn(params, lam):
        penalty, grads = good_l2(params, lam)
        return penalty, {name: lam * value for name, value in params.items()}

    assert_fails_with(check.l2_penalty_grad, fn, "you penalized the biases")


def test_l2_not_done_error_and_shape():
    assert_not_done(check.l2_penalty_grad, stub)
    assert_fails_with(check.l2_penalty_grad, lambda params, lam: 1 / 0, "ZeroDivisionError")
    assert_fails_with(check.l2_penalty_grad, lambda params, lam: good_l2(params, lam)[0],
                      "return a pair (penalty, grads)")


# ---------------------------------------------------------------- should_stop


def good_should_stop(val_losses, patience):
    if not val_losses:
        return False
    return len(val_losses) - 1 - int(np.argmin(val_losses)) >= patience


def consecutive_increases(val_losses, patience):
    """The seed's reading: stop after `patience` increases in a row."""
    count = 0
    for i in range(1, len(val_losses)):
        count = count + 1 if val_losses[i] > val_losses[i - 1] else 0
    return count >= patience


def compared_with_previous(val_losses, patience):
    count = 0
    for i in range(1, len(val_losses)):
        count = 0 if val_losses[i] < val_losses[i - 1] else count + 1
    return count >= patience


def off_by_one(val_losses, patience):
    if not val_losses:
        return False
    return len(val_losses) - 1 - int(np.argmin(val_losses)) > patience


def ties_improve(val_losses, patience):
    if not val_losses:
        return False
    last_best = len(val_losses) - 1 - int(np.argmin(val_losses[::-1]))
    return len(val_losses) - 1 - last_best >= patience


def test_should_stop_accepts_the_reference():
    assert_passes(check.should_stop, good_should_stop)
    assert_passes(check.should_stop, E.should_stop)


@pytest.mark.parametrize("variant, message", [
    (consecutive_increases, "you count consecutive increases"),
    (compared_with_previous, "you compare each epoch with the previous one"),
    (off_by_one, "off by one"),
    (ties_improve, "you treat a loss equal to the best as an improvement"),
])
def test_should_stop_names_the_mistake(variant, message):
    assert_fails_with(check.should_stop, variant, message)


def test_should_stop_empty_list_none_and_stub():
    def crashes_on_empty(val_losses, patience):
        return len(val_losses) - 1 - int(np.argmin(val_losses)) >= patience

    assert_fails_with(check.should_stop, crashes_on_empty, "ValueError on an empty list")
    assert_fails_with(check.should_stop, lambda val_losses, patience: None, "return True or False")

    assert_not_done(check.should_stop, stub)


# ---------------------------------------------------------------- the L1 explorer exercise


def test_sparsest_l1_strength_accepts_the_package_answer():
    truth = E.sparsity_threshold(0.4)
    assert truth == pytest.approx(10**-2.8, rel=1e-12)           # a grid point of the explorer's slider
    assert_verdict(run(check.sparsest_l1_strength, truth), "passed", "one step lower")
    assert_passes(check.sparsest_l1_strength, 0.00158)        # as the slider shows 10^-2.8


def test_sparsest_l1_strength_too_small_and_too_large():
    grid = E.PENALTY_STRENGTHS
    i = int(np.flatnonzero(grid == E.sparsity_threshold(0.4))[0])
    assert_fails_with(check.sparsest_l1_strength, float(grid[i - 1]), "increase the strength")
    assert_fails_with(check.sparsest_l1_strength, float(grid[i + 3]), "a smaller setting")


def test_sparsest_l1_strength_rejects_values_off_the_grid_and_bad_input():
    assert_not_done(check.sparsest_l1_strength, None)
    assert_fails_with(check.sparsest_l1_strength, 0.0023,       # between 10^-2.7 and 10^-2.6
                      "not one of the explorer's settings")
    assert_fails_with(check.sparsest_l1_strength, 1.0, "outside the explorer's range")
    assert_fails_with(check.sparsest_l1_strength, "0.002", "positive number")
