"""The run model of ``gdcourse diagnose``: a training :class:`Setup`, and the :class:`Run` it records.

A run trains the course's MLP (:func:`gdcourse.experiments.common.mlp`) on ``n_train`` images drawn
from the course's digits split (:func:`gdcourse.experiments.common.digits`, 988 training and 359
validation images) and records only what an engineer would look at: the loss per step and per epoch
(training and validation), the accuracy, the global gradient norm per step, the weight-gradient
norm of every layer at the start and after each epoch, and activation statistics (spread, dead and
saturated units) at the start and at the end. The fields of :class:`Setup` marked *fault* inject
the bugs of :mod:`gdcourse.diagnose.faults`; two of them need a small piece of broken machinery,
:class:`SignFlippedCrossEntropy` and ``_NeverZeroGrad``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, fields

import numpy as np

from gdcourse import diagnostics, nn, optim
from gdcourse import losses as L
from gdcourse import schedules as S
from gdcourse.data import standardize
from gdcourse.experiments.common import cached, digits, mlp
from gdcourse.train import TrainingDiverged, accuracy, fit
from gdcourse.validate import is_seed

__all__ = ["NUM_CLASSES", "CHANCE", "PROBE_SIZE", "Setup", "SignFlippedCrossEntropy", "build_model",
           "Run", "run_setup"]

NUM_CLASSES = 10
CHANCE = 1.0 / NUM_CLASSES
PROBE_SIZE = 256
"""Training images on which the per-layer gradient norms and activation statistics are measured."""


@dataclass(frozen=True)
class Setup:
    """One training configuration on the digits; a run is a deterministic function of it and a seed.

    The model is ``64 → hidden… → 10``, each hidden layer ``Linear`` (+ ``BatchNorm1d``) +
    activation; the output layer's initial weights are scaled by ``out_scale`` (0.1 makes the
    initial loss ≈ ln 10). Faults are the fields marked *fault*.
    """

    hidden: tuple = (64, 64)
    activation: str = "relu"          # "relu" or "sigmoid"
    init: str = "he_normal"           # initializer of the hidden weights (the output layer's is He)
    weight_gain: float = 1.0          # fault: hidden weights multiplied by this after init
    hidden_bias: float = 0.0          # fault: initial bias of the hidden layers
    out_scale: float = 0.1
    batch_norm: bool = False
    optimizer: str = "sgd"            # "sgd" or "adam"
    lr: float = 0.02
    momentum: float = 0.9             # SGD only
    warmup_steps: int = 0             # linear warmup of the rate from 0
    cosine_decay: bool = False        # cosine decay of the rate to 0 over the run
    flip_gradient_sign: bool = False  # fault: the loss's backward returns −dL/dz
    zero_grad: bool = True            # fault when False: gradients accumulate across steps
    shuffle_labels: bool = False      # fault: training labels permuted independently of the images
    normalize_inputs: bool = True     # fault when False: raw pixel values 0…16
    eval_in_train_mode: bool = False  # fault: validation scored in training mode, class-sorted batches
    n_train: int = 500                # drawn from the 988 training images of the course's split
    epochs: int = 8
    batch_size: int = 32

    def changes_from(self, other: Setup) -> list[str]:
        """``"field: other → self"`` for every field that differs (what a fix changes)."""
        return [f"{f.name}: {getattr(other, f.name)!r} → {getattr(self, f.name)!r}"
                for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_train // self.batch_size)


# ---------------------------------------------------------------- the injected machinery

class SignFlippedCrossEntropy(L.CrossEntropyLoss):
    """Cross-entropy whose backward has the wrong sign (the injected bug): descent becomes ascent."""

    def backward(self):
        return -super().backward()


class _NeverZeroGrad:
    """An optimizer whose ``zero_grad`` does nothing (the injected bug); everything else is delegated."""

    def __init__(self, optimizer):
        self._optimizer = optimizer

    @property
    def lr(self):
        return self._optimizer.lr

    @lr.setter
    def lr(self, value):
        self._optimizer.lr = value

    def zero_grad(self):
        pass

    def step(self):
        self._optimizer.step()



# ---------------------------------------------------------------- model, optimizer, data

def build_model(setup: Setup, rng) -> nn.Sequential:
    """The MLP of ``setup`` with its (possibly faulty) initialization; ``rng`` a Generator or int seed."""
    return mlp((64, *setup.hidden, NUM_CLASSES), activation=setup.activation, init=setup.init,
               out_init="he_normal", weight_gain=setup.weight_gain, hidden_bias=setup.hidden_bias,
               out_scale=setup.out_scale, norm="batch" if setup.batch_norm else None, rng=rng)


def _optimizer(setup: Setup, params):
    if setup.optimizer == "sgd":
        opt = optim.SGD(params, lr=setup.lr, momentum=setup.momentum)
    else:
        opt = optim.Adam(params, lr=setup.lr)
    return opt if setup.zero_grad else _NeverZeroGrad(opt)


def _schedule(setup: Setup):
    """The rate schedule, or None for a constant rate without warmup (the optimizer's own rate)."""
    total = setup.epochs * setup.steps_per_epoch
    schedule = S.CosineDecay(setup.lr, total) if setup.cosine_decay else S.Constant(setup.lr)
    if setup.warmup_steps:
        return S.LinearWarmup(schedule, setup.warmup_steps)
    return schedule if setup.cosine_decay else None


def _data(setup: Setup, rng):
    """``(X_train, y_train, X_val, y_val)``: ``n_train`` of the training images drawn by ``rng``, scaled
    as the setup says (standardized with the statistics of those images, or raw pixels 0…16)."""
    ds = digits()
    index = rng.permutation(len(ds.X_train))[:setup.n_train]
    X_train, y_train = ds.X_train[index], ds.y_train[index]
    if setup.normalize_inputs:
        X_train, X_val = standardize(X_train, ds.X_val)
    else:
        X_train, X_val = X_train * 16.0, ds.X_val * 16.0  # digits() scales 0…16 to [0, 1]; undo it
    if setup.shuffle_labels:
        y_train = rng.permutation(y_train)
    return X_train, y_train, X_val, ds.y_val


# ---------------------------------------------------------------- the record of a run

@dataclass(frozen=True, eq=False)
class Run:
    """What a run of a :class:`Setup` showed (arrays are read-only).

    Attributes
    ----------
    step_loss, step_grad_norm : (S,)
        Mini-batch loss and global gradient norm of every step; a diverged run ends in NaN.
    train_loss, train_accuracy : (E,)
        Per completed epoch.
    checkpoint_steps, checkpoint_epochs : (K,)
        When ``grad_norms`` and the validation scores were measured: at step 0, then at the end
        of every ``k``-th epoch, ``k = ceil(epochs / 10)`` (at most about 10 measurements: they
        cost as much as the training of a small run).
    val_loss, val_accuracy : (K − 1,)
        At the checkpoints after step 0, validation scored as the setup says.
    val_accuracy_reshuffled : float
        Final validation accuracy scored again, same procedure, images in a random order.
    grad_norms : (K, layers)
        Weight-gradient norm of each ``Linear`` layer (input side first) on a fixed probe batch.
    activations_start, activations_end : tuple of :class:`gdcourse.diagnostics.LayerStats`
        Activation layers on the probe batch; ``activations_end`` is empty for a diverged run.
    diverged_at : int or None
        The step whose loss was not finite.
    """

    setup: Setup
    seed: int
    step_loss: np.ndarray
    step_grad_norm: np.ndarray
    train_loss: np.ndarray
    train_accuracy: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    val_accuracy_reshuffled: float
    checkpoint_steps: np.ndarray
    checkpoint_epochs: np.ndarray
    grad_norms: np.ndarray
    layer_names: tuple
    activations_start: tuple
    activations_end: tuple
    diverged_at: int | None
    seconds: float

    @property
    def initial_loss(self) -> float:
        return float(self.step_loss[0])

    @property
    def num_steps(self) -> int:
        return len(self.step_loss)

    def dead_fraction(self, when="end") -> float:
        """Share of hidden units (all activation layers) dead on the probe batch; NaN if not measured."""
        stats = self.activations_end if when == "end" else self.activations_start
        if not stats:
            return math.nan
        widths = np.array(self.setup.hidden[:len(stats)], dtype=float)
        return float(np.dot([s.dead for s in stats], widths) / widths.sum())


# ---------------------------------------------------------------- measuring

def _evaluate_val(model, X_val, y_val, setup, order):
    """Validation loss and accuracy, in evaluation mode or (the fault) training mode in batches of ``order``."""
    loss = L.CrossEntropyLoss()
    if not setup.eval_in_train_mode:
        model.eval()
        out = model(X_val)
        model.train()
        return loss.forward(out, y_val), accuracy(out, y_val)
    model.train()
    chunks = [order[i:i + setup.batch_size] for i in range(0, len(order), setup.batch_size)]
    chunks = [chunk for chunk in chunks if len(chunk) > 1]   # batch norm cannot normalize a batch of one
    out = np.concatenate([model(X_val[chunk]) for chunk in chunks])
    kept = np.concatenate(chunks)
    return loss.forward(out, y_val[kept]), accuracy(out, y_val[kept])


def _layer_names(model):
    return tuple(f"{layer.in_features}→{layer.out_features}" for layer in model if isinstance(layer, nn.Linear))


def _weight_grad_norms(model, probe):
    return [norm for _, name, norm in diagnostics.gradient_norms(model, L.CrossEntropyLoss(), *probe)
            if name == "Linear"]


def _with_nan_if_diverged(values, diverged_at):
    return np.array(list(values) + ([math.nan] if diverged_at is not None else []), dtype=float)


@cached(maxsize=64)
def _record(setup: Setup, rng: int) -> Run:
    """Train ``setup`` with seed ``rng`` and record the run (cached per setup and seed, read-only)."""
    seed, rng = rng, np.random.default_rng(rng)
    with np.errstate(all="ignore"):      # the faults overflow on purpose
        X_train, y_train, X_val, y_val = _data(setup, rng)
        model = build_model(setup, rng)
        loss = SignFlippedCrossEntropy() if setup.flip_gradient_sign else L.CrossEntropyLoss()
        probe = (X_train[:PROBE_SIZE], y_train[:PROBE_SIZE])
        val_order = np.argsort(y_val, kind="stable")  # a validation file stored class by class
        grads, val, epochs_measured = [_weight_grad_norms(model, probe)], [], [0]
        activations_start = tuple(diagnostics.activation_stats(model, probe[0]))
        every = -(-setup.epochs // 10)

        def after_epoch(epoch, history, model):
            if (epoch + 1) % every == 0 or epoch + 1 == setup.epochs:
                val.append(_evaluate_val(model, X_val, y_val, setup, val_order))
                grads.append(_weight_grad_norms(model, probe))
                epochs_measured.append(epoch + 1)

        start, diverged_at = time.thread_time(), None
        try:
            history = fit(model, loss, _optimizer(setup, model.parameters()), (X_train, y_train),
                          epochs=setup.epochs, batch_size=setup.batch_size, schedule=_schedule(setup),
                          callbacks=[after_epoch], progress=False, rng=rng)
        except TrainingDiverged as err:
            history, diverged_at = err.history, len(err.history.step_loss)
        seconds = time.thread_time() - start
        reshuffled, activations_end = math.nan, ()
        if diverged_at is None:
            reshuffled = _evaluate_val(model, X_val, y_val, setup, rng.permutation(len(y_val)))[1]
            activations_end = tuple(diagnostics.activation_stats(model, probe[0]))
    return Run(
        setup=setup, seed=seed,
        step_loss=_with_nan_if_diverged(history.step_loss, diverged_at),
        step_grad_norm=_with_nan_if_diverged(history.step_grad_norm, diverged_at),
        train_loss=np.array(history.epochs.get("train_loss", []), dtype=float),
        train_accuracy=np.array(history.epochs.get("train_accuracy", []), dtype=float),
        val_loss=np.array([v[0] for v in val], dtype=float),
        val_accuracy=np.array([v[1] for v in val], dtype=float),
        val_accuracy_reshuffled=float(reshuffled),
        checkpoint_steps=np.array(epochs_measured, dtype=int) * setup.steps_per_epoch,
        checkpoint_epochs=np.array(epochs_measured, dtype=int),
        grad_norms=np.array(grads, dtype=float), layer_names=_layer_names(model),
        activations_start=activations_start, activations_end=activations_end,
        diverged_at=diverged_at, seconds=seconds,
    )


def run_setup(setup: Setup, rng: int = 0) -> Run:
    """Train ``setup`` with seed ``rng`` (data subset, initialization, batch order) and record the run.

    Runs are cached (same setup and seed → the same :class:`Run` object, read-only;
    ``run_setup.cache_clear()`` empties the cache) and run on one BLAS thread (see
    :func:`gdcourse.experiments.common.one_blas_thread`).
    """
    if not isinstance(setup, Setup):
        raise TypeError(f"setup: expected a diagnose.Setup, got {type(setup).__name__}")
    if not is_seed(rng):
        raise ValueError(f"rng: expected an int seed >= 0, got {rng!r}")
    return _record(setup, int(rng))


run_setup.cache_clear = _record.cache_clear
