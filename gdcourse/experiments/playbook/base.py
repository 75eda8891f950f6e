"""What every playbook experiment starts from: the standardized digits and a ReLU MLP with a small
output layer (so the first loss is close to ln K)."""

from __future__ import annotations

from gdcourse import nn
from gdcourse.experiments import common
from gdcourse.validate import check_positive_int

__all__ = ["digits", "small_batch", "mlp"]


def digits():
    """The course's digits split (988 train / 359 val / 450 test), each pixel standardized with the
    training mean and std; read-only (:func:`gdcourse.experiments.common.digits`)."""
    return common.digits(standardized=True)


def small_batch(n: int = 32):
    """The first ``n`` training images of :func:`digits` and their labels: the batch to overfit."""
    n = check_positive_int(n, "n")
    data = digits()
    return data.X_train[:n], data.y_train[:n]


def mlp(sizes=(64, 64, 10), rng=0, out_scale=0.1, dropout=0.0, dropout_rng=None) -> nn.Sequential:
    """:func:`gdcourse.experiments.common.mlp` with the playbook's defaults: ReLU, He init, 64-64-10, and the
    output layer's initial weights scaled by ``out_scale``.

    A small output layer makes every class about equally likely at the start, so the initial
    cross-entropy is close to ``ln K``. ``dropout`` adds ``Dropout`` after each hidden ReLU with its
    own generator ``dropout_rng`` (default: ``rng``'s stream).
    """
    return common.mlp(sizes, out_scale=out_scale, dropout=dropout, rng=rng, dropout_rng=dropout_rng)
