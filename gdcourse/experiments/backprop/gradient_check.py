"""Gradient checking: compare backpropagation with central differences ``(f(w + h) − f(w − h)) / 2h``
by their relative error, choose the step ``h``, and spot-check big networks on a few coordinates."""

from __future__ import annotations

import numpy as np

from gdcourse import gradcheck
from gdcourse.experiments.backprop.two_layer import _bce, two_layer_backward, two_layer_forward, two_layer_params
from gdcourse.gradcheck import central_difference  # re-exported: the mechanism notebook 04 shows
from gdcourse.nn.module import flat_buffers
from gdcourse.validate import as_rng, check_array, check_positive_int

__all__ = ["central_difference", "difference_errors", "spot_check"]


def spot_check(model, loss, X, y, num_coords=20, rng=0, eps=1e-6) -> float:
    """Worst relative error of backprop against :func:`central_difference` on ``num_coords`` random parameters.

    For a big network the full check costs two forward passes per parameter; a random subset of
    coordinates costs ``2 · num_coords`` and still catches a wrong layer with high probability.
    ``model`` must be a float64 ``Sequential``.
    """
    X = check_array(X, "X", finite=True)
    model.zero_grad()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward(), input_grad=False)          # backprop: every gradient at once
    values, grads = flat_buffers(model.parameters())           # every parameter, as one flat vector
    count = min(check_positive_int(num_coords, "num_coords"), values.size)
    picked = as_rng(rng).choice(values.size, size=count, replace=False)
    numeric = [central_difference(lambda: loss.forward(model.forward(X), y), values, i, eps) for i in picked]
    return gradcheck.relative_error(grads[picked], numeric)


def difference_errors(hs, dtype="float64", kind="central", rng=0) -> np.ndarray:
    """Relative error ``‖n − a‖ / (‖n‖ + ‖a‖)`` of a finite-difference gradient ``n``, one per step ``h``.

    The function is the binary cross-entropy of a ``3 → 4 → 1`` sigmoid network,
    differentiated with respect to ``W1``; the loss is evaluated in ``dtype``
    (``"float64"`` or ``"float32"``) and compared with the exact float64 backprop
    gradient ``a``. ``kind`` is ``"central"`` ((f(w + h) − f(w − h)) / 2h, error O(h²))
    or ``"forward"`` ((f(w + h) − f(w)) / h, error O(h)). The divisor is the step
    actually taken after rounding ``w ± h`` to ``dtype``; where that step is 0 (h
    below the spacing of the numbers) the entry is NaN.
    """
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype: expected 'float32' or 'float64', got {dtype}")
    if kind not in ("central", "forward"):
        raise ValueError(f"kind: expected 'central' or 'forward', got {kind!r}")
    rng = as_rng(rng)
    X, y = rng.standard_normal((16, 3)), (rng.random((16, 1)) < 0.5).astype(float)
    p = two_layer_params(3, 4, 1, rng, scale=2.0)
    out, _ = two_layer_forward(X, **p)
    exact = two_layer_backward(X, p["W1"], p["b1"], p["W2"], p["b2"], _bce(out, y)[1])[1]
    low = {k: v.astype(dtype) for k, v in p.items()}
    Xl, yl = X.astype(dtype), y.astype(dtype)

    def f(W1):
        out, _ = two_layer_forward(Xl, W1, low["b1"], low["W2"], low["b2"])
        return np.float64(np.mean(np.logaddexp(dtype.type(0), out) - yl * out))

    errors = []
    for h in np.asarray(hs, dtype=np.float64):
        numeric = np.empty_like(exact)
        for i in np.ndindex(exact.shape):
            up, down = low["W1"].copy(), low["W1"].copy()
            up[i] += dtype.type(h)
            if kind == "central":
                down[i] -= dtype.type(h)
            step = np.float64(up[i]) - np.float64(down[i])
            numeric[i] = (f(up) - f(down)) / step if step > 0 else np.nan
        errors.append(np.linalg.norm(numeric - exact) / (np.linalg.norm(numeric) + np.linalg.norm(exact)))
    return np.array(errors)
