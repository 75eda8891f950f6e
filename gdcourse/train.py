"""The training loop: ``fit`` → ``History``, and ``evaluate``.

One step of ``fit`` is the whole of gradient-based training::

    zero_grad → forward → loss → backward → (penalties, clipping) → lr from schedule → step
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from gdcourse import losses as L
from gdcourse import regularization as R
from gdcourse._fit_inputs import check_fit_args, check_pair, check_targets, check_targets_fit_output
from gdcourse._vector_ops import squared_norm
from gdcourse.accumulation import accumulate_gradients
from gdcourse.data import batches
from gdcourse.nn.module import Module
from gdcourse.nn.parameter import grad_vector
from gdcourse.validate import (
    as_rng,
    check_array,
    check_positive,
    check_positive_int,
)

__all__ = [
    "fit", "evaluate", "History", "TrainingDiverged", "accuracy", "predict",
    "lr_range_test", "RangeTestResult", "roc_auc",
]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; ``history`` holds everything recorded until then."""

    def __init__(self, message, history):
        super().__init__(message)
        self.history = history


@dataclass
class History:
    """What ``fit`` recorded.

    Per optimizer step: ``step_loss`` (data loss of the mini-batch), ``step_lr``,
    ``step_grad_norm`` (global gradient norm before clipping). Per epoch:
    ``epochs[name]`` lists for ``train_loss`` (mean of the epoch's step losses,
    so it lags behind the model at the end of the epoch), ``train_accuracy``
    (classification only), ``val_loss`` and ``val_accuracy`` (when ``val`` is given).
    """

    step_loss: list = field(default_factory=list)
    step_lr: list = field(default_factory=list)
    step_grad_norm: list = field(default_factory=list)
    epochs: dict = field(default_factory=dict)
    stopped_early: bool = False
    best_epoch: int | None = None

    def log_epoch(self, **values):
        for name, value in values.items():
            self.epochs.setdefault(name, []).append(float(value))

    def __getitem__(self, name):
        """``history["val_loss"]`` → that per-epoch series as an array."""
        if name in ("step_loss", "step_lr", "step_grad_norm"):
            return np.asarray(getattr(self, name))
        if name not in self.epochs:
            raise KeyError(f"History has no series {name!r}; it has {sorted(self.epochs)} and the step_* series")
        return np.asarray(self.epochs[name])

    @property
    def num_epochs(self) -> int:
        return len(self.epochs.get("train_loss", []))

    def plot(self, axes=None, title=None):
        """Loss per step and per epoch (train vs val), and accuracy when recorded."""
        import matplotlib.pyplot as plt

        has_acc = "train_accuracy" in self.epochs
        if axes is None:
            _, axes = plt.subplots(1, 2 if has_acc else 1, figsize=(10 if has_acc else 5.5, 3.5))
        axes = np.atleast_1d(axes)
        steps_per_epoch = max(len(self.step_loss) / max(self.num_epochs, 1), 1)
        step_epoch = np.arange(1, len(self.step_loss) + 1) / steps_per_epoch
        ax = axes[0]
        ax.plot(step_epoch, self.step_loss, color="0.75", lw=0.8, label="train (per step)")
        epochs = np.arange(1, self.num_epochs + 1)
        ax.plot(epochs, self["train_loss"], "o-", label="train (epoch mean)")
        if "val_loss" in self.epochs:
            ax.plot(epochs, self["val_loss"], "s-", label="validation")
        ax.set(xlabel="epoch", ylabel="loss", yscale="log", title=title or "loss")
        ax.legend()
        if has_acc:
            ax = axes[1]
            ax.plot(epochs, self["train_accuracy"], "o-", label="train")
            if "val_accuracy" in self.epochs:
                ax.plot(epochs, self["val_accuracy"], "s-", label="validation")
            ax.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
            ax.legend()
        return axes


def accuracy(outputs, y) -> float:
    """Share of correct predictions: argmax of ``(N, C)`` logits, or logit > 0 for ``(N, 1)``/``(N,)``.

    ``y`` holds class labels ``(N,)`` or one-hot / probability rows ``(N, C)`` (its argmax
    is the class) for ``(N, C)`` outputs, and 0/1 labels of any shape with N entries for
    one output per sample. ``outputs`` must be finite: a NaN logit has no argmax.
    """
    outputs = check_array(outputs, "outputs", ndim=(1, 2), finite=True)
    y = np.asarray(y)
    if y.ndim == 0 or len(y) != len(outputs):
        raise ValueError(
            f"outputs and y: expected one label per prediction, got {len(outputs)} predictions and "
            f"y of shape {y.shape}"
        )
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        if y.ndim not in (1, 2) or (y.ndim == 2 and y.shape != outputs.shape):
            raise ValueError(
                f"y: expected labels ({len(y)},) or one-hot rows {outputs.shape} for outputs of shape "
                f"{outputs.shape}, got shape {y.shape}"
            )
    elif y.size != len(outputs):
        raise ValueError(
            f"y: expected one 0/1 label per prediction ({len(outputs)} in all) for outputs of shape "
            f"{outputs.shape}, got shape {y.shape}"
        )
    return _accuracy(outputs, y)


def _accuracy(outputs, y) -> float:
    """:func:`accuracy` without the checks, for ``fit``'s per-step bookkeeping."""
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        pred = outputs.argmax(axis=1)
        y = y.argmax(axis=1) if y.ndim == 2 else y
    else:
        pred = (outputs.reshape(-1) > 0).astype(int)
        y = y.reshape(-1)
    return float(np.mean(pred == y))


def _is_classification(loss) -> bool:
    return isinstance(loss, (L.CrossEntropyLoss, L.BCEWithLogitsLoss))


def predict(model, X, batch_size=None):
    """Model outputs for ``X (N, ...)`` in evaluation mode (restoring the previous mode).

    ``batch_size`` (an int >= 1, optional) runs the model on chunks of that many rows
    and concatenates the outputs, to bound memory; the result is the same.
    """
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size")
        X = check_array(X, "X", float_only=False)
        if X.ndim == 0:
            raise ValueError(f"X: expected an array of shape (N, ...), got a scalar {X!r}")
    was_training = model.training
    model.eval()
    try:
        if batch_size is None:
            return model(X)
        return np.concatenate([model(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])
    finally:
        model.train(was_training)


def evaluate(model, loss, X, y, batch_size=None) -> dict:
    """Loss (and accuracy for classification) of ``model`` on ``(X, y)`` in evaluation mode.

    ``X (N, ...)`` finite floats, ``y`` one target per row, checked against the loss and
    the model's output as in :func:`fit`; ``batch_size`` as in :func:`predict`.
    """
    X, y = check_pair((X, y), "X, y", "X", "y")
    check_targets(loss, y, "y")
    if batch_size is not None:
        check_positive_int(batch_size, "batch_size")
    out = predict(model, X, batch_size)
    check_targets_fit_output(loss, y, "y", out)
    return _evaluate_output(loss, out, y)


def _evaluate_output(loss, out, y) -> dict:
    result = {"loss": loss.forward(out, y)}
    if _is_classification(loss):
        result["accuracy"] = _accuracy(out, y)
    return result


def _first_step_checks(loss, out, y, val):
    """Targets against the model's output width, known from the first forward (see ``_fit_inputs``)."""
    check_targets_fit_output(loss, y, "y", out)
    if val is not None:
        check_targets_fit_output(loss, val[1], "y_val", out)


def _divergence_message(step, lr, what):
    return (
        f"training diverged at step {step}: {what} with learning rate {lr:.4g}. "
        "Likely causes: a learning rate too high for this problem (try 10x smaller or a warmup), "
        "unnormalized inputs, a bad initialization scale, or exploding gradients (try clip_norm)."
    )


def _scheduled_lr(schedule, step, optimizer):
    """Set and return the rate of this step, naming the schedule when it gives an invalid one."""
    if schedule is None:
        return optimizer.lr
    lr = schedule(step)
    try:
        optimizer.lr = lr
    except (TypeError, ValueError):
        raise ValueError(f"schedule: expected a finite learning rate >= 0 at step {step}, got {lr!r}") from None
    return lr


def fit(model, loss, optimizer, data, *, epochs, batch_size, val=None, schedule=None, clip_norm=None,
        l1=0.0, l2=0.0, early_stopping=None, callbacks=(), progress=True, rng=None,
        accumulation_steps=1) -> History:
    """Train ``model`` with mini-batch gradient descent and return its :class:`History`.

    Parameters
    ----------
    model : Module
    loss : a loss from :mod:`gdcourse.losses`
    optimizer : an optimizer from :mod:`gdcourse.optim` over ``model.parameters()``
    data : (X, y)
        ``X (N, ...)`` float, finite; ``y (N, ...)``.
    epochs, batch_size : int
        One epoch visits every sample exactly once, in a fresh random order.
    val : (X_val, y_val), optional
        Evaluated after each epoch in evaluation mode.
    schedule : callable ``step -> lr``, optional
        Sets ``optimizer.lr`` before every step; if it has ``observe(metric)``
        (``ReduceLROnPlateau``) it also gets the epoch's validation (else
        training) loss.
    clip_norm : float, optional
        Clip the global gradient norm (after penalties) to this value.
    l1, l2 : float
        Penalty strengths (see :mod:`gdcourse.regularization`); the recorded loss
        is the data loss without them.
    early_stopping : EarlyStopping, optional
        Monitors ``val_loss`` (or ``train_loss`` without ``val``); restores the
        best parameters when it stops.
    callbacks : iterable of ``f(epoch, history, model) -> bool | None``
        Called after each epoch; returning True stops training.
    progress : bool
        Show a tqdm progress bar (the notebook-aware one) over epochs.
    rng : int or Generator
        Shuffling order; the same seed gives the same history.
    accumulation_steps : int
        Split each batch into this many micro-batches and add their gradients before one
        step (:mod:`gdcourse.accumulation`): the same update as the whole batch at once,
        except through batch normalization, with the memory of one micro-batch.

    Everything is checked before the first update, with messages naming these arguments:
    ``X``/``X_val`` finite floats of the same per-sample shape, ``y``/``y_val`` one target per
    row that suits the loss (integer labels in range for ``CrossEntropyLoss``, 0/1 targets for
    the BCE losses, rows of the output's shape for the regression losses). The model's output
    width is read off the first forward pass (see :mod:`gdcourse._fit_inputs`).

    Raises
    ------
    TrainingDiverged
        When a loss or the gradient norm is NaN or infinite (its ``history`` holds the run so
        far). The step is stopped before its update, and the floating-point overflow of a
        diverging run raises no NumPy warning: these two checks report it.
    """
    X, y, val, callbacks = check_fit_args(model, loss, optimizer, data, val, epochs, batch_size, schedule,
                                           l1, l2, clip_norm, early_stopping, callbacks)
    rng = as_rng(rng)
    parts = check_positive_int(accumulation_steps, "accumulation_steps")
    if parts > batch_size:
        raise ValueError(f"accumulation_steps: expected at most batch_size={batch_size}, got {parts}")
    params = model.parameters()
    history = History()
    classify = _is_classification(loss)
    step = 0
    bar = _progress_bar(epochs, progress)
    model.train()
    try:
        for epoch in range(epochs):
            # A diverging run overflows on purpose: it is stopped by the finiteness checks of the
            # loss and the gradient norm below, with TrainingDiverged, not by floating-point warnings.
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                record = _train_epoch(model, loss, optimizer, X, y, val, batch_size, schedule, clip_norm, l1, l2,
                                      params, history, classify, step, rng, parts)
            step = len(history.step_loss)
            history.log_epoch(**record)
            if bar is not None:
                bar.update(1)
                bar.set_postfix({k: f"{v:.4g}" for k, v in record.items() if k.endswith("loss")})
            if _end_of_epoch(epoch, record, history, model, params, schedule, early_stopping, callbacks):
                break
    finally:
        if bar is not None:
            bar.close()
    return history


def _loss_value(loss, out, target, step, lr, history) -> float:
    """``loss.forward(out, target)``; a loss that refuses a diverged model's non-finite output
    (``BCELoss`` takes only probabilities) is reported as the divergence it is."""
    try:
        return loss.forward(out, target)
    except ValueError:
        if not np.isfinite(out).all():
            raise TrainingDiverged(_divergence_message(step, lr, "the model's output is not finite"),
                                   history) from None
        raise


def _checked_loss(step, lr, history, y, val, loss, out, target) -> float:
    if step == 0:
        _first_step_checks(loss, out, y, val)
    return _loss_value(loss, out, target, step, lr, history)


def _train_epoch(model, loss, optimizer, X, y, val, batch_size, schedule, clip_norm, l1, l2, params, history,
                 classify, step, rng, parts=1) -> dict:
    """One epoch of steps (numbered from ``step``) and its record; raises TrainingDiverged."""
    losses, correct = [], []
    for xb, yb in batches(X, y, batch_size, shuffle=True, rng=rng):
        lr = _scheduled_lr(schedule, step, optimizer)
        optimizer.zero_grad()
        if parts > 1 and len(xb) >= parts:
            value, out = accumulate_gradients(model, loss, xb, yb, parts,
                                              partial(_checked_loss, step, lr, history, y, val))
        else:
            out = model.forward(xb)
            value = _checked_loss(step, lr, history, y, val, loss, out, yb)
            if math.isfinite(value):
                model.backward(loss.backward(), input_grad=False)
        if not math.isfinite(value):
            raise TrainingDiverged(_divergence_message(step, lr, f"the loss is {value}"), history)
        if l1:
            R.add_l1_grad(params, l1)
        if l2:
            R.add_l2_grad(params, l2)
        grad_norm = _grad_norm(params)
        if not math.isfinite(grad_norm):
            raise TrainingDiverged(_divergence_message(step, lr, f"the gradient norm is {grad_norm}"), history)
        if clip_norm is not None and grad_norm > clip_norm:
            R.clip_grad_norm(params, clip_norm)
        optimizer.step()
        history.step_loss.append(value)
        history.step_lr.append(lr)
        history.step_grad_norm.append(grad_norm)
        losses.append(value)
        if classify:
            correct.append(_accuracy(out, yb) * len(xb))
        step += 1
    record = {"train_loss": float(np.mean(losses))}
    if classify:
        record["train_accuracy"] = sum(correct) / len(X)
    if val is not None:
        record.update({f"val_{k}": v for k, v in _evaluate_output(loss, predict(model, val[0]), val[1]).items()})
    return record


def _grad_norm(params) -> float:
    return math.sqrt(squared_norm(grad_vector(params)))


def _end_of_epoch(epoch, record, history, model, params, schedule, early_stopping, callbacks) -> bool:
    """Schedules, early stopping and callbacks; True when training should stop."""
    monitored = record.get("val_loss", record["train_loss"])
    if hasattr(schedule, "observe"):
        schedule.observe(monitored)
    if early_stopping is not None and early_stopping.step(monitored, params):
        history.stopped_early = True
        history.best_epoch = early_stopping.best_epoch
        early_stopping.restore(params)
        return True
    stop = False
    for callback in callbacks:
        stop = bool(callback(epoch, history, model)) or stop
    return stop


def _progress_bar(epochs, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=epochs, desc="epochs", unit="epoch", leave=False)


# ---------------------------------------------------------------------------------------------------
# Learning-rate range test (Smith 2017, "Cyclical Learning Rates for Training Neural Networks", §3.3;
# popularized as fastai's ``lr_find``).

@dataclass(frozen=True, eq=False)
class RangeTestResult:
    """What :func:`lr_range_test` recorded, one entry per step actually taken.

    Attributes
    ----------
    rates : ndarray (T,)
        The learning rate of each step: ``lr_min · (lr_max / lr_min)^(t / (steps − 1))``.
    losses : ndarray (T,)
        The raw mini-batch loss at each step (taken before that step's update).
    smoothed : ndarray (T,)
        Exponential moving average of ``losses`` with bias correction:
        ``a_t = β a_{t−1} + (1 − β) ℓ_t``, ``smoothed_t = a_t / (1 − β^(t+1))``.
    stopped_early : bool
        True when the test stopped before ``steps`` because the smoothed loss
        exceeded ``diverge_factor`` × its minimum so far or a loss was not finite.
    lr_min, lr_max : float
        The range that was asked for.
    """

    rates: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    stopped_early: bool
    lr_min: float
    lr_max: float

    def suggestion(self, method: str = "minimum") -> float:
        """A learning rate read off the smoothed curve (fastai's two rules of thumb).

        ``"minimum"`` (default): the rate at the lowest smoothed loss divided by 10, i.e. about
        an order of magnitude below the point where the loss turns up. ``"steepest"``: the rate
        where the smoothed loss falls fastest per unit of ``log(lr)``, on the part of the curve
        before its minimum; the slope at step t is the central difference over ``w`` = 5% of
        the steps on each side, ``(s[t+w] − s[t−w]) / (log lr[t+w] − log lr[t−w])``, because
        step-to-step differences of a noisy curve are dominated by the noise. When the
        minimum comes too early for that window it falls back to ``"minimum"``.

        On the digits MLP with SGD + momentum or Adam, ``"minimum"`` lands within 3x of the
        best fixed rate of a sweep (tests/test_lr_range_test.py); ``"steepest"`` is more
        conservative (2-5x lower there).
        """
        if method not in ("steepest", "minimum"):
            raise ValueError(f"method: expected 'minimum' or 'steepest', got {method!r}")
        finite = np.isfinite(self.smoothed)
        lowest = int(np.argmin(np.where(finite, self.smoothed, np.inf)))
        w = max(1, round(0.05 * len(self.smoothed)))
        centres = np.arange(w, lowest - w + 1)
        if method == "minimum" or centres.size == 0:
            return float(self.rates[lowest] / 10.0)
        log_rates = np.log(self.rates)
        slope = ((self.smoothed[centres + w] - self.smoothed[centres - w])
                 / (log_rates[centres + w] - log_rates[centres - w]))
        return float(self.rates[centres[int(np.argmin(slope))]])

    def plot(self, ax=None, mark=("minimum", "steepest"), title="learning-rate range test"):
        """Raw and smoothed loss against the rate (log x axis), the suggestions marked."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(self.rates, self.losses, color="0.75", lw=0.8, label="loss per step")
        ax.plot(self.rates, self.smoothed, color="C0", lw=1.8, label="smoothed (EMA, bias-corrected)")
        for i, method in enumerate(mark):
            lr = self.suggestion(method)
            ax.axvline(lr, color=("#1a7f37", "#9a6700")[i % 2], ls="--", lw=1.2, label=f"{method}: {lr:.3g}")
        finite = self.smoothed[np.isfinite(self.smoothed)]
        if finite.size:
            ax.set_ylim(0.9 * finite.min() if finite.min() > 0 else None, 1.5 * finite[0] + 0.05)
        ax.set(xscale="log", xlabel="learning rate", ylabel="loss", title=title)
        ax.legend(fontsize=8)
        return ax


def _check_range_args(lr_min, lr_max, steps, batch_size, smooth, diverge_factor):
    lr_min = check_positive(lr_min, "lr_min")
    lr_max = check_positive(lr_max, "lr_max")
    if lr_max <= lr_min:
        raise ValueError(f"lr_max: expected a rate above lr_min={lr_min:g}, got {lr_max:g}")
    check_positive_int(steps, "steps")
    if steps < 2:
        raise ValueError(f"steps: expected at least 2 steps to span a range, got {steps}")
    check_positive_int(batch_size, "batch_size")
    if isinstance(smooth, bool) or not isinstance(smooth, (int, float)) or not 0 <= smooth < 1:
        raise ValueError(f"smooth: expected a number in [0, 1), got {smooth!r}")
    diverge_factor = check_positive(diverge_factor, "diverge_factor")
    if diverge_factor <= 1:
        raise ValueError(f"diverge_factor: expected a number > 1, got {diverge_factor}")
    return lr_min, lr_max


def _trained_state(model):
    """The part of ``model.state_dict()`` training changes: parameters and buffers (running statistics).

    The random generators are left out, as they were before this test existed: a
    ``Dropout`` layer goes on drawing where the test left it.
    """
    trained = {name for name, _ in model.named_parameters(remove_duplicate=False)}
    trained.update(name for name, _ in model.named_buffers(remove_duplicate=False))
    return {key: value for key, value in model.state_dict().items() if key in trained}


def _endless_batches(X, y, batch_size, rng):
    while True:
        yield from batches(X, y, batch_size, shuffle=True, rng=rng)


def lr_range_test(model, loss, optimizer_factory, data, *, lr_min, lr_max, steps, batch_size, smooth=0.98,
                  diverge_factor=4.0, rng=None) -> RangeTestResult:
    """Learning-rate range test: train while the rate grows geometrically; record the loss.

    Step ``t = 0 … steps − 1`` uses ``lr_t = lr_min · (lr_max / lr_min)^(t / (steps − 1))`` on a
    fresh mini-batch (epochs of shuffled batches, repeated as needed) and records that
    batch's loss before the update. The test stops early when the smoothed loss exceeds
    ``diverge_factor`` × the lowest smoothed loss so far, or when a loss is not finite: past
    that point the curve only shows the divergence. Plot ``losses`` against ``rates`` on a
    log axis and pick a rate in the steep descent (:meth:`RangeTestResult.suggestion`).
    Smith (2017), "Cyclical Learning Rates for Training Neural Networks"; fastai's ``lr_find``.

    Parameters
    ----------
    model : Module, or a callable ``() -> Module``
        A model is trained in place and then put back as it was (parameter values and
        batch-norm running statistics); a factory's fresh model is simply discarded.
    loss : a loss from :mod:`gdcourse.losses`
    optimizer_factory : callable ``params -> optimizer``
        E.g. ``lambda p: optim.SGD(p, lr=1e-3, momentum=0.9)``; its ``lr`` is overwritten
        at every step. A fresh optimizer is made so no state leaks into real training.
    data : (X, y)
    lr_min, lr_max : float
        The range, ``0 < lr_min < lr_max``.
    steps : int >= 2
    batch_size : int
    smooth : float in [0, 1)
        β of the bias-corrected moving average (0 disables smoothing).
    diverge_factor : float > 1
    rng : int or Generator
        Order of the mini-batches.
    """
    lr_min, lr_max = _check_range_args(lr_min, lr_max, steps, batch_size, smooth, diverge_factor)
    X, y = check_pair(data, "data", "X", "y")
    check_targets(loss, y, "y")
    if isinstance(model, Module):
        state = _trained_state(model)
    elif callable(model):
        model, state = model(), None
        if not isinstance(model, Module):
            raise TypeError(f"model: the factory returned a {type(model).__name__}, expected a Module")
    else:
        raise TypeError(f"model: expected a Module or a callable returning one, got {type(model).__name__}")
    optimizer = optimizer_factory(model.parameters())
    rates = lr_min * (lr_max / lr_min) ** (np.arange(steps) / (steps - 1))
    was_training = model.training
    model.train()
    try:
        losses, smoothed = _range_test_loop(model, loss, optimizer, rates, X, y, batch_size,
                                            float(smooth), diverge_factor, as_rng(rng))
    finally:
        if state is not None:
            model.load_state_dict(state, strict=False)
        model.train(was_training)
    n = len(losses)
    return RangeTestResult(rates[:n].copy(), np.array(losses), np.array(smoothed), n < steps, lr_min, lr_max)


def _range_test_loop(model, loss, optimizer, rates, X, y, batch_size, smooth, diverge_factor, rng):
    losses, smoothed = [], []
    average, best = 0.0, math.inf
    stream = _endless_batches(X, y, batch_size, rng)
    with np.errstate(over="ignore", invalid="ignore"):
        for t, lr in enumerate(rates):
            xb, yb = next(stream)
            optimizer.lr = float(lr)
            optimizer.zero_grad()
            out = model.forward(xb)
            try:
                value = loss.forward(out, yb)
            except ValueError:  # BCELoss refuses the NaN output of a diverged model: that ends the test
                if np.isfinite(out).all():
                    raise
                value = math.nan
            average = smooth * average + (1.0 - smooth) * value
            current = average / (1.0 - smooth ** (t + 1))
            losses.append(value)
            smoothed.append(current)
            if not math.isfinite(current) or current > diverge_factor * best:
                break
            best = min(best, current)
            model.backward(loss.backward(), input_grad=False)
            optimizer.step()
    return losses, smoothed


def roc_auc(positive_scores, negative_scores) -> float:
    """Area under the ROC curve: ``P(s⁺ > s⁻) + ½ P(s⁺ = s⁻)`` over all pairs (Mann–Whitney)."""
    pos = check_array(positive_scores, "positive_scores", ndim=1)
    neg = check_array(negative_scores, "negative_scores", ndim=1)
    diff = pos[:, None] - neg[None, :]
    return float(np.mean(diff > 0) + 0.5 * np.mean(diff == 0))
