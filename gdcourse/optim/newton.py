"""Newton's method (with Levenberg damping) for small problems."""

from __future__ import annotations

import numpy as np

from gdcourse.optim.base import Optimizer
from gdcourse.validate import check_positive

__all__ = ["Newton"]


class Newton(Optimizer):
    """Newton's method: a step to the minimum of the local quadratic model.

    ``hessian()`` (called with no arguments) returns the (P, P) Hessian of the
    loss at the current parameters, P the total number of parameter entries in
    the order of ``params`` (each flattened in C order). With damping δ
    (Levenberg, 1944), the step solves::

        (H + δ I) d = g
        θ ← θ − γ d

    On a quadratic ½ θᵀAθ − bᵀθ with γ = 1 and δ = 0 it lands on the minimum in
    one step. It costs O(P³) per step: for landscapes and small convex problems.
    """

    def __init__(self, params, hessian, lr=1.0, damping=0.0):
        super().__init__(params, lr)
        if not callable(hessian):
            raise TypeError(
                f"hessian: expected a callable returning the (P, P) Hessian, got {type(hessian).__name__}"
            )
        self.hessian = hessian
        self.damping = check_positive(damping, "damping", allow_zero=True)
        self.num_entries = sum(p.size for p in self.params)

    def step(self) -> None:
        """Solve for the Newton direction over all P entries at once, then update each group."""
        self._check_storage()
        self.t += 1
        g = np.concatenate([grad.ravel() for _, grad in self.groups])
        direction = self._solve(self._damped_hessian(), g)
        start = 0
        for value, _ in self.groups:
            stop = start + value.size
            value -= self.lr * direction[start:stop].reshape(value.shape)
            start = stop

    def _update(self, w, g, state):
        """Unused: the Newton direction couples every entry, so :meth:`step` solves for all of them at once."""
        raise TypeError("Newton updates all parameters together in step(); it has no per-group rule")

    def _damped_hessian(self):
        P = self.num_entries
        H = np.array(self.hessian(), dtype=np.float64)
        if H.shape != (P, P):
            raise ValueError(
                f"hessian(): expected a ({P}, {P}) array for {P} parameter entries, got shape {H.shape}"
            )
        if not np.isfinite(H).all():
            raise ValueError("hessian(): expected finite values, got NaN or inf")
        H[np.diag_indices(P)] += self.damping
        return H

    def _solve(self, H, g):
        try:
            return np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError(
                f"Newton.step: the Hessian plus damping={self.damping} is singular, so the Newton step "
                "is undefined; pass damping > 0 (e.g. damping=1e-3) to make H + damping*I invertible"
            ) from None

    def _hyper(self):
        return {"lr": self.lr, "damping": self.damping}
