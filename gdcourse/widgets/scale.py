"""The explorer of notebook 11: Adam's step after a jump in gradient scale, for any β₁, β₂ and jump size.

It wires controls to :func:`gdcourse.experiments.scale.gradient_jump` (the data, one closed-form pass of
Adam's moment filters) and :func:`gdcourse.plots.scale.draw_jump_explorer` (the picture).
"""

from __future__ import annotations

from gdcourse.experiments import scale as E
from gdcourse.plots import scale as P
from gdcourse.widgets import Explorer, dropdown, log_slider, slider

__all__ = ["adam_jump_explorer"]

BETA2_CHOICES = [0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999]


def adam_jump_explorer(beta2=0.999, beta1=0.9, factor=100.0) -> Explorer:
    """Adam's |Δθ|/lr when the gradient scale jumps by ``factor`` after 2,000 steady steps.

    Controls: ``beta2`` (its averaging horizon is 1/(1 − β₂) steps), ``beta1`` and ``factor`` (log scale
    1 … 10⁴). ``explorer.data`` is a :class:`~gdcourse.experiments.scale.JumpRun`.
    """
    controls = {
        "beta2": dropdown(BETA2_CHOICES, beta2, "β₂", width="150px"),
        "beta1": slider(beta1, 0.0, 0.99, 0.01, "β₁", readout_format=".2f", width="300px"),
        "factor": log_slider(factor, 0, 4, "gradient scale ×", step=0.1),
    }
    return Explorer(
        controls,
        compute=lambda beta2, beta1, factor: E.gradient_jump(beta2=beta2, factor=factor, beta1=beta1),
        draw=P.draw_jump_explorer,
        title="Adam after a jump in gradient scale",
    )
