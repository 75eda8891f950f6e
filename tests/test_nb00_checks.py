"""The tour exercise of notebook 00: the reference passes, the usual mistakes get their message."""

import numpy as np

from gdcourse import check


def test_reference_passes():
    assert check.gd_update(lambda w, g, lr: w - lr * g).passed


def test_sign_flip_is_named():
    result = check.gd_update(lambda w, g, lr: w + lr * g)
    assert result.status == "failed" and "moved *up* the gradient" in result.message


def test_forgotten_learning_rate_is_named():
    result = check.gd_update(lambda w, g, lr: w - g)
    assert result.status == "failed" and "ignores lr" in result.message


def test_in_place_update_does_not_fool_the_check_and_stub_is_not_done():
    def in_place(w, g, lr):
        w -= lr * g
        return w

    assert check.gd_update(in_place).passed  # the check hands over copies

    def stub(w, g, lr):
        raise NotImplementedError("Exercise gd_update")

    assert check.gd_update(stub).status == "not done"
    crashed = check.gd_update(lambda w, g, lr: np.linalg.inv(w))
    assert crashed.status == "failed" and "LinAlgError" in crashed.message
