"""Explorer of notebook 08: initialization scheme, gain, activation and depth.

It only wires controls to :func:`gdcourse.experiments.initialization.explore_init`
(the data) and to :func:`gdcourse.plots.initialization.init_profile_frame` (the picture, drawn once and
then updated in place).
"""

from __future__ import annotations

from gdcourse.experiments import initialization as E
from gdcourse.plots import initialization as P
from gdcourse.widgets import Explorer, dropdown, int_slider, log_slider

__all__ = ["init_explorer"]


def init_explorer(scheme="xavier", activation="tanh", depth=30, gain=1.0) -> Explorer:
    """Activation and gradient histograms of a few layers, activation std and weight-gradient norm per layer.

    Controls: ``scheme`` (zeros, small normal N(0, 0.01²), large normal N(0, 1),
    lecun, xavier, he), ``activation`` (tanh, relu, sigmoid), ``depth`` (2 … 50
    hidden layers of width 256) and ``gain`` (multiplies every weight; log scale
    0.1 … 10, steps of about 1.2 %). ``explorer.data`` is a
    :class:`~gdcourse.experiments.initialization.DepthProfile`.
    """
    controls = {
        "scheme": dropdown(list(E.EXPLORER_SCHEMES), scheme, "scheme", width="220px"),
        "activation": dropdown(["tanh", "relu", "sigmoid"], activation, "activation", width="180px"),
        "depth": int_slider(depth, 2, 50, "depth", width="260px"),
        "gain": log_slider(gain, -1, 1, "gain", step=0.005, width="300px"),
    }
    return Explorer(
        controls,
        compute=lambda scheme, activation, depth, gain: E.explore_init(scheme, activation, depth, gain),
        draw=lambda fig, profile, **_: P.init_profile_frame(fig, profile)[1],
        figsize=(9.5, 6.2),
        title="Initialization explorer: width 256, inputs N(0, 1), softmax head on random labels",
    )

