"""REG-02 over seeds: each regularizer of the toolbox on the overfitting problem, 20 seeds trained at once.

:func:`gdcourse.experiments.regularization.overfit_run` trains one network with the package (``fit``,
``AdamW``, ``Dropout``, ``EarlyStopping``); a seed costs about half a second, too slow for twenty seeds of
five settings in a notebook. :func:`toolbox_study` trains the same network the same way, written out in NumPy
(in float32, see :data:`DTYPE`) for ``S`` seeds at once: every weight carries a leading seed axis ``(S,
...)``, and each seed has its own initialization, batch order, dropout masks and input noise. The training set
and the validation set (:func:`overfit_data`) are the same for every seed, so the spread over seeds is the
spread of training, not of the data; ``tests/test_nb07_claims.py`` checks that the per-seed results match
``overfit_run``'s in distribution.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from gdcourse import functional as F
from gdcourse.experiments.common import one_blas_thread, read_only
from gdcourse.experiments.regularization.overfit import OVERFIT, TOOLBOX, overfit_data
from gdcourse.memo import stored
from gdcourse.validate import check_positive_int

__all__ = ["ToolboxStudy", "toolbox_study"]

BETAS, EPS = (0.9, 0.999), 1e-8
"""AdamW's constants, as in :class:`gdcourse.optim.AdamW`."""

DTYPE = np.float32
"""Twenty seeds of five settings are 100 networks of 150 epochs: float32 halves the time, and the study
reports accuracies to a tenth of a point, far above float32's rounding."""


@dataclass(frozen=True)
class ToolboxStudy:
    """The final model of each :data:`TOOLBOX` setting on each seed (the restored best one under early stopping).

    ``val_accuracy[name]``, ``val_loss[name]``, ``gap[name]`` (validation minus evaluation-mode training
    loss), ``epochs_run[name]``: arrays ``(S,)``; ``seeds`` the seeds. :meth:`gain` gives the paired
    accuracy difference to the unregularized run of the same seed.
    """

    seeds: tuple
    val_accuracy: dict
    val_loss: dict
    gap: dict
    epochs_run: dict

    def gain(self, name: str) -> np.ndarray:
        """Per seed: validation accuracy of ``name`` minus that of ``"no regularization"``, ``(S,)``."""
        return self.val_accuracy[name] - self.val_accuracy["no regularization"]

    @staticmethod
    def mean_and_se(values) -> tuple[float, float]:
        """Mean and standard error ``std(ddof=1)/√S`` of per-seed values."""
        values = np.asarray(values, dtype=float)
        return float(values.mean()), float(values.std(ddof=1) / np.sqrt(values.size))


def toolbox_study(seeds=tuple(range(20))) -> ToolboxStudy:
    """Every :data:`TOOLBOX` setting on every seed of ``seeds`` (a few seconds for 20). Cached."""
    seeds = tuple(int(s) for s in seeds)
    if len(seeds) < 2 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds: expected at least 2 distinct seeds, got {seeds!r}")
    return _toolbox_study(seeds)


@functools.lru_cache(maxsize=2)
@stored
@one_blas_thread
def _toolbox_study(seeds):
    results = {name: _train(seeds, **settings) for name, settings in TOOLBOX.items()}
    fields = ("val_accuracy", "val_loss", "gap", "epochs_run")
    return read_only(ToolboxStudy(seeds, *({name: r[f] for name, r in results.items()} for f in fields)))


def _init(seeds, sizes):
    """He-normal weights ``(S, n_in, n_out)`` and zero biases ``(S, n_out)`` per layer, one generator per seed."""
    rngs = [np.random.default_rng([s, 7]) for s in seeds]
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        params.append(np.stack([r.normal(0.0, np.sqrt(2.0 / n_in), (n_in, n_out)) for r in rngs]).astype(DTYPE))
        params.append(np.zeros((len(seeds), n_out), dtype=DTYPE))
    return params, rngs


def _forward(params, X, masks=None):
    """Logits ``(S, N, 2)`` of the 2-128-128-2 ReLU network, and what backward needs."""
    W1, b1, W2, b2, W3, b3 = params
    h1 = np.maximum(X @ W1 + b1[:, None], 0.0)
    if masks is not None:
        h1 = h1 * masks[0]
    h2 = np.maximum(h1 @ W2 + b2[:, None], 0.0)
    if masks is not None:
        h2 = h2 * masks[1]
    return h2 @ W3 + b3[:, None], (X, h1, h2)


def _gradients(params, cache, dlogits, masks):
    """Gradients of the six parameters (each ``(S, ...)``) for the upstream ``dlogits (S, N, 2)``."""
    _, _, W2, _, W3, _ = params
    X, h1, h2 = cache
    dh2 = dlogits @ W3.transpose(0, 2, 1) * (h2 > 0)          # dropout zeroed h2 where the mask is 0
    if masks is not None:
        dh2 = dh2 * masks[1]
    dh1 = dh2 @ W2.transpose(0, 2, 1) * (h1 > 0)
    if masks is not None:
        dh1 = dh1 * masks[0]
    def t(a):
        return a.transpose(0, 2, 1)
    return [t(X) @ dh1, dh1.sum(1), t(h1) @ dh2, dh2.sum(1), t(h2) @ dlogits, dlogits.sum(1)]


def _loss_and_accuracy(params, X, y):
    """Mean cross-entropy and accuracy per seed, evaluation mode: ``(S,)``, ``(S,)``."""
    logits, _ = _forward(params, np.broadcast_to(X, (len(params[0]),) + X.shape))
    log_p = F.log_softmax(logits, axis=2)
    loss = -log_p[:, np.arange(len(y)), y].mean(axis=1)
    return loss, (logits.argmax(axis=2) == y).mean(axis=1)


def _train(seeds, dropout=0.0, weight_decay=0.0, input_noise=0.0, patience=None):
    X, y, X_val, y_val = overfit_data()
    X, X_val = X.astype(DTYPE), X_val.astype(DTYPE)
    width, lr, batch = OVERFIT["width"], OVERFIT["lr"], OVERFIT["batch_size"]
    params, rngs = _init(seeds, (2, width, width, 2))
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    S, seed_axis = len(seeds), np.arange(len(seeds))[:, None]
    best_loss, best_params = np.full(S, np.inf), [p.copy() for p in params]
    bad_epochs, stopped, epochs_run = np.zeros(S, int), np.zeros(S, bool), np.zeros(S, int)
    t = 0
    for _ in range(check_positive_int(OVERFIT["epochs"], "epochs")):
        orders = np.stack([r.permutation(len(X)) for r in rngs])
        for start in range(0, len(X), batch):
            idx = orders[:, start:start + batch]
            xb, yb = X[idx], y[idx]                                          # (S, B, 2), (S, B)
            if input_noise:
                xb = xb + (input_noise * np.stack([r.standard_normal(xb.shape[1:]) for r in rngs])).astype(DTYPE)
            masks = None
            if dropout:
                masks = [np.stack([(r.random((len(idx[0]), width)) >= dropout) / (1.0 - dropout) for r in rngs])
                         .astype(DTYPE) for _ in range(2)]
            logits, cache = _forward(params, xb, masks)
            dlogits = F.softmax(logits, axis=2)
            dlogits[seed_axis, np.arange(idx.shape[1]), yb] -= 1.0
            grads = _gradients(params, cache, dlogits / idx.shape[1], masks)
            t += 1
            active = ~stopped
            for p, g, m_p, v_p in zip(params, grads, m, v, strict=True):
                step = _adamw_step(p, g, m_p, v_p, t, lr, weight_decay)
                if active.all():
                    p -= step
                else:
                    p[active] -= step[active]                                # a stopped seed stays put
        epochs_run += active
        if patience:                                                         # the only use of per-epoch validation
            val_loss, _ = _loss_and_accuracy(params, X_val, y_val)
            improved = active & (val_loss < best_loss)
            for p, best in zip(params, best_params, strict=True):
                best[improved] = p[improved]
            best_loss = np.where(improved, val_loss, best_loss)
            bad_epochs = np.where(improved, 0, bad_epochs + active)
            stopped |= bad_epochs >= patience
            if stopped.all():
                break
    # like EarlyStopping inside fit: a run that stopped gets its best epoch back, one that did not keeps its end
    final = [np.where(stopped.reshape((S,) + (1,) * (p.ndim - 1)), best, p)
             for p, best in zip(params, best_params, strict=True)]
    train_loss, _ = _loss_and_accuracy(final, X, y)
    val_loss, val_accuracy = _loss_and_accuracy(final, X_val, y_val)
    return {"val_accuracy": val_accuracy, "val_loss": val_loss, "gap": val_loss - train_loss,
            "epochs_run": epochs_run}


def _adamw_step(p, g, m, v, t, lr, weight_decay):
    """The amount AdamW subtracts from ``p`` (decoupled decay lr·λ·p plus Adam's step); updates m, v in place.

    In-place arithmetic, as in :class:`gdcourse.optim.Adam`: twenty seeds' moments are large enough for
    the formula's temporaries to dominate a step.
    """
    beta1, beta2 = BETAS
    m *= beta1
    m += (1 - beta1) * g
    g *= g
    v *= beta2
    v += (1 - beta2) * g
    step = np.sqrt(v)
    step *= 1.0 / np.sqrt(1 - beta2**t)
    step += EPS
    np.divide(m, step, out=step)
    step *= lr / (1 - beta1**t)
    if weight_decay:
        step += (lr * weight_decay) * p
    return step
