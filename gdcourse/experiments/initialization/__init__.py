"""Computations behind notebook 08 (initialization) and its explorer.

Every function here is pure (random ones take ``rng``), so the notebook, the explorer of
:mod:`gdcourse.widgets.initialization` and ``tests/test_nb08_claims.py`` run the same code.

The one formula behind the whole notebook: for ``z = Σ_{i=1}^{n_in} w_i x_i`` with independent,
zero-mean weights of variance ``Var(w)``,

    Var(z) = n_in · Var(w) · E[x²]                       (forward)
    Var(∂L/∂x) = n_out · Var(w) · Var(∂L/∂z)             (backward)

so each layer multiplies the second moment of the signal by ``n_in Var(w) c_φ``, where ``c_φ`` is
the share of it the activation keeps (1/2 for ReLU, about 1 for tanh near 0), and a deep network
raises that factor to the power of its depth.

Sub-modules, in the notebook's order:

* :mod:`.schemes` — the schemes and their variances, the orthogonal initializer.
* :mod:`.networks` — networks of one scheme and what flows through them.
* :mod:`.symmetry` — symmetry (INIT-01) and biases (INIT-02).
* :mod:`.factors` — forward and backward factors per layer, Jacobian singular values (INIT-03).
* :mod:`.depth` — layer-by-layer profiles at initialization and the explorer (INIT-04).
* :mod:`.training` — the diagnostics before training, deep networks trained on digits.
"""

from gdcourse.experiments.common import digits
from gdcourse.experiments.initialization.depth import (
    EXPLORER_BATCH,
    EXPLORER_SEED,
    EXPLORER_WIDTH,
    DepthProfile,
    ScaleSweep,
    default_hist_layers,
    depth_profile,
    explore_init,
    flat_gain,
    sigmoid_scale_sweep,
)
from gdcourse.experiments.initialization.factors import SignalFactors, jacobian_singular_values, signal_factors
from gdcourse.experiments.initialization.networks import (
    ACTIVATIONS,
    activation_stds,
    deep_mlp,
    is_activation,
    layer_activations,
    make_mlp,
    saturated_fraction,
    scale_sweep,
    second_moments,
    unit_spread,
)
from gdcourse.experiments.initialization.schemes import (
    CONSTANT_VALUE,
    EXPLORER_SCHEMES,
    LARGE_STD,
    SCHEMES,
    SMALL_STD,
    initializer,
    orthogonal,
    weight_variance,
)
from gdcourse.experiments.initialization.symmetry import SymmetryRun, prior_bias, symmetry_run
from gdcourse.experiments.initialization.training import DeepRun, InitReport, init_report, train_deep

__all__ = [
    "SCHEMES", "EXPLORER_SCHEMES", "ACTIVATIONS", "SMALL_STD", "LARGE_STD", "CONSTANT_VALUE",
    "weight_variance", "initializer", "orthogonal",
    "make_mlp", "deep_mlp", "is_activation", "layer_activations", "activation_stds", "second_moments",
    "saturated_fraction", "unit_spread", "scale_sweep",
    "SymmetryRun", "symmetry_run",
    "prior_bias",
    "SignalFactors", "signal_factors", "jacobian_singular_values",
    "DepthProfile", "depth_profile", "default_hist_layers", "flat_gain", "ScaleSweep", "sigmoid_scale_sweep",
    "InitReport", "init_report", "DeepRun",
    "train_deep",
    "EXPLORER_WIDTH", "EXPLORER_BATCH", "EXPLORER_SEED", "explore_init",
    "digits",
]
