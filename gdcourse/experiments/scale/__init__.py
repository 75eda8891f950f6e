"""Computations behind notebook 11 (training at scale) and its explorer.

Every function here is pure (random ones take ``rng``), so the notebook, the explorer of
:mod:`gdcourse.widgets.scale` and ``tests/test_nb11_claims.py`` run the same code.

Sub-modules, in the notebook's order:

* :mod:`.precision` — float32 / bfloat16 / float16, lost updates, gradient underflow (SCALE-01, SCALE-02).
* :mod:`.float16_mlp` — a digits MLP trained in float16 with and without loss scaling and master weights (SCALE-02).
* :mod:`.memory` — activation recomputation and gradient accumulation (SCALE-03, SCALE-04).
* :mod:`.batches` — the gradient noise scale (SCALE-05).
* :mod:`.critical` — steps to a target loss against the batch size: the critical batch size (SCALE-05).
* :mod:`.spikes` — Adam's lagging second moment after a jump in gradient scale, alone and in an MLP (SCALE-06).
* :mod:`.logits` — logit drift under cross-entropy and what the z-loss changes (SCALE-06).
* :mod:`.width` — the best Adam rate against width, standard parameterization vs μP (SCALE-07).
"""

from gdcourse.experiments.scale.batches import (
    NoiseScale,
    NoiseScaleCheck,
    estimate_noise_scale,
    exact_noise_scale,
    noise_scale_check,
    noise_scale_from_two_batches,
    softmax_per_sample_gradients,
)
from gdcourse.experiments.scale.critical import (
    StepsToTarget,
    fit_critical_batch,
    regression_noise_scale,
    regression_problem,
    steps_to_target,
)
from gdcourse.experiments.scale.float16_mlp import FLOAT16_VARIANTS, Float16Runs, float16_mlp_runs
from gdcourse.experiments.scale.logits import LogitDrift, logit_drift
from gdcourse.experiments.scale.memory import (
    AccumulationGaps,
    CheckpointRow,
    accumulation_gaps,
    best_segments,
    checkpoint_table,
)
from gdcourse.experiments.scale.precision import (
    FORMATS,
    VARIANTS,
    FineTuneRuns,
    FormatRow,
    fine_tune_runs,
    float16_spacing,
    format_table,
    survives,
    to_bfloat16,
    underflow_fraction,
)
from gdcourse.experiments.scale.spikes import (
    SPIKE_VARIANTS,
    JumpRun,
    OnsetSpikes,
    adam_step_ratios,
    gradient_jump,
    jump_gradients,
    onset_spikes,
    predicted_ratio,
)
from gdcourse.experiments.scale.width import (
    PARAMETERIZATIONS,
    WidthSweep,
    initial_weights,
    stacked_loss,
    train_stack,
    width_sweep,
)

__all__ = [
    "FORMATS", "VARIANTS", "FormatRow", "format_table", "to_bfloat16", "float16_spacing", "survives",
    "underflow_fraction", "FineTuneRuns", "fine_tune_runs",
    "CheckpointRow", "checkpoint_table", "best_segments", "AccumulationGaps", "accumulation_gaps",
    "NoiseScale", "exact_noise_scale", "estimate_noise_scale", "noise_scale_from_two_batches",
    "softmax_per_sample_gradients", "NoiseScaleCheck", "noise_scale_check",
    "predicted_ratio", "adam_step_ratios", "jump_gradients", "JumpRun", "gradient_jump",
    "FLOAT16_VARIANTS", "Float16Runs", "float16_mlp_runs",
    "SPIKE_VARIANTS", "OnsetSpikes", "onset_spikes", "LogitDrift", "logit_drift",
    "regression_problem", "regression_noise_scale", "StepsToTarget", "steps_to_target", "fit_critical_batch",
    "PARAMETERIZATIONS", "initial_weights", "train_stack", "stacked_loss", "WidthSweep", "width_sweep",
]
