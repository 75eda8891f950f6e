"""Computations behind notebook 04 (backpropagation and gradient flow) and its explorers.

Every function here is pure (random ones take ``rng``), so the notebook, the explorers of
:mod:`gdcourse.widgets.backprop` and ``tests/test_nb04_claims.py`` run the same code.

Backpropagation is reverse-mode automatic differentiation (Linnainmaa, 1970; Rumelhart, Hinton &
Williams, 1986): one forward pass caches what each layer needs, one backward pass applies the chain
rule layer by layer in reverse. It gives every parameter's gradient for a small constant times the
cost of the forward pass. Through ``L`` layers the gradient is multiplied by one Jacobian per layer,
``diag(f'(z_l)) W_lᵀ``; when those factors shrink (sigmoid: ``f' ≤ 1/4``) the product vanishes
exponentially with depth, when they grow it explodes, and a recurrent network multiplies by the same
matrix at every time step.

Sub-modules, in the notebook's order:

* :mod:`.cost` — the cost of gradients: central differences vs backpropagation, FLOPs.
* :mod:`.two_layer` — a one-hidden-layer network by hand, its training loop, a hidden unit's error term.
* :mod:`.graphs` — computational graphs for the graph explorer.
* :mod:`.depth` — gradient norms across depth, exploding gradients in training.
* :mod:`.recurrent` — recurrent networks: gradients through time, the LSTM cell path, clipping.
* :mod:`.gradient_check` — gradient checking: the step size, spot checks of big networks.
* :mod:`.double_backprop` — the gradient as a Value graph: exact Hessian-vector products on the scalar graph.
* :mod:`.hessian` — Hessian-vector products by differences of gradients, power iteration, conjugate gradients.
"""

from gdcourse.experiments.backprop.cost import BackpropCost, finite_difference_cost, mlp, mlp_flops
from gdcourse.experiments.backprop.depth import (
    ACTIVATIONS,
    INITS,
    DivergenceRun,
    GradientProfile,
    deep_mlp,
    depth_gradient_profile,
    divergence_run,
    divergence_seeds,
    vanishing_depth,
)
from gdcourse.experiments.backprop.double_backprop import gradient_graph, hessian_vector_product_exact
from gdcourse.experiments.backprop.gradient_check import central_difference, difference_errors, spot_check
from gdcourse.experiments.backprop.graphs import GraphView, graph_view, parse_values
from gdcourse.experiments.backprop.hessian import (
    CGResult,
    LogisticProblem,
    conjugate_gradient,
    hvp_errors,
    logistic_hessian,
    logistic_problem,
)
from gdcourse.experiments.backprop.lstm import (
    LSTMGradient,
    LSTMParams,
    lstm_cell_gradient,
    lstm_forward,
    lstm_params,
)
from gdcourse.experiments.backprop.recurrent import (
    RNNGradient,
    clipping_effect,
    forget_gate_path,
    rnn_gradient_vs_steps,
)
from gdcourse.experiments.backprop.two_layer import (
    HIDDEN_ERROR_SCENARIOS,
    SigmoidWithoutDerivative,
    hidden_error_terms,
    train_two_layer_by_hand,
    train_two_layer_with_package,
    two_layer_as_module,
    two_layer_backward,
    two_layer_forward,
    two_layer_params,
)

__all__ = [
    "mlp", "mlp_flops", "BackpropCost", "finite_difference_cost",
    "two_layer_forward", "two_layer_backward", "two_layer_params", "two_layer_as_module",
    "train_two_layer_by_hand", "train_two_layer_with_package",
    "parse_values", "GraphView", "graph_view",
    "ACTIVATIONS", "INITS", "deep_mlp", "GradientProfile", "depth_gradient_profile", "vanishing_depth",
    "DivergenceRun", "divergence_run", "divergence_seeds",
    "RNNGradient", "rnn_gradient_vs_steps", "forget_gate_path", "clipping_effect",
    "LSTMParams", "lstm_params", "lstm_forward", "LSTMGradient", "lstm_cell_gradient",
    "SigmoidWithoutDerivative", "HIDDEN_ERROR_SCENARIOS", "hidden_error_terms",
    "central_difference", "difference_errors", "spot_check",
    "gradient_graph", "hessian_vector_product_exact",
    "LogisticProblem", "logistic_problem", "logistic_hessian", "hvp_errors", "CGResult", "conjugate_gradient",
]
