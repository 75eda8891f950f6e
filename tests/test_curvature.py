"""Hessian-vector products and power iteration against Hessians known in closed form."""

import numpy as np
import pytest

from gdcourse import losses, nn
from gdcourse.curvature import hessian_vector_product, model_gradient, power_iteration


def test_hvp_of_a_quadratic_is_exact_up_to_rounding():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(6, 6))
    A = M @ M.T + np.eye(6)
    w, v = rng.normal(size=6), rng.normal(size=6)
    np.testing.assert_allclose(hessian_vector_product(lambda x: A @ x, w, v), A @ v, rtol=1e-8)


def test_hvp_of_a_non_quadratic_matches_the_analytic_hessian():
    # f(w) = Σ exp(w_i) + w0² w1: H = diag(exp w) + [[2 w1, 2 w0], [2 w0, 0]] on the first two coordinates
    def grad(w):
        g = np.exp(w)
        g[0] += 2 * w[0] * w[1]
        g[1] += w[0] ** 2
        return g

    w, v = np.array([0.3, -0.7, 0.1]), np.array([1.0, 2.0, -1.0])
    H = np.diag(np.exp(w))
    H[0, 0] += 2 * w[1]
    H[0, 1] += 2 * w[0]
    H[1, 0] += 2 * w[0]
    np.testing.assert_allclose(hessian_vector_product(grad, w, v), H @ v, rtol=1e-7)


def test_hvp_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="w, v"):
        hessian_vector_product(lambda x: x, np.zeros(3), np.zeros(2))


def test_power_iteration_finds_the_top_eigenvalue():
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.normal(size=(20, 20)))
    eigenvalues = np.linspace(0.1, 5.0, 20)
    eigenvalues[-1] = 10.0  # a clear gap: |λ₂/λ₁| = 0.5
    A = Q @ np.diag(eigenvalues) @ Q.T
    result = power_iteration(lambda v: A @ v, 20, rng=2, tol=1e-12, iters=200)
    assert result.converged
    assert result.eigenvalue == pytest.approx(10.0, rel=1e-10)
    assert abs(result.vector @ Q[:, -1]) == pytest.approx(1.0, abs=1e-5)


def test_power_iteration_reports_the_sign_at_a_saddle():
    A = np.diag([1.0, -3.0])
    assert power_iteration(lambda v: A @ v, 2, rng=0, tol=1e-12, iters=500).eigenvalue == pytest.approx(-3.0)


def test_model_hessian_of_linear_least_squares_is_xtx_over_n():
    # MSELoss is the mean of (xw − y)² over N outputs, so for a linear model without bias H = 2 XᵀX / N.
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(40, 5)), rng.normal(size=(40, 1))
    model = nn.Sequential(nn.Linear(5, 1, bias=False, rng=rng))
    w0, grad, load = model_gradient(model, losses.MSELoss(), X, y)
    H = 2 * X.T @ X / 40
    v = rng.normal(size=5)
    np.testing.assert_allclose(hessian_vector_product(grad, w0, v), H @ v, rtol=1e-6)
    top = power_iteration(lambda u: hessian_vector_product(grad, w0, u), 5, rng=4, tol=1e-10, iters=500)
    assert top.eigenvalue == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-6)
    load(w0)
    np.testing.assert_array_equal(model.parameters()[0].value.ravel(), w0)
