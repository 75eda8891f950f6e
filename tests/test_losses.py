"""Losses: values by hand, gradients by central differences, extremes, bad input."""

import math

import numpy as np
import pytest

from gdcourse import losses as L
from gdcourse.gradcheck import numerical_gradient, relative_error

RNG = np.random.default_rng(0)


def _check_grad(loss, pred, target, tol=1e-7):
    loss.forward(pred, target)
    analytic = loss.backward()
    numeric = numerical_gradient(lambda p: loss.forward(p, target), pred.copy())
    assert relative_error(analytic, numeric) <= tol


@pytest.mark.parametrize("loss", [L.MSELoss(), L.L1Loss(), L.HuberLoss(delta=0.7)])
def test_regression_loss_gradients(loss):
    pred = RNG.normal(size=(6, 3))
    target = pred + RNG.choice([-1, 1], size=pred.shape) * RNG.uniform(0.1, 2.0, size=pred.shape)  # no ties
    _check_grad(loss, pred, target)


def test_regression_loss_values_by_hand():
    pred = np.array([[1.0, 2.0], [3.0, -1.0]])
    target = np.array([[0.0, 2.0], [1.0, 1.0]])
    # residuals 1, 0, 2, -2
    assert L.MSELoss()(pred, target) == pytest.approx((1 + 0 + 4 + 4) / 4)
    assert L.L1Loss()(pred, target) == pytest.approx((1 + 0 + 2 + 2) / 4)
    # Huber with delta 1: 0.5*1, 0, 1*(2-0.5), 1*(2-0.5)
    assert L.HuberLoss(1.0)(pred, target) == pytest.approx((0.5 + 0 + 1.5 + 1.5) / 4)


def test_bce_gradients_and_value():
    p = RNG.uniform(0.05, 0.95, size=(8, 1))
    y = (RNG.random((8, 1)) > 0.5).astype(float)
    _check_grad(L.BCELoss(), p, y)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert L.BCELoss()(p, y) == pytest.approx(expected)


def test_bce_with_logits_matches_bce_on_sigmoid_and_gradient():
    z = RNG.normal(size=(10, 1)) * 3
    y = (RNG.random((10, 1)) > 0.5).astype(float)
    p = 1 / (1 + np.exp(-z))
    assert L.BCEWithLogitsLoss()(z, y) == pytest.approx(L.BCELoss()(p, y), rel=1e-10)
    _check_grad(L.BCEWithLogitsLoss(), z, y)


def test_cross_entropy_gradient_sparse_and_categorical():
    z = RNG.normal(size=(7, 4))
    labels = RNG.integers(0, 4, size=7)
    _check_grad(L.CrossEntropyLoss(), z, labels)
    probs = RNG.dirichlet(np.ones(4), size=7)
    _check_grad(L.CrossEntropyLoss(), z, probs)
    _check_grad(L.CrossEntropyLoss(label_smoothing=0.1), z, labels)


def test_sparse_and_categorical_cross_entropy_agree():
    z = RNG.normal(size=(9, 5))
    labels = RNG.integers(0, 5, size=9)
    one_hot = np.eye(5)[labels]
    sparse, categorical = L.CrossEntropyLoss(), L.CrossEntropyLoss()
    assert sparse(z, labels) == pytest.approx(categorical(z, one_hot), rel=1e-12)
    np.testing.assert_allclose(sparse.backward(), categorical.backward(), atol=1e-15)


def test_cross_entropy_value_by_hand_and_label_smoothing():
    z = np.array([[2.0, 0.0, -1.0]])
    log_z = math.log(math.exp(2) + 1 + math.exp(-1))
    logp = np.array([2 - log_z, 0 - log_z, -1 - log_z])
    assert L.CrossEntropyLoss()(z, np.array([1])) == pytest.approx(-logp[1])
    eps = 0.3
    smoothed = (1 - eps) * np.array([0, 1, 0]) + eps / 3
    assert L.CrossEntropyLoss(label_smoothing=eps)(z, np.array([1])) == pytest.approx(-(smoothed * logp).sum())


def test_untrained_classifier_loss_is_log_of_class_count():
    """With near-zero logits every class gets 1/C, so the loss is log C (CS231n's sanity check)."""
    classes = 10
    z = RNG.normal(scale=1e-3, size=(500, classes))
    y = RNG.integers(0, classes, size=500)
    assert L.CrossEntropyLoss()(z, y) == pytest.approx(math.log(classes), abs=1e-2)


def test_extremes_are_finite_and_raise_no_warnings():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        ce = L.CrossEntropyLoss()
        value = ce(z, np.array([1, 2]))
        assert math.isfinite(value) and value == pytest.approx(2e4 / 2)
        assert np.all(np.isfinite(ce.backward()))
        logits = np.array([[1e4], [-1e4], [1e4], [-1e4]])
        y = np.array([[1.0], [0.0], [0.0], [1.0]])
        bce = L.BCEWithLogitsLoss()
        assert bce(logits, y) == pytest.approx((0 + 0 + 1e4 + 1e4) / 4)
        assert np.all(np.isfinite(bce.backward()))
        p = np.array([[0.0], [1.0], [0.0], [1.0]])
        b = L.BCELoss()
        assert b(p, y) == pytest.approx((0 + 0 + 100 + 100) / 4)  # log(0) clamped at -100
        assert np.all(np.isfinite(b.backward()))


def test_float32_is_preserved():
    z = RNG.normal(size=(4, 3)).astype(np.float32)
    ce = L.CrossEntropyLoss()
    ce(z, np.array([0, 1, 2, 0]))
    assert ce.backward().dtype == np.float32
    mse = L.MSELoss()
    mse(z, np.zeros_like(z))
    assert mse.backward().dtype == np.float32


def test_labels_out_of_range():
    with pytest.raises(ValueError, match=r"target: expected labels in \[0, 2\] for 3 classes, got values from 0 to 3"):
        L.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 3]))


def test_wrong_label_count_and_shapes():
    with pytest.raises(ValueError, match="expected 2 labels"):
        L.CrossEntropyLoss()(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"expected target of shape \(4, 1\).*got \(4,\)"):
        L.MSELoss()(np.zeros((4, 1)), np.zeros(4))
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        L.BCELoss()(np.array([[1.5]]), np.array([[1.0]]))
    with pytest.raises(ValueError, match="summing to 1"):
        L.CrossEntropyLoss()(np.zeros((1, 2)), np.array([[0.7, 0.7]]))


def test_backward_before_forward():
    with pytest.raises(RuntimeError, match="backward was called before forward"):
        L.MSELoss().backward()
