"""The z-loss (PaLM): value by hand, gradient by central differences in float64, what it is invariant to."""

import numpy as np
import pytest

from gdcourse.gradcheck import numerical_gradient, relative_error
from gdcourse.losses import z_loss


def test_value_by_hand():
    # row 1: Z = e^0 + e^0 = 2; row 2: Z = e^{ln 3} = 3 (one class); weight 0.5
    logits = np.array([[0.0, 0.0], [np.log(3.0), -np.inf + 0.0 * 0]])
    logits[1, 1] = -1e3                                               # e^-1000 = 0 in float64
    loss, _ = z_loss(logits, weight=0.5)
    assert loss == pytest.approx(0.5 * (np.log(2.0) ** 2 + np.log(3.0) ** 2) / 2, rel=1e-12)


def test_gradient_against_central_differences_with_a_random_upstream_gradient():
    rng = np.random.default_rng(4)
    z = rng.normal(size=(6, 5)) * 3 + 2                               # log Z far from 0: a real pull
    upstream = rng.normal()                                           # the loss is a scalar
    _, grad = z_loss(z, weight=0.3)
    numeric = numerical_gradient(lambda x: upstream * z_loss(x, weight=0.3)[0], z.copy())
    assert relative_error(upstream * grad, numeric) <= 1e-6            # float64, central differences (h = 1e-5)


def test_zero_at_log_z_zero_and_no_overflow_for_large_logits():
    z = np.log(np.full((3, 4), 0.25))                                 # Z = 1 in every row
    loss, grad = z_loss(z)
    assert loss == pytest.approx(0.0, abs=1e-30) and np.abs(grad).max() < 1e-18
    loss, grad = z_loss(np.array([[1000.0, 0.0]]), weight=1e-4)       # naive exp would overflow
    assert loss == pytest.approx(1e-4 * 1000.0**2) and np.isfinite(grad).all()


def test_gradient_pushes_every_logit_of_a_row_the_same_way():
    # the gradient is 2·w·log Z·softmax / N: all entries share log Z's sign, so descent shifts the row as a whole
    z = np.random.default_rng(1).normal(size=(4, 6)) + 5
    _, grad = z_loss(z)
    assert (grad > 0).all()
    np.testing.assert_allclose(grad.sum(axis=1), 2e-4 * np.log(np.exp(z).sum(axis=1)) / 4, rtol=1e-12)


@pytest.mark.parametrize("bad, match", [(np.zeros(3), "logits"), (np.zeros((0, 3)), "logits"),
                                        (np.array([[np.nan, 0.0]]), "logits")])
def test_validates_logits(bad, match):
    with pytest.raises(ValueError, match=match):
        z_loss(bad)


def test_validates_weight():
    with pytest.raises(ValueError, match="weight"):
        z_loss(np.zeros((2, 3)), weight=-1.0)
