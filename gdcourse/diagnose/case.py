"""A case of ``gdcourse diagnose``: a fault dealt by a seed, its broken run and its fixed run."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse.diagnose.faults import FAULTS, Fault, check_fault_name, fault_for_seed, fault_names
from gdcourse.diagnose.run import Run, run_setup
from gdcourse.validate import is_seed

__all__ = ["Case", "generate"]


@dataclass(frozen=True, eq=False)
class Case:
    """A case to diagnose: the fault, the broken run the learner sees and the fixed run."""

    seed: int
    fault: Fault
    broken: Run
    fixed: Run

    @property
    def choices(self) -> list[str]:
        """Fault names in the order the numbered list shows them."""
        return fault_names()

    def resolve(self, answer) -> str | None:
        """The fault name meant by ``answer``: a name, a title, or a 1-based number; None if unknown."""
        if isinstance(answer, (int, np.integer)) and not isinstance(answer, bool):
            return self.choices[answer - 1] if 1 <= answer <= len(self.choices) else None
        if not isinstance(answer, str):
            return None
        text = _normalized(answer)
        if text.isdigit():
            return self.resolve(int(text))
        for name, fault in FAULTS.items():
            if text in (name, _normalized(fault.title)):
                return name
        return None

    def is_correct(self, answer) -> bool:
        return self.resolve(answer) == self.fault.name


def _normalized(text: str) -> str:
    return text.strip().lower().replace("-", "_").replace(" ", "_")


def generate(seed: int, fault: str | None = None) -> Case:
    """The case of ``seed``: a fault chosen by the seed (or the one named) and both runs, seeded by ``seed``.

    Consecutive seeds cycle through all faults before one repeats; the same seed gives the
    same case (and the runs are cached, so asking again is instant).
    """
    if not is_seed(seed):
        raise ValueError(f"seed: expected an int seed >= 0, got {seed!r}")
    seed = int(seed)
    chosen = fault_for_seed(seed) if fault is None else check_fault_name(fault)
    return Case(seed, chosen, run_setup(chosen.broken, seed), run_setup(chosen.fixed, seed))
