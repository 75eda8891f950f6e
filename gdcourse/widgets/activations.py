"""Explorer of notebook 05: an activation, its derivative and the 1-D regression fit it allows.

It only wires controls to :func:`gdcourse.experiments.activations.explore_activation`
(the data, cached per setting) and :func:`gdcourse.plots.activations.draw_activation_fit`
(the picture).
"""

from __future__ import annotations

from gdcourse.experiments import activations as E
from gdcourse.plots import activations as P
from gdcourse.widgets import Explorer, dropdown, slider

__all__ = ["PARAMETERS", "activation_explorer"]

PARAMETERS = {"negative_slope": ("leaky_relu", "prelu"), "alpha": ("elu",), "approximate": ("gelu",)}
"""Each parameter control → the activations it belongs to; for the others it is disabled."""


def activation_explorer(name="relu", negative_slope=0.1, alpha=1.0, approximate="none") -> Explorer:
    """Choose an activation and its parameter; see f, f' (peak marked) and a 1-32-32-1 fit of sin(2x).

    Controls: ``name`` (every activation of :mod:`gdcourse.nn`), ``negative_slope``
    (leaky ReLU's slope, PReLU's initial slope; 0 … 1), ``alpha`` (ELU; 0 … 2) and
    ``approximate`` (GELU: "none" or "tanh"). A parameter control is enabled only while
    an activation it belongs to is chosen (:data:`PARAMETERS`). ``explorer.data`` is an
    :class:`~gdcourse.experiments.activations.ActivationFit`.
    """
    controls = {
        "name": dropdown([(E.LABELS[n], n) for n in E.EXPLORER_NAMES], name, "activation"),
        "negative_slope": slider(negative_slope, 0.0, 1.0, 0.01, "negative slope", width="260px"),
        "alpha": slider(alpha, 0.0, 2.0, 0.05, "ELU α", width="240px"),
        "approximate": dropdown(["none", "tanh"], approximate, "GELU approximation", width="220px"),
    }
    explorer = Explorer(controls, compute=E.explore_activation,
                        draw=lambda fig, fit, **_: P.draw_activation_fit(fig, fit),
                        figsize=(10, 3.5), title="Activation explorer: function, derivative, and what it can fit")
    _enable_parameters(controls, controls["name"].value)
    controls["name"].observe(lambda change: _enable_parameters(controls, change["new"]), names="value")
    return explorer


def _enable_parameters(controls, name):
    for parameter, owners in PARAMETERS.items():
        controls[parameter].disabled = name not in owners
