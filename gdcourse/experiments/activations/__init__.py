"""Computations behind notebook 05 (neurons, activations, architecture basics) and its explorer.

Every function here is pure (random ones take ``rng``), so the notebook, the explorer of
:mod:`gdcourse.widgets.activations` and ``tests/test_nb05_claims.py`` run the same code.

Sub-modules:

* :mod:`.curves` — activations and their derivatives.
* :mod:`.gradients` — vanishing gradients through depth; Jacobians of sigmoid and softmax.
* :mod:`.linearity` — linear layers that collapse, ReLU networks that are linear, the bias.
* :mod:`.dying` — dying ReLU.
* :mod:`.perceptron` — the perceptron and XOR.
* :mod:`.sawtooth` — depth vs width.
* :mod:`.outputs` — cross-entropy vs MSE, sparse vs one-hot targets.
* :mod:`.explorer` — the activation explorer.
* :mod:`.glu` — gated feed-forward blocks (SwiGLU, GEGLU) and their parameter count.
"""

from gdcourse.experiments.activations.curves import (
    ACTIVATION_NAMES,
    LABELS,
    ActivationCurve,
    activation_curve,
    activation_layer,
    derivative_peak,
    one_sided_derivatives,
)
from gdcourse.experiments.activations.dying import DYING_SETTINGS, DyingReLURun, dying_relu_run, dying_relu_seeds
from gdcourse.experiments.activations.explorer import EXPLORER_NAMES, ActivationFit, explore_activation
from gdcourse.experiments.activations.glu import GatedFeedForward, feed_forward_parameters, glu_hidden_width
from gdcourse.experiments.activations.gradients import (
    JacobianCheck,
    SigmoidGainSweep,
    check_jacobian,
    deep_gradient_norms,
    moons,
    numerical_jacobian,
    sigmoid_gain_sweep,
)
from gdcourse.experiments.activations.linearity import (
    XORCloudFit,
    fit_shifted_line,
    fit_xor_clouds,
    merge_linear_layers,
    relu_identity_network,
    separable_data,
)
from gdcourse.experiments.activations.outputs import (
    ConfidentWrongRun,
    confident_wrong_run,
    cross_entropy_formats,
    logit_gradients,
)
from gdcourse.experiments.activations.perceptron import (
    AND_Y,
    XOR_SEEDS,
    XOR_X,
    XOR_Y,
    PerceptronRun,
    mistake_bound,
    perceptron_update,
    train_perceptron,
    train_xor_model,
    xor_relu_network,
    xor_step_network,
    xor_success,
)
from gdcourse.experiments.activations.sawtooth import (
    count_linear_pieces,
    sawtooth_knots,
    sawtooth_network,
    shallow_relu_interpolant,
    tent_network,
)

__all__ = [
    "ACTIVATION_NAMES", "LABELS", "activation_layer", "ActivationCurve", "activation_curve",
    "derivative_peak", "one_sided_derivatives",
    "deep_gradient_norms", "SigmoidGainSweep", "sigmoid_gain_sweep",
    "numerical_jacobian", "JacobianCheck", "check_jacobian",
    "merge_linear_layers", "XORCloudFit", "fit_xor_clouds", "relu_identity_network", "separable_data",
    "moons", "DyingReLURun", "dying_relu_run", "DYING_SETTINGS", "dying_relu_seeds",
    "XOR_X", "XOR_Y", "AND_Y", "perceptron_update", "PerceptronRun", "train_perceptron", "mistake_bound",
    "xor_step_network", "xor_relu_network", "train_xor_model", "xor_success", "XOR_SEEDS",
    "fit_shifted_line",
    "tent_network", "sawtooth_network", "sawtooth_knots", "shallow_relu_interpolant", "count_linear_pieces",
    "logit_gradients", "ConfidentWrongRun", "confident_wrong_run", "cross_entropy_formats",
    "EXPLORER_NAMES", "ActivationFit", "explore_activation",
    "GatedFeedForward", "glu_hidden_width", "feed_forward_parameters",
]
