"""Diagnose this run: training runs with one injected fault, for the learner to identify.

``generate(seed)`` deals a fault by seed and records its broken and its fixed run in a
:class:`Case`; consecutive seeds go through all faults before any repeats, and the same seed
always gives the same case. ``gdcourse diagnose`` plays it in a terminal, and
:func:`gdcourse.widgets.diagnose.diagnose_widget` in a notebook.

Modules:

* :mod:`~gdcourse.diagnose.run`: the run model, a training :class:`Setup` (with the fields that
  inject a fault) and the :class:`Run` it records (:func:`run_setup`), on the course's MLP and
  digits split;
* :mod:`~gdcourse.diagnose.faults`: the fault catalogue, :data:`FAULTS`, a table of :class:`Fault`;
* :mod:`~gdcourse.diagnose.case`: :class:`Case` and :func:`generate`;
* :mod:`~gdcourse.diagnose.render`: the text screens (sparklines, symptoms, choices, verdict);
* :mod:`~gdcourse.diagnose.command`: the ``gdcourse diagnose`` command.
"""

from gdcourse.diagnose.case import Case, generate
from gdcourse.diagnose.command import add_command, configure_parser, main, run_diagnose
from gdcourse.diagnose.faults import FAULTS, Fault, fault_names
from gdcourse.diagnose.render import (
    ASCII_LEVELS,
    BLOCKS,
    HEIGHT,
    WIDTH,
    choice_lines,
    outcome_lines,
    sparkline,
    symptom_lines,
)
from gdcourse.diagnose.run import (
    CHANCE,
    NUM_CLASSES,
    PROBE_SIZE,
    Run,
    Setup,
    SignFlippedCrossEntropy,
    build_model,
    run_setup,
)

__all__ = [
    "Setup", "Run", "Fault", "Case", "FAULTS", "fault_names", "build_model", "run_setup", "generate",
    "SignFlippedCrossEntropy",
    "sparkline", "symptom_lines", "outcome_lines", "choice_lines", "add_command", "configure_parser",
    "run_diagnose", "main",
    "NUM_CLASSES", "CHANCE", "PROBE_SIZE", "WIDTH", "HEIGHT", "BLOCKS", "ASCII_LEVELS",
]
