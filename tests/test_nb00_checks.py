"""The tour exercise of notebook 00: the reference passes, the usual mistakes get their message."""

import numpy as np
from check_helpers import (
    assert_fails_with,
    assert_not_done,
    assert_passes,
    stub,
)

from gdcourse import check


def test_reference_passes():
    assert_passes(check.gd_update, lambda w, g, lr: w - lr * g)


def test_sign_flip_is_named():
    assert_fails_with(check.gd_update, lambda w, g, lr: w + lr * g, "moved *up* the gradient")


def test_forgotten_learning_rate_is_named():
    assert_fails_with(check.gd_update, lambda w, g, lr: w - g, "ignores lr")


def test_in_place_update_does_not_fool_the_check_and_stub_is_not_done():
    def in_place(w, g, lr):
        w -= lr * g
        return w

    assert_passes(check.gd_update, in_place)  # the check hands over copies

    assert_not_done(check.gd_update, stub)
    assert_fails_with(check.gd_update, lambda w, g, lr: np.linalg.inv(w), "LinAlgError")
