"""PRAC-06: a hyperparameter chosen on training data always picks "no regularization"; on validation
data it has an interior optimum."""

from __future__ import annotations

import numpy as np

from gdcourse.validate import check_array

__all__ = ["ridge_path"]


def ridge_path(X_train, y_train, X_val, y_val, strengths) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation MSE of ridge regression ``w = (XᵀX + nλI)⁻¹ Xᵀy`` for each λ.

    Minimizes ``mean((Xw − y)²) + λ‖w‖²`` in closed form. The training error can only grow
    with λ, so choosing λ by training error always picks λ = 0.
    """
    X_train = check_array(X_train, "X_train", ndim=2)
    n, d = X_train.shape
    train, val = [], []
    for lam in np.asarray(strengths, dtype=float):
        w = np.linalg.solve(X_train.T @ X_train + n * lam * np.eye(d), X_train.T @ y_train)
        train.append(np.mean((X_train @ w - y_train) ** 2))
        val.append(np.mean((X_val @ w - y_val) ** 2))
    return np.array(train), np.array(val)
