"""REG-01: capacity. Polynomials of growing degree fitted to a few noisy samples underfit, then overfit."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse.memo import stored
from gdcourse.validate import as_rng, check_array, check_positive, check_positive_int

__all__ = ["CapacitySweep", "capacity_sweep", "legendre_features"]


@dataclass(frozen=True)
class CapacitySweep:
    """Least-squares polynomial fits of growing degree to ``n`` noisy samples of ``sin(πx)``.

    ``degrees (K,)``; ``train_mse``, ``val_mse (K,)``; ``x_train, y_train (n,)``;
    ``x_plot (P,)``, ``curves (K, P)`` the fitted polynomials; ``noise`` the target
    noise std (so ``noise²`` is the best achievable validation MSE).
    """

    degrees: np.ndarray
    train_mse: np.ndarray
    val_mse: np.ndarray
    x_train: np.ndarray
    y_train: np.ndarray
    x_plot: np.ndarray
    curves: np.ndarray
    noise: float

    @property
    def best_degree(self) -> int:
        return int(self.degrees[np.argmin(self.val_mse)])


def legendre_features(x, degree):
    """``[P_0(x), …, P_degree(x)]`` for ``x (N,)`` in [−1, 1]: shape ``(N, degree + 1)``.

    Legendre polynomials span the same space as ``1, x, …, x^d`` but stay well
    conditioned at high degree.
    """
    x = check_array(x, "x", ndim=1)
    degree = check_positive_int(degree, "degree", allow_zero=True)
    return np.polynomial.legendre.legvander(x, degree)


@stored
def capacity_sweep(degrees=range(0, 15), n_train=15, n_val=500, noise=0.25, rng=0) -> CapacitySweep:
    """Fit polynomials of each degree by least squares; measure train and validation MSE.

    ``x ~ U(−1, 1)``, ``y = sin(πx) + N(0, noise²)``. Low degrees underfit (high
    training error), degrees near ``n_train − 1`` interpolate the noise (training
    error → 0, validation error explodes). The models are nested, so the training
    error can only fall as the degree grows.
    """
    degrees = np.array([check_positive_int(int(d), "degree", allow_zero=True) for d in degrees])
    n_train = check_positive_int(n_train, "n_train")
    if degrees.max() >= n_train:
        raise ValueError(f"degrees: expected degrees below n_train={n_train}, got up to {degrees.max()}")
    noise = check_positive(noise, "noise")
    rng = as_rng(rng)
    x_train, x_val = rng.uniform(-1, 1, n_train), rng.uniform(-1, 1, check_positive_int(n_val, "n_val"))
    y_train = np.sin(np.pi * x_train) + noise * rng.standard_normal(n_train)
    y_val = np.sin(np.pi * x_val) + noise * rng.standard_normal(len(x_val))
    x_plot = np.linspace(-1, 1, 300)
    train_mse, val_mse, curves = [], [], []
    for d in degrees:
        coef = np.linalg.lstsq(legendre_features(x_train, d), y_train, rcond=None)[0]
        train_mse.append(np.mean((legendre_features(x_train, d) @ coef - y_train) ** 2))
        val_mse.append(np.mean((legendre_features(x_val, d) @ coef - y_val) ** 2))
        curves.append(legendre_features(x_plot, d) @ coef)
    return CapacitySweep(degrees, np.array(train_mse), np.array(val_mse), x_train, y_train, x_plot,
                         np.array(curves), noise)
