"""The explorer of notebook 11 follows its controls: data and picture change, and the picture shows the data."""

import numpy as np

from gdcourse.experiments import scale as E
from gdcourse.widgets import scale as W


def test_adam_jump_explorer_follows_beta2_and_factor():
    explorer = W.adam_jump_explorer()
    first_image, first = explorer.image.value, explorer.data
    assert first.betas == (0.9, 0.999)
    explorer.set(beta2=0.95)
    assert explorer.data.betas == (0.9, 0.95)
    assert explorer.data.step_ratio[2000:].max() < first.step_ratio[2000:].max() / 4
    assert explorer.image.value != first_image
    explorer.set(factor=1.0)   # no jump: the step stays at lr
    assert np.abs(explorer.data.step_ratio[2000:] - 1).max() < 0.2


def test_the_plotted_line_is_the_computed_run():
    explorer = W.adam_jump_explorer(beta2=0.99, beta1=0.8, factor=10.0)
    run = E.gradient_jump(beta2=0.99, beta1=0.8, factor=10.0)
    np.testing.assert_array_equal(explorer.data.step_ratio, run.step_ratio)
    line = explorer.figure.axes[0].lines[0]
    np.testing.assert_allclose(line.get_ydata(), run.step_ratio[run.jump_at - 20:run.jump_at + 300])
