"""Penalties, clipping and early stopping."""

import math

import numpy as np
import pytest

from gdcourse import nn
from gdcourse import regularization as R


def _params():
    w = nn.Parameter(np.array([[1.0, -2.0], [0.0, 3.0]]), "w")
    b = nn.Parameter(np.array([5.0, -5.0]), "b")
    return [w, b]


def test_penalty_values_apply_to_weights_only():
    w, b = _params()
    assert R.l1_penalty([w, b], 0.5) == pytest.approx(0.5 * (1 + 2 + 0 + 3))
    assert R.l2_penalty([w, b], 0.5) == pytest.approx(0.5 * 0.5 * (1 + 4 + 0 + 9))
    assert R.l2_penalty([w, b], 0.5, weights_only=False) == pytest.approx(0.25 * (14 + 50))


def test_penalty_gradients():
    w, b = _params()
    R.add_l1_grad([w, b], 0.1)
    np.testing.assert_allclose(w.grad, 0.1 * np.array([[1, -1], [0, 1]]))  # subgradient 0 at w = 0
    np.testing.assert_array_equal(b.grad, 0)
    w.zero_grad()
    R.add_l2_grad([w, b], 0.1)
    np.testing.assert_allclose(w.grad, 0.1 * w.value)


def test_l2_gradient_vanishes_near_zero_but_the_l1_gradient_does_not():
    """d/dw (λ/2)‖w‖² = λw shrinks with w; d/dw λ‖w‖₁ = λ sign(w) keeps its size however small w is.

    (The plain-norm penalty λ‖w‖ of REG-04 is tested in test_nb07_claims.py.)
    """
    for scale in (1e-1, 1e-3, 1e-6):
        w = nn.Parameter(np.array([[scale, -scale]]))
        R.add_l2_grad([w], 0.5)
        np.testing.assert_allclose(w.grad, [[0.5 * scale, -0.5 * scale]], rtol=1e-15)
        w.zero_grad()
        R.add_l1_grad([w], 0.5)
        np.testing.assert_array_equal(w.grad, [[0.5, -0.5]])


def test_clip_grad_norm_keeps_direction_clip_value_does_not():
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(1))
    a.grad, b.grad = np.array([3.0, 0.4]), np.array([-12.0])
    before = np.concatenate([a.grad, b.grad])
    global_norm = math.sqrt(3.0**2 + 0.4**2 + 12.0**2)              # 12.3758..., over both parameters
    assert R.global_grad_norm([a, b]) == pytest.approx(global_norm, rel=1e-15)
    total = R.clip_grad_norm([a, b], 1.0)
    after = np.concatenate([a.grad, b.grad])
    assert total == pytest.approx(global_norm, rel=1e-15)            # the norm before clipping
    # g · max_norm / (‖g‖ + 1e-6), as torch.nn.utils.clip_grad_norm_: length max_norm within 1e-7
    np.testing.assert_allclose(after, before * 1.0 / (global_norm + 1e-6), rtol=1e-15)
    assert np.linalg.norm(after) == pytest.approx(1.0, rel=1e-6)
    a.grad, b.grad = np.array([3.0, 0.4]), np.array([-12.0])
    R.clip_grad_value([a, b], 1.0)
    clipped = np.concatenate([a.grad, b.grad])
    np.testing.assert_allclose(clipped, [1.0, 0.4, -1.0])
    cosine = np.dot(clipped, before) / (np.linalg.norm(clipped) * np.linalg.norm(before))
    assert cosine < 0.9  # direction changed


def test_clip_grad_norm_leaves_small_gradients_alone():
    p, q = nn.Parameter(np.zeros(3)), nn.Parameter(np.zeros((1, 1)))
    p.grad, q.grad = np.array([0.1, 0.2, -0.2]), np.array([[0.4]])
    assert R.clip_grad_norm([p, q], 1.0) == pytest.approx(0.5, rel=1e-15)   # sqrt(0.01 + 0.04 + 0.04 + 0.16)
    np.testing.assert_array_equal(p.grad, [0.1, 0.2, -0.2])
    np.testing.assert_array_equal(q.grad, [[0.4]])
    assert R.clip_grad_norm([p, q], 0.5 + 1e-5) == pytest.approx(0.5)         # just below: still untouched
    np.testing.assert_array_equal(p.grad, [0.1, 0.2, -0.2])


def test_early_stopping_patience_and_restore():
    p = nn.Parameter(np.array([0.0]))
    stopper = R.EarlyStopping(patience=2)
    metrics = [1.0, 0.8, 0.9, 0.85, 0.95]
    stops = []
    for epoch, m in enumerate(metrics):
        p.value = np.array([float(epoch)])
        stops.append(stopper.step(m, [p]))
    # best at epoch 1; epochs 2 and 3 do not improve -> stop after epoch 3
    assert stops == [False, False, False, True, True]
    assert stopper.best_epoch == 1 and stopper.best == pytest.approx(0.8)
    stopper.restore([p])
    assert p.value[0] == 1.0


def test_early_stopping_min_delta_and_max_mode():
    stopper = R.EarlyStopping(patience=1, min_delta=0.1)
    assert not stopper.step(1.0)
    assert stopper.step(0.95)  # improvement smaller than min_delta does not count
    up = R.EarlyStopping(patience=1, mode="max")
    assert not up.step(0.5) and not up.step(0.6) and up.step(0.6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_norm: expected a number > 0, got -1"):
        R.clip_grad_norm([], -1)
    with pytest.raises(ValueError, match="mode: expected 'min' or 'max', got 'up'"):
        R.EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="strength: expected a number >= 0, got -0.1"):
        R.l2_penalty([], -0.1)
