"""The cost of gradients: central differences need two forward passes per parameter, backpropagation
one forward and one backward pass for all of them."""

from __future__ import annotations

import time
from dataclasses import dataclass

from gdcourse import gradcheck, losses, nn
from gdcourse.experiments import common
from gdcourse.nn.module import flat_buffers
from gdcourse.validate import as_rng, check_positive_int

__all__ = ["mlp", "mlp_flops", "BackpropCost", "finite_difference_cost"]


def _check_sizes(sizes):
    sizes = tuple(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes: expected at least (in, out), got {sizes!r}")
    for n in sizes:
        check_positive_int(n, "sizes entries")
    return sizes


def mlp(sizes, activation="tanh", init="xavier_normal", rng=None) -> nn.Sequential:
    """The notebook's MLP: :func:`gdcourse.experiments.common.mlp` with tanh and Xavier-normal weights.

    ``Linear`` layers of the given ``sizes`` with ``activation`` between them (none at the end).
    """
    return common.mlp(_check_sizes(sizes), activation=activation, init=init, rng=rng)


def mlp_flops(sizes, batch) -> tuple[int, int]:
    """Floating-point operations of the matrix products of an MLP: ``(forward, backward)``.

    A ``(N, a) @ (a, b)`` product costs ``2Nab`` (one multiply and one add per term).
    Forward: ``x W`` per layer. Backward: ``dW = xᵀ dy`` per layer and ``dx = dy Wᵀ``
    for every layer but the first (nobody needs the gradient of the data), so the
    backward pass costs just under twice the forward pass. Biases and activations
    are O(N·width) and left out.
    """
    sizes = _check_sizes(sizes)
    batch = check_positive_int(batch, "batch")
    products = [2 * batch * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    return sum(products), 2 * sum(products) - products[0]


@dataclass(frozen=True)
class BackpropCost:
    """Gradient of one loss by central differences vs by backpropagation.

    ``fd_forward_passes`` is counted (two per parameter); backprop takes one forward
    and one backward pass. Times are wall-clock seconds on this machine.
    """

    num_params: int
    fd_forward_passes: int
    fd_seconds: float
    backprop_seconds: float
    relative_error: float

    @property
    def speedup(self) -> float:
        return self.fd_seconds / self.backprop_seconds


def finite_difference_cost(sizes=(4, 16, 16, 1), batch=32, rng=0, eps=1e-6) -> BackpropCost:
    """Time and count the two ways of getting the gradient of an MSE loss of a tanh MLP.

    Central differences perturb each parameter up and down (``2P`` forward passes);
    backpropagation runs one forward and one backward pass. Both gradients are
    compared with :func:`gdcourse.gradcheck.relative_error`.
    """
    rng = as_rng(rng)
    model = mlp(sizes, rng=rng)
    X = rng.standard_normal((check_positive_int(batch, "batch"), sizes[0]))
    y = rng.standard_normal((batch, sizes[-1]))
    loss = losses.MSELoss()
    passes = 0

    def loss_value(_):
        nonlocal passes
        passes += 1
        return loss.forward(model.forward(X), y)

    start = time.perf_counter()
    model.zero_grad()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward(), input_grad=False)
    backprop_seconds = time.perf_counter() - start
    values, grads = flat_buffers(model.parameters())
    analytic = grads.copy()

    start = time.perf_counter()
    numeric = gradcheck.numerical_gradient(loss_value, values, eps)
    fd_seconds = time.perf_counter() - start
    return BackpropCost(values.size, passes, fd_seconds, backprop_seconds,
                        gradcheck.relative_error(analytic, numeric))
