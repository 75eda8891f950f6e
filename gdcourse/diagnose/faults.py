"""The fault catalogue of ``gdcourse diagnose``: eleven broken training setups, as a table.

Each :class:`Fault` pairs a broken :class:`~gdcourse.diagnose.run.Setup` with the one change that
fixes it, and says what the learner should notice, why it happens and how to fix it.
``tests/test_diagnose.py`` checks, on the numbers of the runs, that each fault shows the symptoms
it claims and that its fix removes them. :data:`FAULTS` lists them in the order the choices are
shown; :func:`fault_for_seed` deals them out so that consecutive seeds visit every fault once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gdcourse.diagnose.run import Setup

__all__ = ["Fault", "FAULTS", "fault_names", "fault_for_seed", "check_fault_name"]


@dataclass(frozen=True, kw_only=True)
class Fault:
    """One injected fault: the broken and the fixed setup, and what to say about it.

    name, title : the identifier (``--fault``, the check's answer) and the label of the choice.
    broken, fixed : :class:`Setup` that differ only in what the fix changes.
    what_was_wrong : the fault in one sentence, told after the answer.
    symptoms : what the learner should have noticed (``tests/test_diagnose.py`` asserts it on the runs).
    explanation : why it happens.
    fix : what to do.
    tell : the one sign that sets this fault apart from the others (shown after a wrong answer that
        chose this fault: "… would show <tell>").
    clue : where to look, without naming the fault (the hint after a wrong answer).
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


# Setups that several faults start from.
_BASE = Setup()                                         # 64-64 ReLU, SGD with momentum, 8 epochs
_DEEP_RELU = Setup(hidden=(64,) * 6)
_WIDE_ADAM = Setup(hidden=(512, 256), optimizer="adam", lr=0.03, cosine_decay=True, out_scale=1.0,
                   batch_size=64, epochs=10)
_MEMORIZER = Setup(hidden=(256, 256), optimizer="adam", lr=3e-3, n_train=200, epochs=40)
_PLAIN_SGD = Setup(lr=0.01, momentum=0.0, epochs=6)

_TABLE = (
    Fault(
        name="lr_too_high",
        title="learning rate too high",
        broken=replace(_BASE, lr=1.0),
        fixed=_BASE,
        what_was_wrong="SGD (momentum 0.9) at learning rate 1.0, 50x the rate this network trains well with.",
        symptoms=(
            "The loss jumps to several times its starting value in the first epoch and never gets back below "
            "it; accuracy drops to chance; by the end every ReLU of the second hidden layer is dead and every "
            "gradient is zero."
        ),
        explanation=(
            "Each step overshoots the valley along the sharpest directions and lands higher than it started "
            "(on a quadratic, any rate above 2/L does this). The huge updates push the pre-activations far "
            "negative, so the ReLUs of the last hidden layer die; no gradient flows through them, and the loss "
            "settles at ln 10."
        ),
        fix="Lower the rate (1.0 → 0.02): pick it with a learning-rate range test, add warmup if needed.",
        tell="a normal start, then a spike far above the first loss and no recovery",
        clue="Compare the loss in the first epoch with the very first loss, then look at the units at the end.",
    ),
    Fault(
        name="lr_too_low",
        title="learning rate too low",
        broken=replace(_BASE, lr=1e-4),
        fixed=_BASE,
        what_was_wrong="SGD (momentum 0.9) at learning rate 1e-4, 200x smaller than this network needs.",
        symptoms=(
            "The loss creeps down in a smooth, almost straight line and ends close to where it started; "
            "gradients are healthy at every layer and keep their size; no dead or saturated units."
        ),
        explanation=(
            "Every step is tiny, so after the whole budget the weights have hardly moved. Nothing is broken: "
            "unlike vanishing gradients or dead units, the gradient is there; the optimizer just takes steps "
            "that are far too small to use it."
        ),
        fix="Raise the rate (1e-4 → 0.02), found with a range test.",
        tell="a smooth, slow decline with normal-sized gradients",
        clue="The loss does move: compare how far with the size of the gradients at every layer.",
    ),
    Fault(
        name="dead_relu",
        title="dead ReLUs (negative bias)",
        broken=replace(_BASE, hidden_bias=-10.0),
        fixed=_BASE,
        what_was_wrong="Every hidden bias was initialized to −10.",
        symptoms=(
            "Nearly all hidden units output 0 for every image from the first step; their weight gradients are "
            "exactly 0; the loss sits at ln 10 = 2.30 and the accuracy at chance."
        ),
        explanation=(
            "With b = −10 the pre-activation w·x + b is negative for every input, so ReLU outputs 0 and its "
            "derivative is 0: no gradient reaches the unit's weights or bias and it can never recover. Only "
            "the output bias learns (the class frequencies)."
        ),
        fix="Initialize biases to 0 (He weights); leaky ReLU would also keep a gradient flowing.",
        tell="a flat loss at ln 10 with almost every unit dead and zero gradients from step 0",
        clue="Look at the dead-unit percentages already at the start, and at the gradient norms.",
    ),
    Fault(
        name="exploding_init",
        title="exploding gradients (bad init)",
        broken=replace(_DEEP_RELU, weight_gain=3.0),
        fixed=_DEEP_RELU,
        what_was_wrong="Six hidden ReLU layers whose weights were drawn with 3x the He standard deviation.",
        symptoms=(
            "The first loss is far above ln 10; the spread of the activations grows about 3x per layer and "
            "every layer's gradient norm is above 10; within a few steps the loss explodes (to NaN, or to "
            "astronomical values after which every unit is dead)."
        ),
        explanation=(
            "He initialization, Var(w) = 2/n_in, keeps the size of ReLU activations constant from layer to "
            "layer. With 3x the standard deviation every layer multiplies the signal by about 3, so six "
            "layers give ~700x larger logits: a huge loss, huge gradients, and updates that overflow."
        ),
        fix="Use He initialization; normalization layers, residual connections and clipping add safety.",
        tell="a huge loss from the very first step, activations growing layer after layer",
        clue="Look at the very first loss and at the activations' spread, layer after layer.",
    ),
    Fault(
        name="vanishing_sigmoid",
        title="vanishing gradients (deep sigmoid)",
        broken=Setup(hidden=(32,) * 8, activation="sigmoid", init="xavier_normal"),
        fixed=Setup(hidden=(32,) * 8),
        what_was_wrong="Eight hidden sigmoid layers of 32 units (Xavier init).",
        symptoms=(
            "The first layer's gradient is about 100,000 times smaller than the last layer's; the loss "
            "stays near ln 10 and the accuracy near chance, with no dead units."
        ),
        explanation=(
            "Backpropagation multiplies by σ'(z) ≤ 1/4 and by the weights at every layer; with Xavier weights "
            "each sigmoid layer shrinks the gradient about 4x, so after eight layers the early layers receive "
            "almost nothing and do not learn."
        ),
        fix="ReLU with He initialization (or batch norm / residual connections); sigmoid only at the output.",
        tell="gradient norms falling by orders of magnitude towards the input layer",
        clue="Compare the gradient norm of the first layer with that of the last.",
    ),
    Fault(
        name="sign_flip",
        title="sign flipped in the gradient",
        broken=replace(_PLAIN_SGD, flip_gradient_sign=True),
        fixed=_PLAIN_SGD,
        what_was_wrong="The loss's backward returned −dL/dz, so every update climbed the loss.",
        symptoms=(
            "The training loss rises from the very first steps, smoothly and faster and faster, and the "
            "validation loss with it; accuracy never gets above chance."
        ),
        explanation=(
            "The optimizer subtracts lr times what it is told is the gradient; with the sign flipped that is "
            "gradient ascent. The rise is smooth because each step is a consistent step uphill, not an "
            "overshoot, and it accelerates because the logits (and so the loss) grow without bound."
        ),
        fix="Fix the sign; a gradient check against finite differences finds such bugs.",
        tell="a smooth rise of the loss from the first steps",
        clue="Which way does the loss move from the very first steps, and how smoothly?",
    ),
    Fault(
        name="shuffled_labels",
        title="labels misaligned with images",
        broken=replace(_MEMORIZER, shuffle_labels=True),
        fixed=_MEMORIZER,
        what_was_wrong="The training labels were permuted independently of the images (a data-pipeline bug).",
        symptoms=(
            "Training accuracy climbs slowly towards 100% while validation accuracy stays near chance (~10%) "
            "and the validation loss rises from the first epoch."
        ),
        explanation=(
            "With labels unrelated to the images there is nothing to generalize, yet a big enough network can "
            "memorize 200 random labels, slowly. A gap at chance level from epoch 1 is a data bug, not "
            "ordinary overfitting (which starts from a validation accuracy well above chance)."
        ),
        fix="Keep images and labels aligned (one permutation for both); look at a few (image, label) pairs.",
        tell="training accuracy rising while validation stays at chance from the start",
        clue="Compare training and validation accuracy from the first epoch on.",
    ),
    Fault(
        name="no_normalization",
        title="inputs not normalized",
        broken=replace(_BASE, normalize_inputs=False),
        fixed=_BASE,
        what_was_wrong="Raw pixel values 0…16 were fed to the network, without standardization.",
        symptoms=(
            "The first-layer activations are several times wider than usual and the first gradient norm is "
            "several times larger; with the same learning rate the loss jumps up and down and ends well above "
            "that of the normalized run."
        ),
        explanation=(
            "Large, uncentred inputs make the first layer's pre-activations large and the loss surface "
            "ill-conditioned: a rate that suits the other layers is too big along the input directions, so "
            "training oscillates (with a rate small enough for those it would crawl)."
        ),
        fix="Standardize each feature with the training set's mean and std (the same transform for val/test).",
        tell="wide first-layer activations, large gradients and an unsteady loss",
        clue="Look at the first layer's activation spread, the first gradient norms and the first loss.",
    ),
    Fault(
        name="adam_no_warmup",
        title="Adam without warmup",
        broken=_WIDE_ADAM,
        fixed=replace(_WIDE_ADAM, warmup_steps=24),
        what_was_wrong="Adam at peak rate 0.03 (cosine decay) on a wide 512-256 network, at full rate from step 0.",
        symptoms=(
            "The loss jumps to several times its initial value within the first few steps, then comes back "
            "down and training proceeds normally."
        ),
        explanation=(
            "Adam's first updates move every weight by about lr at once (m̂/√v̂ ≈ ±1 whatever the gradient's "
            "size); in a wide layer these aligned moves add up to a huge change of the outputs. Warmup keeps "
            "the first steps small while the moment estimates and the network settle."
        ),
        fix="A linear warmup of the rate over the first 24 steps (or a lower peak rate).",
        tell="a short spike right at the start, then normal training",
        clue="Look closely at the first few steps of the training loss, then at the end of the run.",
    ),
    Fault(
        name="bn_train_mode_eval",
        title="batch norm in train mode at eval",
        broken=replace(_BASE, batch_norm=True, eval_in_train_mode=True),
        fixed=replace(_BASE, batch_norm=True),
        what_was_wrong="Batch norm was left in training mode for evaluation, on validation batches sorted by class.",
        symptoms=(
            "Training accuracy is high but validation accuracy is far lower; scoring the same validation "
            "images again in a shuffled order gives a much higher accuracy."
        ),
        explanation=(
            "In training mode batch norm normalizes with the mean and variance of the current batch. A batch "
            "of a single class has very different statistics from a mixed training batch, so each prediction "
            "depends on which images share its batch. Evaluation mode uses the running averages."
        ),
        fix="Call model.eval() before evaluating (and model.train() afterwards).",
        tell="validation accuracy that changes when the validation images are reordered",
        clue="Compare the validation accuracy with the reshuffled one in the title line.",
    ),
    Fault(
        name="no_zero_grad",
        title="gradients never zeroed",
        broken=replace(_BASE, zero_grad=False),
        fixed=_BASE,
        what_was_wrong="zero_grad() was never called, so every backward added to the old gradients.",
        symptoms=(
            "The gradient norm grows steadily step after step; the loss swings up and down with growing "
            "amplitude and blows up."
        ),
        explanation=(
            "Backward accumulates into .grad. Without zeroing, the update at step t uses the sum of all "
            "gradients so far: a momentum of 1 that never forgets, so the steps keep growing even where the "
            "current gradient is small."
        ),
        fix="Call optimizer.zero_grad() at every step, before backward.",
        tell="a global gradient norm that keeps growing with the step count",
        clue="Follow the global gradient norm step by step.",
    ),
)

FAULTS: dict[str, Fault] = {fault.name: fault for fault in _TABLE}
"""Fault name → :class:`Fault`, in the order the choices are listed."""


def fault_names() -> list[str]:
    return list(FAULTS)


def fault_for_seed(seed: int) -> Fault:
    """Seeds ``k·n … k·n + n − 1`` visit all ``n`` faults once, in an order drawn from ``k``."""
    names = fault_names()
    order = np.random.default_rng(seed // len(names)).permutation(len(names))
    return FAULTS[names[order[seed % len(names)]]]


def check_fault_name(name) -> Fault:
    """The fault called ``name``; a ValueError listing the names otherwise."""
    if name not in FAULTS:
        raise ValueError(f"fault: expected one of {', '.join(FAULTS)}, got {name!r}")
    return FAULTS[name]
