"""Diagnose this run: training runs with one injected fault, for the learner to identify.

A :class:`Fault` pairs a broken training :class:`Setup` with the one change that fixes it,
and says what the learner should notice, why it happens and how to fix it. A run of a
setup (:func:`run_setup`) trains a small MLP on the digits (500 training images, under a
second) and records only what an engineer would look at: the loss per step and per epoch
(training and validation), the accuracy, the global gradient norm per step, the weight
gradient norm of every layer at the start and after each epoch, and activation statistics
(spread, dead and saturated units) at the start and at the end.

``generate(seed)`` picks a fault by seed and records both runs in a :class:`Case`;
consecutive seeds go through all faults before any repeats. The same seed always gives
the same case. ``gdcourse diagnose`` plays it in a terminal (:func:`add_command`), and
:func:`gdcourse.widgets.diagnose.diagnose_widget` in a notebook. ``tests/test_diagnose.py``
checks, on the numbers of the runs, that each fault shows the symptom it claims and that
its fix removes it.
"""

from __future__ import annotations

import argparse
import functools
import math
import secrets
import sys
import textwrap
import time
from dataclasses import dataclass, fields, replace

import numpy as np
from threadpoolctl import threadpool_limits

from gdcourse import diagnostics, nn, optim
from gdcourse import losses as L
from gdcourse import schedules as S
from gdcourse.data import load_digits, standardize
from gdcourse.train import TrainingDiverged, accuracy, fit
from gdcourse.validate import whole_number

__all__ = [
    "Setup", "Run", "Fault", "Case", "FAULTS", "fault_names", "build_model", "run_setup", "generate",
    "SignFlippedCrossEntropy",
    "sparkline", "symptom_lines", "outcome_lines", "choice_lines", "add_command", "run_diagnose",
]

NUM_CLASSES = 10
CHANCE = 1.0 / NUM_CLASSES
PROBE_SIZE = 256


# ---------------------------------------------------------------------------------------------- setups

@dataclass(frozen=True)
class Setup:
    """One training configuration on the digits; a run is a deterministic function of it and a seed.

    The model is ``64 → hidden… → 10``, each hidden layer ``Linear`` (+ ``BatchNorm1d``) +
    activation; the output layer's initial weights are scaled by ``out_scale`` (0.1 makes the
    initial loss ≈ ln 10). Faults are the fields marked *fault*.
    """

    hidden: tuple = (64, 64)
    activation: str = "relu"          # "relu" or "sigmoid"
    init: str = "he_normal"           # initializer of the hidden weights
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
    n_train: int = 500
    epochs: int = 8
    batch_size: int = 32

    def changes_from(self, other: Setup) -> list[str]:
        """``"field: other → self"`` for every field that differs (what a fix changes)."""
        return [f"{f.name}: {getattr(other, f.name)!r} → {getattr(self, f.name)!r}"
                for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]


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


def build_model(setup: Setup, rng) -> nn.Sequential:
    """The MLP of ``setup`` with its (possibly faulty) initialization."""
    sizes = (64, *setup.hidden, NUM_CLASSES)
    layers = []
    for n_in, n_out in zip(sizes[:-2], sizes[1:-1], strict=True):
        linear = nn.Linear(n_in, n_out, init=setup.init, rng=rng)
        linear.weight.value = linear.weight.value * setup.weight_gain
        linear.bias.value = np.full(n_out, setup.hidden_bias)
        layers.append(linear)
        if setup.batch_norm:
            layers.append(nn.BatchNorm1d(n_out))
        layers.append(nn.ReLU() if setup.activation == "relu" else nn.Sigmoid())
    out = nn.Linear(sizes[-2], NUM_CLASSES, init="he_normal", rng=rng)
    out.weight.value = out.weight.value * setup.out_scale
    layers.append(out)
    return nn.Sequential(*layers)


def _optimizer(setup: Setup, params):
    if setup.optimizer == "sgd":
        opt = optim.SGD(params, lr=setup.lr, momentum=setup.momentum)
    else:
        opt = optim.Adam(params, lr=setup.lr)
    return opt if setup.zero_grad else _NeverZeroGrad(opt)


def _schedule(setup: Setup):
    total = setup.epochs * -(-setup.n_train // setup.batch_size)
    schedule = S.CosineDecay(setup.lr, total) if setup.cosine_decay else S.Constant(setup.lr)
    if setup.warmup_steps:
        return S.LinearWarmup(schedule, setup.warmup_steps)
    return schedule if setup.cosine_decay else None


@functools.lru_cache(maxsize=1)
def _digits():
    return load_digits(test_fraction=0.2, val_fraction=0.2, rng=0)


def _data(setup: Setup, rng):
    """``(X_train, y_train, X_val, y_val)``: ``n_train`` images drawn by ``rng``, scaled as the setup says."""
    ds = _digits()
    index = rng.permutation(len(ds.X_train))[:setup.n_train]
    X_train, y_train = ds.X_train[index], ds.y_train[index]
    if setup.normalize_inputs:
        X_train, X_val = standardize(X_train, ds.X_val)
    else:
        X_train, X_val = X_train * 16.0, ds.X_val * 16.0  # load_digits scales 0…16 to [0, 1]; undo it
    if setup.shuffle_labels:
        y_train = rng.permutation(y_train)
    return X_train, y_train, X_val, ds.y_val


# ---------------------------------------------------------------------------------------------- runs

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


def _evaluate_val(model, loss, X_val, y_val, setup, order):
    """Validation loss and accuracy, in evaluation mode or (the fault) training mode in batches."""
    if not setup.eval_in_train_mode:
        model.eval()
        out = model(X_val)
        model.train()
        return loss.forward(out, y_val), accuracy(out, y_val)
    model.train()
    chunks = [order[i:i + setup.batch_size] for i in range(0, len(order), setup.batch_size)]
    out = np.concatenate([model(X_val[chunk]) for chunk in chunks if len(chunk) > 1])
    kept = np.concatenate([chunk for chunk in chunks if len(chunk) > 1])
    return loss.forward(out, y_val[kept]), accuracy(out, y_val[kept])


def _layer_names(model):
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    return tuple(f"{layer.in_features}→{layer.out_features}" for layer in linears)


def _weight_grad_norms(model, probe):
    return [norm for _, name, norm in diagnostics.gradient_norms(model, L.CrossEntropyLoss(), *probe)
            if name == "Linear"]


def _frozen(values, dtype=float):
    array = np.array(values, dtype=dtype)
    array.setflags(write=False)
    return array


@functools.lru_cache(maxsize=64)
def _cached_run(setup: Setup, seed: int) -> Run:
    rng = np.random.default_rng(seed)
    X_train, y_train, X_val, y_val = _data(setup, rng)
    model = build_model(setup, rng)
    loss = SignFlippedCrossEntropy() if setup.flip_gradient_sign else L.CrossEntropyLoss()
    probe = (X_train[:PROBE_SIZE], y_train[:PROBE_SIZE])
    val_order = np.argsort(y_val, kind="stable")  # a validation file stored class by class
    grads, val = [_weight_grad_norms(model, probe)], []
    activations_start = tuple(diagnostics.activation_stats(model, probe[0]))

    every = -(-setup.epochs // 10)
    epochs_measured = [0]

    def after_epoch(epoch, history, model):
        if (epoch + 1) % every == 0 or epoch + 1 == setup.epochs:
            val.append(_evaluate_val(model, L.CrossEntropyLoss(), X_val, y_val, setup, val_order))
            grads.append(_weight_grad_norms(model, probe))
            epochs_measured.append(epoch + 1)

    schedule = _schedule(setup)
    start, diverged_at = time.thread_time(), None
    try:
        history = fit(model, loss, _optimizer(setup, model.parameters()), (X_train, y_train),
                      epochs=setup.epochs, batch_size=setup.batch_size, schedule=schedule,
                      callbacks=[after_epoch], progress=False, rng=rng)
    except TrainingDiverged as err:
        history, diverged_at = err.history, len(err.history.step_loss)
    seconds = time.thread_time() - start
    reshuffled, activations_end = math.nan, ()
    if diverged_at is None:
        reshuffled = _evaluate_val(model, L.CrossEntropyLoss(), X_val, y_val, setup,
                                   rng.permutation(len(y_val)))[1]
        activations_end = tuple(diagnostics.activation_stats(model, probe[0]))
    step_loss = list(history.step_loss) + ([math.nan] if diverged_at is not None else [])
    step_grad = list(history.step_grad_norm) + ([math.nan] if diverged_at is not None else [])
    steps_per_epoch = -(-setup.n_train // setup.batch_size)
    return Run(
        setup=setup, seed=seed, step_loss=_frozen(step_loss), step_grad_norm=_frozen(step_grad),
        train_loss=_frozen(history.epochs.get("train_loss", [])),
        train_accuracy=_frozen(history.epochs.get("train_accuracy", [])),
        val_loss=_frozen([v[0] for v in val]), val_accuracy=_frozen([v[1] for v in val]),
        val_accuracy_reshuffled=float(reshuffled),
        checkpoint_steps=_frozen(np.array(epochs_measured) * steps_per_epoch, dtype=int),
        checkpoint_epochs=_frozen(epochs_measured, dtype=int),
        grad_norms=_frozen(grads), layer_names=_layer_names(model),
        activations_start=activations_start, activations_end=activations_end,
        diverged_at=diverged_at, seconds=seconds,
    )


def run_setup(setup: Setup, rng: int = 0) -> Run:
    """Train ``setup`` with seed ``rng`` (data subset, initialization, batch order) and record the run.

    Runs are cached (same setup and seed → the same :class:`Run` object). The matrices are
    small, so BLAS runs single-threaded: threads only wait on each other at this size.
    """
    if not isinstance(setup, Setup):
        raise TypeError(f"setup: expected a diagnose.Setup, got {type(setup).__name__}")
    seed = _check_seed(rng, "rng")
    with np.errstate(all="ignore"), threadpool_limits(limits=1, user_api="blas"):
        return _cached_run(setup, seed)


def _check_seed(seed, name) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"{name}: expected an int seed >= 0, got {seed!r}")
    return int(seed)


# ---------------------------------------------------------------------------------------------- faults

@dataclass(frozen=True)
class Fault:
    """One injected fault.

    ``broken`` and ``fixed`` differ only in what the fix changes. ``symptoms`` says what the
    learner should have noticed (tests assert it on the runs), ``explanation`` why it happens,
    ``fix`` what to do, ``tell`` the one sign that sets this fault apart from the others, and
    ``clue`` where to look, without naming the fault (the hint after a wrong answer).
    """

    name: str
    title: str
    broken: Setup
    fixed: Setup
    what_was_wrong: str
    symptoms: str
    explanation: str
    fix: str
    tell: str
    clue: str


_BASE = Setup()
_DEEP_RELU = Setup(hidden=(64,) * 6)
_WIDE_ADAM = Setup(hidden=(512, 256), optimizer="adam", lr=0.03, cosine_decay=True, out_scale=1.0,
                   batch_size=64, epochs=10)
_MEMORIZER = Setup(hidden=(256, 256), optimizer="adam", lr=3e-3, n_train=200, epochs=40)
_PLAIN_SGD = Setup(lr=0.01, momentum=0.0, epochs=6)

_FAULT_LIST = [
    Fault(
        "lr_too_high", "learning rate too high",
        replace(_BASE, lr=1.0), _BASE,
        "SGD (momentum 0.9) at learning rate 1.0, 50x the rate this network trains well with.",
        "The loss jumps to several times its starting value in the first epoch and never gets back below it; "
        "accuracy drops to chance; by the end every ReLU is dead and the gradients are zero.",
        "Each step overshoots the valley along the sharpest directions and lands higher than it started "
        "(on a quadratic, any rate above 2/L does this). The huge updates push the pre-activations far "
        "negative, so the ReLUs die and the loss settles at ln 10.",
        "Lower the rate (1.0 → 0.02): pick it with a learning-rate range test, add warmup if needed.",
        "a normal start, then a spike far above the first loss and no recovery",
        "Compare the loss in the first epoch with the very first loss, then look at the units at the end."),
    Fault(
        "lr_too_low", "learning rate too low",
        replace(_BASE, lr=1e-4), _BASE,
        "SGD (momentum 0.9) at learning rate 1e-4, 200x smaller than this network needs.",
        "The loss creeps down in a smooth, almost straight line and ends close to where it started; "
        "gradients are healthy at every layer and keep their size; no dead or saturated units.",
        "Every step is tiny, so after the whole budget the weights have hardly moved. Nothing is "
        "broken: unlike vanishing gradients or dead units, the gradient is there; the optimizer just "
        "takes steps that are far too small to use it.",
        "Raise the rate (1e-4 → 0.02), found with a range test.",
        "a smooth, slow decline with normal-sized gradients",
        "The loss does move: compare how far with the size of the gradients at every layer."),
    Fault(
        "dead_relu", "dead ReLUs (negative bias)",
        replace(_BASE, hidden_bias=-10.0), _BASE,
        "Every hidden bias was initialized to −10.",
        "Nearly all hidden units output 0 for every image from the first step; their weight gradients "
        "are exactly 0; the loss sits at ln 10 = 2.30 and the accuracy at chance.",
        "With b = −10 the pre-activation w·x + b is negative for every input, so ReLU outputs 0 and its "
        "derivative is 0: no gradient reaches the unit's weights or bias and it can never recover. "
        "Only the output bias learns (the class frequencies).",
        "Initialize biases to 0 (He weights); leaky ReLU would also keep a gradient flowing.",
        "a flat loss at ln 10 with almost every unit dead and zero gradients from step 0",
        "Look at the dead-unit percentages already at the start, and at the gradient norms."),
    Fault(
        "exploding_init", "exploding gradients (bad init)",
        replace(_DEEP_RELU, weight_gain=3.0), _DEEP_RELU,
        "Six hidden ReLU layers whose weights were drawn with 3x the He standard deviation.",
        "The first loss is far above ln 10; the spread of the activations grows about 3x per layer and "
        "every layer's gradient norm is above 10; within a few steps the loss explodes (to NaN, or to "
        "astronomical values after which every unit is dead).",
        "He initialization, Var(w) = 2/n_in, keeps the size of ReLU activations constant from layer to "
        "layer. With 3x the standard deviation every layer multiplies the signal by about 3, so six "
        "layers give ~700x larger logits: a huge loss, huge gradients, and updates that overflow.",
        "Use He initialization; normalization layers, residual connections and clipping add safety.",
        "a huge loss from the very first step, activations growing layer after layer",
        "Look at the very first loss and at the activations' spread, layer after layer."),
    Fault(
        "vanishing_sigmoid", "vanishing gradients (deep sigmoid)",
        Setup(hidden=(32,) * 8, activation="sigmoid", init="xavier_normal"), Setup(hidden=(32,) * 8),
        "Eight hidden sigmoid layers of 32 units (Xavier init).",
        "The first layer's gradient is about a million times smaller than the last layer's; the loss "
        "stays near ln 10 and the accuracy near chance, with no dead units.",
        "Backpropagation multiplies by σ'(z) ≤ 1/4 and by the weights at every layer; with Xavier "
        "weights each sigmoid layer shrinks the gradient about 4x, so after eight layers the early "
        "layers receive almost nothing and do not learn.",
        "ReLU with He initialization (or batch norm / residual connections); sigmoid only at the output.",
        "gradient norms falling by orders of magnitude towards the input layer",
        "Compare the gradient norm of the first layer with that of the last."),
    Fault(
        "sign_flip", "sign flipped in the gradient",
        replace(_PLAIN_SGD, flip_gradient_sign=True), _PLAIN_SGD,
        "The loss's backward returned −dL/dz, so every update climbed the loss.",
        "The training loss rises from the very first steps, smoothly and faster and faster, and the "
        "validation loss with it; accuracy never gets above chance.",
        "The optimizer subtracts lr times what it is told is the gradient; with the sign flipped that is "
        "gradient ascent. The rise is smooth because each step is a consistent step uphill, not an "
        "overshoot, and it accelerates because the logits (and so the loss) grow without bound.",
        "Fix the sign; a gradient check against finite differences finds such bugs.",
        "a smooth rise of the loss from the first steps",
        "Which way does the loss move from the very first steps, and how smoothly?"),
    Fault(
        "shuffled_labels", "labels misaligned with images",
        replace(_MEMORIZER, shuffle_labels=True), _MEMORIZER,
        "The training labels were permuted independently of the images (a data-pipeline bug).",
        "Training accuracy climbs slowly towards 100% while validation accuracy stays at chance (~10%) "
        "and the validation loss rises from the first epoch.",
        "With labels unrelated to the images there is nothing to generalize, yet a big enough network "
        "can memorize 200 random labels, slowly. A gap at chance level from epoch 1 is a data bug, not "
        "ordinary overfitting (which starts from a validation accuracy well above chance).",
        "Keep images and labels aligned (one permutation for both); look at a few (image, label) pairs.",
        "training accuracy rising while validation stays at chance from the start",
        "Compare training and validation accuracy from the first epoch on."),
    Fault(
        "no_normalization", "inputs not normalized",
        replace(_BASE, normalize_inputs=False), _BASE,
        "Raw pixel values 0…16 were fed to the network, without standardization.",
        "The first-layer activations are several times wider than usual and the first gradient norm is "
        "several times larger; with the same learning rate the loss jumps up and down and ends well "
        "above that of the normalized run.",
        "Large, uncentred inputs make the first layer's pre-activations large and the loss surface "
        "ill-conditioned: a rate that suits the other layers is too big along the input directions, so "
        "training oscillates (with a rate small enough for those it would crawl).",
        "Standardize each feature with the training set's mean and std (the same transform for val/test).",
        "wide first-layer activations, large gradients and an unsteady loss",
        "Look at the first layer's activation spread, the first gradient norms and the first loss."),
    Fault(
        "adam_no_warmup", "Adam without warmup",
        _WIDE_ADAM, replace(_WIDE_ADAM, warmup_steps=24),
        "Adam at peak rate 0.03 (cosine decay) on a wide 512-256 network, at full rate from step 0.",
        "The loss jumps to several times its initial value within the first few steps, then comes "
        "back down and training proceeds normally.",
        "Adam's first updates move every weight by about lr at once (m̂/√v̂ ≈ ±1 whatever the "
        "gradient's size); in a wide layer these aligned moves add up to a huge change of the outputs. "
        "Warmup keeps the first steps small while the moment estimates and the network settle.",
        "A linear warmup of the rate over the first 24 steps (or a lower peak rate).",
        "a short spike right at the start, then normal training",
        "Look closely at the first few steps of the training loss, then at the end of the run."),
    Fault(
        "bn_train_mode_eval", "batch norm in train mode at eval",
        replace(_BASE, batch_norm=True, eval_in_train_mode=True), replace(_BASE, batch_norm=True),
        "Batch norm was left in training mode for evaluation, on validation batches sorted by class.",
        "Training accuracy is high but validation accuracy is far lower; scoring the same validation "
        "images again in a shuffled order gives a much higher accuracy.",
        "In training mode batch norm normalizes with the mean and variance of the current batch. A "
        "batch of a single class has very different statistics from a mixed training batch, so each "
        "prediction depends on which images share its batch. Evaluation mode uses the running averages.",
        "Call model.eval() before evaluating (and model.train() afterwards).",
        "validation accuracy that changes when the validation images are reordered",
        "Compare the validation accuracy with the reshuffled one in the title line."),
    Fault(
        "no_zero_grad", "gradients never zeroed",
        replace(_BASE, zero_grad=False), _BASE,
        "zero_grad() was never called, so every backward added to the old gradients.",
        "The gradient norm grows steadily step after step; the loss swings up and down with growing "
        "amplitude and blows up.",
        "Backward accumulates into .grad. Without zeroing, the update at step t uses the sum of all "
        "gradients so far: a momentum of 1 that never forgets, so the steps keep growing even where "
        "the current gradient is small.",
        "Call optimizer.zero_grad() at every step, before backward.",
        "a global gradient norm that keeps growing with the step count",
        "Follow the global gradient norm step by step."),
]

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _FAULT_LIST}
"""Fault name → :class:`Fault`, in the order the choices are listed."""


def fault_names() -> list[str]:
    return list(FAULTS)


def _fault_for_seed(seed: int) -> Fault:
    """Seeds ``k·n … k·n + n − 1`` visit all ``n`` faults once, in an order drawn from ``k``."""
    names = fault_names()
    order = np.random.default_rng(seed // len(names)).permutation(len(names))
    return FAULTS[names[order[seed % len(names)]]]


def _check_fault_name(name) -> Fault:
    if name not in FAULTS:
        raise ValueError(f"fault: expected one of {', '.join(FAULTS)}, got {name!r}")
    return FAULTS[name]


# ---------------------------------------------------------------------------------------------- cases

@dataclass(frozen=True, eq=False)
class Case:
    """A case to diagnose: the fault, the broken run the learner sees and the fixed run."""

    seed: int
    fault: Fault
    broken: Run
    fixed: Run

    @property
    def choices(self) -> list[str]:
        """Fault names in the order the numbered list shows them."""
        return fault_names()

    def resolve(self, answer) -> str | None:
        """The fault name meant by ``answer``: a name, a title, or a 1-based number; None if unknown."""
        if isinstance(answer, (int, np.integer)) and not isinstance(answer, bool):
            return self.choices[answer - 1] if 1 <= answer <= len(self.choices) else None
        if not isinstance(answer, str):
            return None
        text = answer.strip().lower().replace("-", "_").replace(" ", "_")
        if text.isdigit():
            return self.resolve(int(text))
        for name, fault in FAULTS.items():
            if text in (name, fault.title.lower().replace("-", "_").replace(" ", "_")):
                return name
        return None

    def is_correct(self, answer) -> bool:
        return self.resolve(answer) == self.fault.name


def generate(seed: int, fault: str | None = None) -> Case:
    """The case of ``seed``: a fault chosen by the seed (or the one named) and both runs, seeded by ``seed``.

    Consecutive seeds cycle through all faults before one repeats; the same seed gives the
    same case (and the runs are cached, so asking again is instant).
    """
    seed = _check_seed(seed, "seed")
    chosen = _fault_for_seed(seed) if fault is None else _check_fault_name(fault)
    return Case(seed, chosen, run_setup(chosen.broken, seed), run_setup(chosen.fixed, seed))


# ---------------------------------------------------------------------------------------------- text

WIDTH, HEIGHT = 78, 24
BLOCKS = "▁▂▃▄▅▆▇█"
ASCII_LEVELS = "_.-~=+*#"


def _bins(values, width):
    """Means of ``values`` over at most ``width`` equal bins (NaN if a bin holds a non-finite value)."""
    values = np.asarray(values, dtype=float)
    if len(values) <= width:
        return values
    edges = np.linspace(0, len(values), width + 1).astype(int)[:-1]
    sums = np.add.reduceat(values, edges)
    return sums / np.diff(np.append(edges, len(values)))


def sparkline(values, width=40, log=False, charset=BLOCKS, lo=None, hi=None, min_span=0.0) -> str:
    """A one-line chart of ``values``: one character per bin, its height from the bin's mean.

    The vertical range is ``[lo, hi]`` (default: the data's), widened around its centre to at
    least ``min_span`` so that noise on a flat curve stays flat; ``log`` works on ``log10`` of
    the values (losses, norms; ``lo``/``hi``/``min_span`` are then in decades). A bin with a
    non-finite (or, on a log scale, non-positive) value shows ``!``; an empty series gives "".
    """
    binned = _bins(values, width)
    if binned.size == 0:
        return ""
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.log10(binned) if log else binned.astype(float)
    finite = np.isfinite(scaled)
    if not finite.any():
        return "!" * len(binned)
    low = np.min(scaled[finite]) if lo is None else lo
    high = np.max(scaled[finite]) if hi is None else hi
    if high - low < min_span:
        centre = (high + low) / 2
        low, high = centre - min_span / 2, centre + min_span / 2
    span = high - low if high > low else 1.0
    levels = np.clip(np.rint((np.where(finite, scaled, low) - low) / span * (len(charset) - 1)),
                     0, len(charset) - 1).astype(int)
    return "".join(charset[level] if ok else "!" for level, ok in zip(levels, finite, strict=True))


def _number(value) -> str:
    """At most 6 characters: ``0.166``, ``118``, ``4.6e3``, ``1.5e-6``, ``nan``."""
    if value is None or not np.isfinite(value):
        return "nan" if value is not None and np.isnan(value) else "inf"
    if value == 0:
        return "0"
    if 1e-2 <= abs(value) < 1e3:
        return f"{value:.3g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _percent(value) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{100 * value:.1f}%"


def _ends(values):
    return (values[0], values[-1]) if len(values) else (None, None)


def _curve_rows(run: Run, charset, width) -> list[str]:
    spark = width - 38
    rows = [f"{'':20}{'start':>8} {'end':>8}  curve"]
    log_scale = {"log": True, "min_span": 0.3}   # a flat curve stays flat unless it moves by 2x
    accuracy_scale = {"lo": 0.0, "hi": 1.0}
    series = [("train loss / step", run.step_loss, log_scale, _number),
              ("val loss", run.val_loss, log_scale, _number),
              ("train acc / epoch", run.train_accuracy, accuracy_scale, _percent),
              ("val accuracy", run.val_accuracy, accuracy_scale, _percent),
              ("gradient norm / step", run.step_grad_norm, log_scale, _number)]
    for label, values, scale, fmt in series:
        first, last = _ends(values)
        text = "—" if first is None else fmt(first)
        end = "—" if last is None else fmt(last)
        rows.append(f"{label:20}{text:>8} {end:>8}  {sparkline(values, spark, charset=charset, **scale)}")
    return rows


def _layer_table(title, columns, rows, width):
    """A table with one column per layer; as many columns as fit in ``width``."""
    label_width, cell = 15, 7
    fit = max(1, (width - label_width) // cell)
    shown = list(range(len(columns)))
    if len(columns) > fit:  # keep the ends: the contrast between first and last layers is the point
        shown = shown[:fit // 2] + shown[len(columns) - (fit - fit // 2):]
    lines = [f"{title:{label_width}}" + "".join(f"{columns[i]:>{cell}}" for i in shown)]
    for label, values in rows:
        lines.append(f"  {label:{label_width - 2}}" + "".join(f"{values[i]:>{cell}}" for i in shown))
    return lines


def _gradient_rows(run: Run, width) -> list[str]:
    start = [_number(v) for v in run.grad_norms[0]]
    end = [_number(v) for v in run.grad_norms[-1]] if len(run.grad_norms) > 1 else ["—"] * len(start)
    columns = [str(i + 1) for i in range(len(start))]
    return _layer_table("grad norm/layer", columns, [("at start", start), ("at end", end)], width)


def _activation_rows(run: Run, width) -> list[str]:
    n = len(run.activations_start)
    end = run.activations_end or (None,) * n
    rows = [("std, start", [_number(s.std) for s in run.activations_start]),
            ("dead %, start", [f"{100 * s.dead:.0f}" for s in run.activations_start]),
            ("dead %, end", ["—" if s is None else f"{100 * s.dead:.0f}" for s in end]),
            ("saturated %", ["—" if s is None else f"{100 * s.saturated:.0f}" for s in end])]
    kind = run.activations_start[0].layer if n else "activation"
    return _layer_table(f"{kind} layer"[:15], [str(i + 1) for i in range(n)], rows, width)


def symptom_lines(run: Run, seed=None, charset=BLOCKS, width=WIDTH) -> list[str]:
    """What the learner sees of ``run``, as lines of at most ``width`` characters (15 lines)."""
    title = "Diagnose this run" + (f" · case {seed}" if seed is not None else "")
    where = (f" · diverged at step {run.diverged_at}" if run.diverged_at is not None
             else f" · {run.num_steps} steps")
    lines = [f"{title}{where} · val acc, reshuffled: {_percent(run.val_accuracy_reshuffled)}"[:width]]
    lines += _curve_rows(run, charset, width)
    lines += _gradient_rows(run, width) + _activation_rows(run, width)
    return [line[:width] for line in lines]


def choice_lines(width=WIDTH) -> list[str]:
    items = [f"{i + 1:>2}. {FAULTS[name].title}" for i, name in enumerate(fault_names())]
    half = -(-len(items) // 2)
    column = width // 2
    left, right = items[:half], items[half:] + [""]
    return [f"{a[:column - 1]:{column}}{b[:column - 1]}".rstrip() for a, b in zip(left, right, strict=False)]


def outcome_lines(case: Case, answer: str, charset=BLOCKS, width=WIDTH) -> list[str]:
    """The verdict on ``answer`` (a fault name), the explanation, the fix and the fixed run's numbers."""
    fault = case.fault
    if answer == fault.name:
        lines = textwrap.wrap(f"Right: {fault.title}.", width)
    else:
        chosen = FAULTS[answer]
        lines = textwrap.wrap(f"Not this time: you chose {chosen.title!r}, but it was {fault.title!r}. "
                              f"({chosen.title.capitalize()} would show {chosen.tell}.)", width)
    for label, text in (("What was wrong: ", fault.what_was_wrong), ("Why: ", fault.explanation),
                        ("Fix: ", fault.fix)):
        lines += textwrap.wrap(label + text, width)
    changes = "; ".join(case.fixed.setup.changes_from(case.broken.setup))
    lines += textwrap.wrap(f"The fixed run ({changes}):", width)
    lines += _curve_rows(case.fixed, charset, width)
    return [line[:width] for line in lines]


# ---------------------------------------------------------------------------------------------- command

def _fault_arg(text: str) -> str:
    name = text.strip().lower().replace("-", "_")
    if name not in FAULTS:
        raise argparse.ArgumentTypeError(f"unknown fault {text!r}; choose from {', '.join(FAULTS)}")
    return name


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--seed", type=whole_number, metavar="S",
                        help="case to start with (default: a random one, shown); Enter moves to S+1")
    parser.add_argument("--fault", type=_fault_arg, metavar="NAME",
                        help="only this fault (see --list); the seed still varies the runs")
    parser.add_argument("--list", action="store_true", help="list the faults and exit")
    return parser


def add_command(subparsers) -> None:
    parser = subparsers.add_parser(
        "diagnose", help="diagnose a training run with one injected fault",
        description="Train a small network with one injected fault, show what an engineer would see "
                    "(loss curves, gradient norms, activation statistics) and ask for the cause. "
                    "Answer with a number; q quits.")
    configure_parser(parser).set_defaults(run=run_diagnose)


def _charset(out) -> str:
    encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "")
    return BLOCKS if encoding.startswith("utf") else ASCII_LEVELS


def _ask_choice(input_fn, out, count) -> int | None:
    """A number in 1…count from the learner; None for q. EOF and Ctrl-C propagate."""
    while True:
        text = input_fn(f"Your diagnosis (1-{count}, q to quit): ").strip().lower()
        if text in ("q", "quit", "exit"):
            return None
        if text.isdigit() and 1 <= int(text) <= count:
            return int(text)
        print(f"  Please type a number from 1 to {count}, or q.", file=out)


def _play(case: Case, input_fn, out, charset) -> bool:
    """Show one case and its outcome; False when the learner quits."""
    for line in symptom_lines(case.broken, case.seed, charset) + ["", "What is the most likely cause?"]:
        print(line, file=out)
    for line in choice_lines():
        print(line, file=out)
    choice = _ask_choice(input_fn, out, len(case.choices))
    if choice is None:
        return False
    print("", file=out)
    for line in outcome_lines(case, case.choices[choice - 1], charset):
        print(line, file=out)
    again = input_fn(f"Enter: next case (seed {case.seed + 1}) · q: quit ").strip().lower()
    return again not in ("q", "quit", "exit")


def run_diagnose(args, *, input_fn=None, out=None, err=None) -> int:
    """Run ``gdcourse diagnose``; ``input_fn``/``out``/``err`` let tests script the terminal.

    Exit status: 0 after q or end of input, 130 after Ctrl-C.
    """
    input_fn = input_fn or input
    out, err = out or sys.stdout, err or sys.stderr
    if args.list:
        for i, (name, fault) in enumerate(FAULTS.items(), 1):
            print(f"{i:>2}. {name:20} {fault.title}", file=out)
        return 0
    seed = args.seed if args.seed is not None else secrets.randbelow(10_000)
    charset = _charset(out)
    try:
        while True:
            print(f"Training case {seed}…", file=out, flush=True)
            if not _play(generate(seed, args.fault), input_fn, out, charset):
                return 0
            seed += 1
    except EOFError:
        print("", file=out)
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted", file=err)
        return 130


def main(argv=None, **io) -> int:
    """Parse ``argv`` as ``gdcourse diagnose`` would and run it (``io``: see :func:`run_diagnose`)."""
    parser = configure_parser(argparse.ArgumentParser(prog="gdcourse diagnose"))
    return run_diagnose(parser.parse_args(argv), **io)
