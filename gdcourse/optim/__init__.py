"""Optimizers: first-order update rules, and Newton's method for small problems.

The contract every rule follows (stated once, as in CS231n's ``optim.py``)
--------------------------------------------------------------------------
``opt = Rule(params, lr=..., **hyper)`` then, once per mini-batch::

    opt.zero_grad()          # clear every Parameter.grad
    ...backward...           # the model adds dL/dθ into Parameter.grad
    opt.step()               # t += 1, then θ is updated in place from its grad

* ``params`` is an iterable of ``gdcourse.nn.Parameter`` (``model.parameters()``).
* ``opt.lr`` is the learning rate γ; assign to it between steps to schedule it.
* ``opt.t`` counts the steps taken; the rules below number steps from t = 1.
* Each rule is one method ``_update(w, g, state)`` that changes the array ``w``
  in place from the gradient ``g`` (never written) and its own ``state`` dict
  (moment buffers, zeros until the first step). ``_update`` follows the rule's
  docstring formula line by line, in plain NumPy; a running average
  ``v ← ρ v + (1 − ρ) g²`` is written ``v *= rho; v += (1 - rho) * g**2`` so
  that the buffer keeps its storage (as in ``torch.optim``). Only ``Adam`` (and
  ``AdamW``) computes through scratch buffers instead, because there it pays
  (see the comment in ``Adam._update``).
* Update rules, argument names and defaults follow the pseudo-code of PyTorch's
  ``torch.optim`` documentation, so what is learned here transfers. In
  particular ``weight_decay`` λ is an L2 term added to the gradient,
  ``g ← g + λθ``, in every rule except ``AdamW``, which decays θ directly.

Why groups: ``Sequential`` packs all its parameters into one flat buffer (see
:mod:`gdcourse.nn.parameter`). When the optimizer is given exactly
those parameters it updates the flat buffer with one vectorized operation per
formula line instead of one per parameter array; the update of a small MLP is
dominated by that per-operation overhead. Otherwise each parameter is a group of
its own. The result is the same either way: every rule is elementwise.
"""

from __future__ import annotations

from gdcourse.optim.adaptive import Adadelta, Adagrad, Adam, AdamW, NAdam, RMSprop
from gdcourse.optim.base import Optimizer
from gdcourse.optim.layerwise import LAMB, LARS
from gdcourse.optim.newton import Newton
from gdcourse.optim.sgd import SGD
from gdcourse.optim.sign import Lion, SignSGD

__all__ = [
    "Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "NAdam", "Newton", "SignSGD", "Lion",
    "LARS", "LAMB", "OPTIMIZERS",
]

OPTIMIZERS = {
    "sgd": SGD, "adagrad": Adagrad, "adadelta": Adadelta, "rmsprop": RMSprop,
    "adam": Adam, "adamw": AdamW, "nadam": NAdam, "newton": Newton,
    "signsgd": SignSGD, "lion": Lion, "lars": LARS, "lamb": LAMB,
}
