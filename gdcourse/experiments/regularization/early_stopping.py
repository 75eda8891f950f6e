"""REG-08: early stopping's patience rule, as one short function (the notebook's exercise and answer)."""

from __future__ import annotations

import numpy as np

from gdcourse.validate import check_positive_int

__all__ = ["should_stop"]


def should_stop(val_losses, patience) -> bool:
    """True when the best (lowest) validation loss is at least ``patience`` epochs old.

    An epoch improves only if its loss is strictly below every earlier one; a loss
    that merely stalls or bounces without beating the best counts against the
    patience. Same rule as :class:`gdcourse.regularization.EarlyStopping` with
    ``min_delta=0``. An empty list never stops.
    """
    patience = check_positive_int(patience, "patience")
    losses = np.asarray(val_losses, dtype=float)
    if losses.size == 0:
        return False
    epochs_since_best = len(losses) - 1 - int(np.argmin(losses))  # argmin: first occurrence of the minimum
    return epochs_since_best >= patience
