"""The optimizer race: the whole family on the same 2-D landscapes, from the same start."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gdcourse import landscapes, optim
from gdcourse.memo import stored
from gdcourse.validate import check_positive, check_positive_int, check_unit_interval

__all__ = ["RACE_OPTIMIZERS", "RACE_LANDSCAPES", "RACE_PRESETS", "race_landscape", "optimizer_factory", "race",
           "RaceData", "race_data", "tuned_final_gaps"]


RACE_OPTIMIZERS = ("GD", "momentum", "Nesterov", "Adagrad", "RMSprop", "Adadelta", "Adam", "AMSGrad", "NAdam",
                   "Newton")
"""Names the race understands (see :func:`optimizer_factory`)."""

RACE_LANDSCAPES = ("quadratic", "rosenbrock", "beale", "himmelblau", "saddle")

RACE_PRESETS = {
    "quadratic": {"lr": 0.02, "adaptive_lr": 0.3, "steps": 100},
    "rosenbrock": {"lr": 0.002, "adaptive_lr": 0.1, "steps": 300},
    "beale": {"lr": 0.003, "adaptive_lr": 0.1, "steps": 300},
    "himmelblau": {"lr": 0.01, "adaptive_lr": 0.1, "steps": 100},
    "saddle": {"lr": 0.05, "adaptive_lr": 0.05, "steps": 60},
}
"""Learning rates and step counts at which each landscape's lesson is visible."""


def race_landscape(name) -> landscapes.Landscape:
    """The race's version of a landscape: the quadratic is rotated (κ = 50, 30°) so no axis is special."""
    if name == "quadratic":
        return landscapes.Quadratic(condition_number=50.0, angle=math.pi / 6)
    if name == "saddle":
        saddle = landscapes.Saddle()
        saddle.start = np.array([-1.5, 0.2])
        return saddle
    return landscapes.get_landscape(name)


def optimizer_factory(name, lr=0.01, adaptive_lr=0.1, momentum=0.9, betas=(0.9, 0.999)):
    """A factory ``params -> optimizer`` for one race entry.

    GD, momentum and Nesterov use ``lr`` (units of 1/curvature); Adagrad, RMSprop
    and the Adam family use ``adaptive_lr`` (a step length in parameter units);
    RMSprop keeps PyTorch's smoothing α = 0.99; Adadelta uses PyTorch's defaults (no
    learning rate to tune); Newton uses the landscape's Hessian with step 1.
    """
    if name not in RACE_OPTIMIZERS:
        raise ValueError(f"name: expected one of {list(RACE_OPTIMIZERS)}, got {name!r}")
    lr, adaptive_lr = check_positive(lr, "lr"), check_positive(adaptive_lr, "adaptive_lr")
    momentum = check_unit_interval(momentum, "momentum")
    beta1, beta2 = check_unit_interval(betas[0], "betas[0]"), check_unit_interval(betas[1], "betas[1]")
    factories = {
        "GD": lambda ps: optim.SGD(ps, lr=lr),
        "momentum": lambda ps: optim.SGD(ps, lr=lr, momentum=momentum),
        "Nesterov": lambda ps: optim.SGD(ps, lr=lr, momentum=momentum, nesterov=momentum > 0),  # μ = 0: GD
        "Adagrad": lambda ps: optim.Adagrad(ps, lr=adaptive_lr),
        "RMSprop": lambda ps: optim.RMSprop(ps, lr=adaptive_lr),
        "Adadelta": lambda ps: optim.Adadelta(ps),
        "Adam": lambda ps: optim.Adam(ps, lr=adaptive_lr, betas=(beta1, beta2)),
        "AMSGrad": lambda ps: optim.Adam(ps, lr=adaptive_lr, betas=(beta1, beta2), amsgrad=True),
        "NAdam": lambda ps: optim.NAdam(ps, lr=adaptive_lr, betas=(beta1, beta2)),
        "Newton": landscapes.newton_factory(),
    }
    return factories[name]


def race(landscape, configs: dict, steps=100, x0=None) -> dict:
    """Run each ``configs[name]`` factory from the same start; returns dict name -> ``landscapes.Path``."""
    return {name: landscapes.run(factory, landscape, x0, steps) for name, factory in configs.items()}


@dataclass
class RaceData:
    """What the race explorer shows: the ``landscape`` and each optimizer's ``paths[name]``."""

    landscape: landscapes.Landscape
    paths: dict


def race_data(landscape="quadratic", optimizers=("GD", "momentum", "Adam"), lr=0.02, adaptive_lr=0.3,
              momentum=0.9, beta1=0.9, beta2=0.999, steps=100) -> RaceData:
    """The optimizer race of the explorer: the chosen optimizers on the chosen landscape."""
    if landscape not in RACE_LANDSCAPES:
        raise ValueError(f"landscape: expected one of {list(RACE_LANDSCAPES)}, got {landscape!r}")
    ls = race_landscape(landscape)
    betas = (beta1, beta2)
    configs = {name: optimizer_factory(name, lr, adaptive_lr, momentum, betas) for name in optimizers}
    return RaceData(ls, race(ls, configs, check_positive_int(steps, "steps")))


@stored
def tuned_final_gaps(landscape, optimizers, lrs, steps=200) -> dict:
    """Each optimizer tuned on one grid of learning rates: dict name -> ``(best lr, best f(x_T) − f*)``.

    Every contender gets the same ``lrs`` (used as ``lr`` by GD and momentum, as ``adaptive_lr`` by the
    adaptive methods), the same start and the same ``steps``: a comparison between methods that does
    not hand one of them its theoretically best rate and the others a guess. A diverged run counts as
    ``inf``.
    """
    steps = check_positive_int(steps, "steps")
    out = {}
    for name in optimizers:
        finals = []
        for lr in np.asarray(lrs, dtype=np.float64):
            path = landscapes.run(optimizer_factory(name, lr, lr), landscape, None, steps)
            final = path.values[-1]
            finals.append(final if np.isfinite(final) and not path.diverged else np.inf)
        best = int(np.argmin(finals))
        out[name] = (float(lrs[best]), float(finals[best]))
    return out
