"""Computations behind notebook 09 (the training playbook), one module per question.

Every function is pure (random ones take ``rng``), so the notebook, its widgets and
``tests/test_nb09_claims.py`` run the same code. The matrices are small, so training runs with
one BLAS thread (:func:`gdcourse.experiments.common.quiet`). ``from gdcourse.experiments import playbook
as E`` gives every name below.

* :mod:`.base`: the standardized digits split and the playbook's MLP.
* :mod:`.failures` (PRAC-01): overfitting one small batch, and what each failure looks like.
* :mod:`.learning_rate` (PRAC-02): the smoothed range test against a sweep; the final loss over seeds.
* :mod:`.fluctuation` (PRAC-03): fluctuating weights and their remedies; the noise of dropout.
* :mod:`.randomness` (PRAC-04): the sources of randomness one at a time; last-bit differences.
* :mod:`.loop` (PRAC-05): the training loop written out; gradient accumulation.
* :mod:`.hyperparameters` (PRAC-06): a hyperparameter chosen on training vs validation data.
* :mod:`.counting` (PRAC-07, PRAC-08): parameter counts and a direct convolution.
* :mod:`.capstone`: everything together, with diagnostics.
"""

from gdcourse.experiments.playbook.base import digits, mlp, small_batch
from gdcourse.experiments.playbook.capstone import (
    CAPSTONE_CONFIG,
    CapstoneResult,
    capstone,
    capstone_model,
    confusion_matrix,
)
from gdcourse.experiments.playbook.counting import (
    conv2d,
    conv_output_size,
    conv_parameters,
    count_parameters,
    layer_parameters,
)
from gdcourse.experiments.playbook.failures import (
    NaiveCrossEntropy,
    SignFlippedCrossEntropy,
    SmallBatchRun,
    expected_initial_loss,
    failure_runs,
    train_steps,
)
from gdcourse.experiments.playbook.fluctuation import (
    DropoutFluctuation,
    FluctuationRun,
    dropout_fluctuation,
    ema_weights,
    fluctuation_study,
    gd_factor,
    polyak_average,
)
from gdcourse.experiments.playbook.hyperparameters import ridge_path
from gdcourse.experiments.playbook.learning_rate import (
    final_losses_over_seeds,
    fixed_rate_sweep,
    range_test_digits,
    smooth_losses,
)
from gdcourse.experiments.playbook.loop import accumulated_gradient, manual_training_loop
from gdcourse.experiments.playbook.randomness import (
    RandomnessStudy,
    perturbation_growth,
    randomness_study,
    summation_orders,
)

__all__ = [
    "digits", "small_batch", "mlp",
    "NaiveCrossEntropy", "SignFlippedCrossEntropy", "train_steps", "SmallBatchRun", "failure_runs",
    "expected_initial_loss",
    "smooth_losses", "range_test_digits", "fixed_rate_sweep", "final_losses_over_seeds",
    "gd_factor", "FluctuationRun", "fluctuation_study", "ema_weights", "polyak_average",
    "DropoutFluctuation", "dropout_fluctuation",
    "RandomnessStudy", "randomness_study", "summation_orders", "perturbation_growth",
    "manual_training_loop", "accumulated_gradient",
    "ridge_path",
    "count_parameters", "layer_parameters", "conv_output_size", "conv_parameters", "conv2d",
    "CAPSTONE_CONFIG", "CapstoneResult", "capstone", "capstone_model", "confusion_matrix",
]
