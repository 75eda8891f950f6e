"""Lazy training and the neural tangent kernel: the wider the network, the less its weights move.

Under the standard parameterization with a fixed learning rate, each of the m hidden units of a
two-layer network needs to move only O(1/√m) to change the output by O(1), while ‖W₀‖ grows like √m:
the relative change ‖W_T − W₀‖ / ‖W₀‖ falls like 1/√m. In the limit the network stays close to its
linearization around W₀ and trains like a kernel method with the neural tangent kernel
``K(x, x') = ∇_θ f(x)ᵀ ∇_θ f(x')`` (Jacot et al. 2018; Chizat et al. 2019, "On lazy training").
"""

from __future__ import annotations

import numpy as np

from gdcourse import losses
from gdcourse.curvature import model_gradient
from gdcourse.experiments.common import cached, mlp
from gdcourse.experiments.gd.sharpness import digits_regression
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = ["relative_weight_change", "weight_change_by_width"]


@cached
def relative_weight_change(width: int, lr: float = 0.5, steps: int = 100, n: int = 128, rng=0) -> tuple:
    """``(‖W_T − W₀‖/‖W₀‖ of the hidden layer, final loss)`` after ``steps`` full-batch GD steps.

    Network 64-``width``-10 tanh, Xavier-normal init (standard parameterization), MSE on one-hot
    digits targets; the same rate for every width.
    """
    width, steps = check_positive_int(width, "width"), check_positive_int(steps, "steps")
    lr = check_positive(lr, "lr")
    X, Y = digits_regression(n)
    model = mlp((64, width, 10), activation="tanh", init="xavier_normal", rng=as_rng(rng))
    loss = losses.MSELoss()
    w, grad, load = model_gradient(model, loss, X, Y)
    hidden = model.parameters()[0].value.size        # the first Linear's weight comes first
    w0 = w.copy()
    for _ in range(steps):
        w = w - lr * grad(w)
    load(w)
    final = loss.forward(model.forward(X), Y)
    change = np.linalg.norm(w[:hidden] - w0[:hidden]) / np.linalg.norm(w0[:hidden])
    return float(change), float(final)


def weight_change_by_width(widths=(16, 64, 256, 1024), seeds=5, **kwargs) -> np.ndarray:
    """``(len(widths), seeds)`` relative hidden-weight changes, seeds 0 … seeds − 1."""
    seeds = check_positive_int(seeds, "seeds")
    return np.array([[relative_weight_change(int(m), rng=s, **kwargs)[0] for s in range(seeds)]
                     for m in widths])
