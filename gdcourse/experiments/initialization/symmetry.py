"""Symmetry (INIT-01) and biases (INIT-02): equal weights give equal units forever; a prior bias starts a
sigmoid output at the base rate."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

from gdcourse import losses, optim, train
from gdcourse.experiments import common
from gdcourse.experiments.initialization.networks import _activation_class, unit_spread
from gdcourse.experiments.initialization.schemes import _check_scheme, initializer
from gdcourse.validate import check_positive, check_positive_int

__all__ = ["SymmetryRun", "symmetry_run", "prior_bias"]


@dataclass(frozen=True)
class SymmetryRun:
    """A one-hidden-layer network trained from one initialization.

    Per step (before its update): ``grad_norms (steps,)`` = ‖∂L/∂W₁‖ and
    ``grad_spreads (steps,)`` = :func:`unit_spread` of ∂L/∂W₁ (0: every hidden unit
    gets the same gradient). ``spreads (steps + 1,)``: :func:`unit_spread` of the
    hidden weights W₁ before each step and after the last. ``losses (steps,)``, the
    final ``hidden_weight (n_in, hidden)`` and ``test_accuracy``.
    """

    hidden_init: str
    output_init: str
    grad_norms: np.ndarray
    grad_spreads: np.ndarray
    spreads: np.ndarray
    losses: np.ndarray
    hidden_weight: np.ndarray
    test_accuracy: float

    @property
    def rank(self) -> int:
        """Numerical rank of the final hidden weights: 1 means every unit is the same."""
        return int(np.linalg.matrix_rank(self.hidden_weight))


@common.one_blas_thread
def symmetry_run(hidden_init, output_init, data, hidden=32, steps=200, lr=0.5, activation="tanh",
                 rng=0) -> SymmetryRun:
    """Full-batch gradient descent on ``Linear → activation → Linear`` with softmax cross-entropy.

    ``hidden_init`` / ``output_init``: schemes of the two weight matrices (biases 0);
    ``data``: a :class:`gdcourse.data.Dataset` (trained on its training part, accuracy on its test part).
    """
    _check_scheme(hidden_init)
    _check_scheme(output_init)
    steps = check_positive_int(steps, "steps")
    lr = check_positive(lr, "lr")
    model = common.mlp((data.num_features, check_positive_int(hidden, "hidden"), data.num_classes),
                       activation=_activation_class(activation), init=initializer(hidden_init),
                       out_init=initializer(output_init), rng=rng)
    first = model[0]
    loss, opt = losses.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr)
    spreads, values, grad_norms, grad_spreads = [unit_spread(first.weight.value)], [], [], []
    for _ in range(steps):
        model.zero_grad()
        values.append(loss.forward(model.forward(data.X_train), data.y_train))
        model.backward(loss.backward(), input_grad=False)
        grad_norms.append(float(np.linalg.norm(first.weight.grad)))
        grad_spreads.append(unit_spread(first.weight.grad))
        opt.step()
        spreads.append(unit_spread(first.weight.value))
    accuracy = train.accuracy(train.predict(model, data.X_test), data.y_test)
    return SymmetryRun(hidden_init, output_init, np.array(grad_norms), np.array(grad_spreads), np.array(spreads),
                       np.array(values), first.weight.value.copy(), accuracy)


def prior_bias(positive_rate) -> float:
    """The output bias ``log(π / (1 − π))`` that makes a sigmoid output start at the base rate ``π``.

    The initial binary cross-entropy is then the label entropy instead of ``ln 2``
    (used for the focal-loss detector, Lin et al., 2017).
    """
    if isinstance(positive_rate, bool) or not isinstance(positive_rate, numbers.Real) \
            or not 0 < positive_rate < 1:
        raise ValueError(f"positive_rate: expected a number in (0, 1), got {positive_rate!r}")
    return math.log(positive_rate / (1.0 - positive_rate))
