"""Edge of stability: the sharpness λmax during full-batch gradient descent on a small network.

On a quadratic, gradient descent with rate η is stable only while λmax < 2/η (GD-03). On a network the
curvature is not fixed: during full-batch training λmax first *rises* (progressive sharpening) until it
reaches about 2/η, and then hovers there while the loss keeps falling, non-monotonically (Cohen et al.
2021, "Gradient descent on neural networks typically occurs at the edge of stability"). λmax is measured
by power iteration on Hessian-vector products (:mod:`gdcourse.curvature`), never by forming the Hessian.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import losses
from gdcourse.curvature import hessian_vector_product, model_gradient, power_iteration
from gdcourse.experiments.common import cached, digits, mlp
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = ["SharpnessRun", "digits_regression", "sharpness_during_gd"]


@dataclass(frozen=True)
class SharpnessRun:
    """``steps`` (K,) where λmax was measured, ``sharpness`` (K,), ``loss`` (T + 1,) per step, ``lr``."""

    steps: np.ndarray
    sharpness: np.ndarray
    loss: np.ndarray
    lr: float

    @property
    def threshold(self) -> float:
        """2/η, the stability limit of gradient descent on a quadratic."""
        return 2.0 / self.lr


def digits_regression(n: int = 256):
    """The first ``n`` standardized digits training images ``(n, 64)`` and one-hot targets ``(n, 10)``."""
    n = check_positive_int(n, "n")
    ds = digits(standardized=True)
    X = np.asarray(ds.X_train[:n], dtype=np.float64)
    return X, np.eye(10)[ds.y_train[:n]]


@cached
def sharpness_during_gd(lr: float = 0.5, steps: int = 600, every: int = 20, width: int = 32, n: int = 256,
                        power_iters: int = 20, rng=0) -> SharpnessRun:
    """Full-batch GD with rate ``lr`` on a 64-``width``-10 tanh MLP (MSE on one-hot digits targets).

    Every ``every`` steps λmax of the loss Hessian is estimated by ``power_iters`` power iterations on
    central-difference Hessian-vector products (each costs two gradients). ``rng`` seeds the network's
    initialization and the power iteration's start vectors.
    """
    lr, steps = check_positive(lr, "lr"), check_positive_int(steps, "steps")
    every, power_iters = check_positive_int(every, "every"), check_positive_int(power_iters, "power_iters")
    rng = as_rng(rng)
    X, Y = digits_regression(n)
    model = mlp((64, check_positive_int(width, "width"), 10), activation="tanh", init="xavier_normal", rng=rng)
    loss = losses.MSELoss()
    w, grad, load = model_gradient(model, loss, X, Y)
    measured_at, sharpness, history = [], [], []
    for t in range(steps + 1):
        if t % every == 0:
            result = power_iteration(lambda v, w=w: hessian_vector_product(grad, w, v), w.size, rng=rng,
                                     iters=power_iters, tol=1e-4)
            measured_at.append(t)
            sharpness.append(result.eigenvalue)
        g = grad(w)                                   # loads w and runs forward: the loss comes for free
        history.append(loss.forward(model.forward(X), Y))
        if t < steps:
            w = w - lr * g
    load(w)
    return SharpnessRun(np.array(measured_at), np.array(sharpness), np.array(history), float(lr))
