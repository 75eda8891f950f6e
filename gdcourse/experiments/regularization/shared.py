"""What the experiments of notebook 07 share: the digits split, the MLP builder, the weight matrices,
and one trained digits network (the pruning experiment prunes it, the distillation one uses it as teacher).

Conventions: the L2 penalty is ``(λ/2)‖w‖²`` with gradient ``λw`` and the L1 penalty ``λ‖w‖₁`` (as
:mod:`gdcourse.regularization`); penalties act on weight matrices, not biases.
"""

from __future__ import annotations

import functools

from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse.experiments.common import digits, mlp, one_blas_thread, read_only, trained_model
from gdcourse.train import fit
from gdcourse.validate import check_positive_int

__all__ = ["digits", "mlp", "read_only", "one_blas_thread", "weight_matrices", "trained_digits_mlp"]


def weight_matrices(model) -> list:
    """The parameters of ``model`` with 2 or more dimensions (the weights; biases and 1-D scales excluded)."""
    return [p for p in model.parameters() if p.value.ndim >= 2]


def trained_digits_mlp(hidden=128, epochs=20, rng=0) -> nn.Sequential:
    """A fresh copy of a ``64-hidden-10`` ReLU network trained on all 988 training digits.

    SGD (lr 0.05, momentum 0.9), batches of 32, ``epochs`` epochs, seed ``rng`` (an int) for the
    initialization and the batch order. Training runs once per setting; callers may modify the copy.
    """
    hidden, epochs = check_positive_int(hidden, "hidden"), check_positive_int(epochs, "epochs")
    return trained_model(*_digits_recipe(hidden, epochs), rng)


@functools.lru_cache(maxsize=4)
def _digits_recipe(hidden, epochs):
    """``(build, train)`` for one setting, the same pair on every call (so the trained weights are reused)."""

    def build(seed):
        return mlp((64, hidden, 10), rng=seed)

    def train(model, seed):
        ds = digits()
        fit(model, L.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
            (ds.X_train, ds.y_train), epochs=epochs, batch_size=32, progress=False, rng=seed)

    return build, train
