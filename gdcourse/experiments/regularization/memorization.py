"""REG-12: memorization. A digit read back exactly from two checkpoints one step apart, and a
loss-threshold membership attack on a memorizing and on a well-regularized network."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gdcourse import functional as F
from gdcourse import losses as L
from gdcourse import nn, optim
from gdcourse.experiments.common import cached
from gdcourse.experiments.regularization.shared import digits, mlp
from gdcourse.memo import stored
from gdcourse.train import accuracy, fit, predict, roc_auc
from gdcourse.validate import (
    as_rng,
    check_array,
    check_labels,
    check_positive,
    check_positive_int,
    check_same_length,
    is_seed,
)

__all__ = ["one_step_checkpoints", "reconstruct_input", "MembershipStudy", "membership_study"]


def one_step_checkpoints(X, labels, lr=0.1, rng=0):
    """Two checkpoints of a ``Linear(d, 10)`` softmax classifier one SGD step apart.

    ``X (B, d)`` the batch of that step (B = 1 for a single example), ``labels (B,)``.
    Returns ``(W_before, b_before, W_after, b_after)``.
    """
    X = check_array(X, "X", ndim=2, finite=True)
    labels = check_labels(labels, "labels", 10)
    check_same_length(X, labels, "X", "labels")
    layer = nn.Linear(X.shape[1], 10, init="xavier_normal", rng=rng)
    before = (layer.weight.value.copy(), layer.bias.value.copy())
    loss, opt = L.CrossEntropyLoss(), optim.SGD(layer.parameters(), lr=check_positive(lr, "lr"))
    opt.zero_grad()
    loss.forward(layer.forward(X), labels)
    layer.backward(loss.backward(), input_grad=False)
    opt.step()
    return before[0], before[1], layer.weight.value.copy(), layer.bias.value.copy()


def reconstruct_input(W_before, b_before, W_after, b_after):
    """Recover the input of a one-example step: ``x = ΔW[:, j] / Δb[j]``.

    ``ΔW = −η x δᵀ`` and ``Δb = −η δ`` for a layer ``y = xW + b`` (``W (d, k)``), so
    any output ``j`` with ``Δb[j] ≠ 0`` gives ``x`` exactly, whatever the loss and
    the learning rate. Uses the ``j`` with the largest ``|Δb[j]|``. For a batch of B
    examples the same ratio gives ``Σ_i δ_ij x_i / Σ_i δ_ij``, a weighted blend of
    the inputs, not any one of them. Returns ``(d,)``.
    """
    dW = np.asarray(W_after, dtype=float) - np.asarray(W_before, dtype=float)
    db = np.asarray(b_after, dtype=float) - np.asarray(b_before, dtype=float)
    j = int(np.argmax(np.abs(db)))
    if db[j] == 0:
        raise ValueError("b_after: the bias did not change, so the step carries no recoverable input")
    return dW[:, j] / db[j]


@dataclass(frozen=True)
class MembershipStudy:
    """Per-example losses of training members and of unseen digits, for two models.

    ``losses[model] = (members (M,), non_members (M,))`` and ``auc[model]`` the
    ROC AUC of the attack "a low loss means member" (0.5 = no better than chance).
    """

    losses: dict
    auc: dict
    accuracy_gap: dict


def _per_example_ce(model, X, y):
    log_p = F.log_softmax(predict(model, X), axis=1)
    return -log_p[np.arange(len(y)), y]


@stored
def membership_study(n_members=50, rng=0) -> MembershipStudy:
    """A loss-threshold membership attack (Yeom et al., 2018) on an overfit and a well-fit model.

    "memorizing": a 64-256-10 network trained 300 epochs on ``n_members`` digits
    only; "well regularized": the same architecture trained 20 epochs on all 988
    digits with weight decay (its members are the same ``n_members`` digits, now
    part of a large training set). Non-members are ``n_members`` validation digits.
    ``rng``: an int seed (the run is cached, read-only) or a Generator (a seed is drawn from it).
    """
    return _membership_study(check_positive_int(n_members, "n_members"), rng)


@cached(maxsize=2)
def _membership_study(n_members, rng):
    seed = rng if is_seed(rng) else int(as_rng(rng).integers(2**31))
    ds = digits()
    order = np.random.default_rng(seed).permutation(len(ds.X_train))
    members = order[:n_members]
    X_in, y_in = ds.X_train[members], ds.y_train[members]
    X_out, y_out = ds.X_val[:n_members], ds.y_val[:n_members]
    loss = L.CrossEntropyLoss()
    memorizer = mlp((64, 256, 10), rng=seed)
    fit(memorizer, loss, optim.SGD(memorizer.parameters(), lr=0.05, momentum=0.9), (X_in, y_in), epochs=300,
        batch_size=32, progress=False, rng=seed)
    regular = mlp((64, 256, 10), rng=seed)
    fit(regular, loss, optim.AdamW(regular.parameters(), lr=0.003, weight_decay=0.5),
        (ds.X_train, ds.y_train), epochs=20, batch_size=32, progress=False, rng=seed)
    losses, auc, gap = {}, {}, {}
    for name, model in (("memorizing", memorizer), ("well regularized", regular)):
        inside, outside = _per_example_ce(model, X_in, y_in), _per_example_ce(model, X_out, y_out)
        losses[name] = (inside, outside)
        auc[name] = roc_auc(-inside, -outside)
        gap[name] = accuracy(predict(model, X_in), y_in) - accuracy(predict(model, X_out), y_out)
    return MembershipStudy(losses, auc, gap)
