"""Gradient descent on non-convex landscapes: basins of attraction, saddle points, minima in many dimensions,
and how much a small network's result depends on its start.
"""

from __future__ import annotations

import numpy as np

from gdcourse import landscapes, losses, optim
from gdcourse.data import make_xor
from gdcourse.experiments.common import mlp
from gdcourse.experiments.gd.descent import check_lr
from gdcourse.memo import stored
from gdcourse.train import fit
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = ["basins_of_attraction", "steps_to_escape", "positive_definite_fraction", "final_losses_by_width"]


def basins_of_attraction(landscape, lr, steps, n=100, tol=1e-3):
    """Run GD from every start on an ``n × n`` grid at once and label the minimum each run reaches.

    Returns
    -------
    X, Y : ndarray (n, n)
        The starts (``meshgrid`` layout over ``landscape.bounds``).
    labels : ndarray (n, n) of int
        Index into ``landscape.minima`` of the minimum within ``tol`` of the final
        point, or −1 when the run ended near none (not converged, or diverged).
    """
    if not isinstance(landscape, landscapes.Landscape):
        raise TypeError(f"landscape: expected a Landscape, got {type(landscape).__name__}")
    if not landscape.minima:
        raise ValueError(f"landscape: {landscape!r} has no minima to reach")
    lr = check_lr(lr)
    steps = check_positive_int(steps, "steps", allow_zero=True)
    n = check_positive_int(n, "n")
    tol = check_positive(tol, "tol")
    (x0, x1), (y0, y1) = landscape.bounds
    X, Y = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    points = np.stack([X, Y])
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            points = points - lr * landscape.gradient(points)
    minima = np.stack(landscape.minima)  # (q, 2)
    distances = np.hypot(points[0][None] - minima[:, 0, None, None],
                         points[1][None] - minima[:, 1, None, None])  # (q, n, n)
    distances = np.where(np.isfinite(distances), distances, np.inf)
    nearest = np.argmin(distances, axis=0)
    labels = np.where(np.min(distances, axis=0) <= tol, nearest, -1)
    return X, Y, labels


def steps_to_escape(path, radius=1.0):
    """After its closest approach to a saddle point, the first step at which ``path`` is ``radius`` away.

    ``path`` is a ``landscapes.Path`` on a landscape with ``saddle_points``. Returns
    an int, or None when the run never gets that far again (it stayed stuck).
    """
    if not isinstance(path, landscapes.Path) or not path.landscape.saddle_points:
        raise ValueError("path: expected a landscapes.Path on a landscape with saddle points")
    radius = check_positive(radius, "radius")
    saddles = np.stack(path.landscape.saddle_points)  # (q, 2)
    gaps = path.points[:, None, :] - saddles[None]
    distance = np.min(np.sqrt(np.sum(gaps * gaps, axis=2)), axis=1)  # (k + 1,)
    closest = int(np.argmin(distance))
    later = np.nonzero(distance[closest:] >= radius)[0]
    return int(closest + later[0]) if later.size else None


def positive_definite_fraction(d, samples=20000, rng=0) -> float:
    """The fraction of random symmetric ``d × d`` matrices whose eigenvalues are all positive.

    The matrices are ``(A + Aᵀ)/2`` with ``A`` standard normal (the Gaussian
    orthogonal ensemble). A caricature of the Hessian at a random critical point:
    the fraction that would be minima falls faster than ``2^{-d}`` (Bray & Dean,
    2007; Dauphin et al., 2014). For d = 1 it is 1/2, for d = 2 ``(2 − √2)/4``.
    """
    d = check_positive_int(d, "d")
    samples = check_positive_int(samples, "samples")
    A = as_rng(rng).standard_normal((samples, d, d))
    eigenvalues = np.linalg.eigvalsh((A + np.swapaxes(A, 1, 2)) / 2.0)
    return float(np.mean(np.all(eigenvalues > 0, axis=1)))


@stored
def final_losses_by_width(widths=(2, 32), seeds=10, epochs=200, lr=0.5, n=100, rng=0) -> dict:
    """Final training loss of a tanh MLP ``2 → width → 1`` on XOR for several initial seeds.

    Full-batch gradient descent (``optim.SGD``, batch = all ``n`` points) on the
    binary cross-entropy, ``epochs`` steps. Returns ``{width: ndarray (seeds,)}``:
    how much the outcome depends on the start, for each width.
    """
    seeds = check_positive_int(seeds, "seeds")
    epochs = check_positive_int(epochs, "epochs")
    lr = check_positive(lr, "lr")
    X, y = make_xor(n=n, noise=0.25, rng=rng)
    targets = y[:, None].astype(np.float64)
    result = {}
    for width in widths:
        width = check_positive_int(width, "width")
        finals = []
        for seed in range(seeds):
            model = mlp((2, width, 1), activation="tanh", rng=seed, out_rng=seed + 1000)
            optimizer = optim.SGD(model.parameters(), lr=lr)
            history = fit(model, losses.BCEWithLogitsLoss(), optimizer, (X, targets), epochs=epochs,
                          batch_size=len(X), progress=False, rng=seed)
            finals.append(history["train_loss"][-1])
        result[width] = np.array(finals)
    return result
