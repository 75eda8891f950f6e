"""Skip connection (He et al., 2016)."""

from __future__ import annotations

import numpy as np

from gdcourse.nn.module import Module

__all__ = ["Residual"]


class Residual(Module):
    """``y = x + F(x)``; backward ``dx = dy + F'(x)ᵀ dy``.

    The identity path passes ``dy`` back unchanged, so however small ``F``'s
    Jacobian gets, the gradient reaching earlier layers does not vanish.
    """

    def __init__(self, block: Module):
        super().__init__()
        if not isinstance(block, Module):
            raise TypeError(f"Residual: block is a {type(block).__name__}, expected a Module")
        self.block = block

    def forward(self, x):
        """``x + block(x)``; ``x`` is checked once here (see :meth:`Module._check_data`)."""
        x = np.asarray(x)
        y = self._contain(x, self.block.forward)
        if np.shape(y) != x.shape:
            raise ValueError(
                f"Residual: the block must keep the shape of its input, got {x.shape} -> {np.shape(y)}"
            )
        return self._keep(True, x + y)

    def backward(self, dy, input_grad=True):
        self._saved(dy)
        return dy + self.block.backward(dy)
