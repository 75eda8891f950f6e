"""Explorer of notebook 05: an activation, its derivative and the 1-D regression fit it allows.

It only wires controls to :func:`gdcourse.experiments.activations.explore_activation`
(the data, cached per setting) and :func:`gdcourse.plots.activations.activation_fit_frame`
(the picture). The curve follows a dragged slider at once; the fit, a training run of
0.1-0.3 s per new setting, follows when it is ready (``refine``, see :mod:`gdcourse.widgets.staged`).
"""

from __future__ import annotations

from gdcourse.experiments import activations as E
from gdcourse.plots import activations as P
from gdcourse.widgets import Explorer, dropdown, slider
from gdcourse.widgets.staged import two_stage

__all__ = ["PARAMETERS", "activation_explorer"]

PARAMETERS = {"negative_slope": ("leaky_relu", "prelu"), "alpha": ("elu",), "approximate": ("gelu",)}
"""Each parameter control → the activations it belongs to; for the others it is disabled."""

_DEFAULTS = {"negative_slope": 0.01, "alpha": 1.0, "approximate": "none"}


def activation_explorer(name="relu", negative_slope=0.1, alpha=1.0, approximate="none") -> Explorer:
    """Choose an activation and its parameter; see f, f' (peak marked) and a 1-32-32-1 fit of sin(2x).

    Controls: ``name`` (every activation of :mod:`gdcourse.nn`), ``negative_slope``
    (leaky ReLU's slope, PReLU's initial slope; 0 … 1), ``alpha`` (ELU; 0 … 2) and
    ``approximate`` (GELU: "none" or "tanh"). A parameter control is enabled only while
    an activation it belongs to is chosen (:data:`PARAMETERS`). ``explorer.data`` is an
    :class:`~gdcourse.experiments.activations.ActivationFit` (while a new setting trains,
    one whose ``prediction`` and ``losses`` are None).
    """
    controls = {
        "name": dropdown([(E.LABELS[n], n) for n in E.EXPLORER_NAMES], name, "activation"),
        "negative_slope": slider(negative_slope, 0.0, 1.0, 0.01, "negative slope", width="260px"),
        "alpha": slider(alpha, 0.0, 2.0, 0.05, "ELU α", width="240px"),
        "approximate": dropdown(["none", "tanh"], approximate, "GELU approximation", width="220px"),
    }
    compute, refine = two_stage(quick=_curve, slow=E.explore_activation, combine=_combine, key=_key)
    explorer = Explorer(controls, compute=compute, refine=refine,
                        draw=lambda fig, fit, **_: P.activation_fit_frame(fig, fit)[1],
                        figsize=(10, 3.5), title="Activation explorer: function, derivative, and what it can fit")
    _enable_parameters(controls, controls["name"].value)
    controls["name"].observe(lambda change: _enable_parameters(controls, change["new"]), names="value")
    return explorer


def _setting(name, **values):
    """The parameters that matter for ``name``, the others at their defaults (the curve and the fit of it)."""
    return name, {p: values[p] if name in owners else _DEFAULTS[p] for p, owners in PARAMETERS.items()}


def _key(**values):
    name, params = _setting(**values)
    return name, *params.values()


def _curve(**values):
    name, params = _setting(**values)
    return E.activation_curve(name, **params), *E.derivative_peak(name, low=-4.0, high=4.0, num=8001, **params)


def _combine(cheap, fit):
    if fit is not None:
        return fit
    curve, peak_x, peak = cheap
    return E.ActivationFit(curve, peak_x, peak, None, None, None, None, None)


def _enable_parameters(controls, name):
    for parameter, owners in PARAMETERS.items():
        controls[parameter].disabled = name not in owners
