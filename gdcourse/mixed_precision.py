"""Mixed-precision training in NumPy's float16: dynamic loss scaling and float32 master weights.

float16 has 5 exponent and 10 mantissa bits: its largest value is 65,504, its
smallest normal 6.1e-5 (subnormals down to 6e-8), and near 1 its spacing is
2⁻¹⁰ ≈ 1e-3. Two things then go wrong in training (Micikevicius et al., 2018):

* **Underflow of gradients.** Small gradients (1e-8 and below) round to 0.
  Multiplying the loss by a scale ``S`` multiplies every gradient by ``S``
  (backprop is linear in the upstream gradient), lifting them into range; they
  are divided by ``S`` again in float32 before the step. Too large an ``S``
  overflows to inf instead, so the *dynamic* scaler skips the step and halves
  ``S`` when a gradient is inf or NaN, and doubles ``S`` after
  ``growth_interval`` good steps in a row (PyTorch's ``GradScaler``).
* **Lost updates.** In float16, ``w + Δw`` rounds back to ``w`` whenever
  ``|Δw| < |w|·2⁻¹¹``: with ``w = 1`` a step of 4e-4 disappears. The optimizer
  therefore updates a float32 *master copy* of the weights, and the float16
  model gets a rounded copy of it after each step.

bfloat16 keeps float32's 8 exponent bits (range up to 3e38, no underflow
problem, no loss scaling needed) with only 7 mantissa bits (spacing 2⁻⁷ near
1), so it needs master weights even more.
"""

from __future__ import annotations

import numpy as np

from gdcourse.nn.parameter import Parameter
from gdcourse.validate import check_positive, check_positive_int

__all__ = ["DynamicLossScaler", "MasterWeights", "mixed_precision_step"]


class DynamicLossScaler:
    """The loss scale ``S`` and its update rule (PyTorch's ``torch.amp.GradScaler`` defaults).

    * ``scaled(dy)``: the upstream gradient times ``S``, in ``dy``'s dtype.
    * ``update(finite)``: after a step with an inf/NaN gradient ``S ← S · backoff_factor``
      and the count of good steps restarts; after ``growth_interval`` finite
      steps in a row ``S ← S · growth_factor``.

    ``skipped`` counts the steps skipped so far, ``history`` the scale before each update.
    """

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000):
        self.scale = check_positive(init_scale, "init_scale")
        self.growth_factor = check_positive(growth_factor, "growth_factor")
        if self.growth_factor <= 1:
            raise ValueError(f"growth_factor: expected a number > 1, got {growth_factor!r}")
        self.backoff_factor = check_positive(backoff_factor, "backoff_factor")
        if self.backoff_factor >= 1:
            raise ValueError(f"backoff_factor: expected a number in (0, 1), got {backoff_factor!r}")
        self.growth_interval = check_positive_int(growth_interval, "growth_interval")
        self.good_steps = 0
        self.skipped = 0
        self.history: list[float] = []

    def scaled(self, dy):
        """``dy · S`` computed in float32, then cast to ``dy``'s dtype (inf where it overflows: the signal)."""
        with np.errstate(over="ignore"):
            return (np.asarray(dy, dtype=np.float32) * np.float32(self.scale)).astype(dy.dtype)

    def update(self, finite: bool) -> None:
        self.history.append(self.scale)
        if not finite:
            self.scale *= self.backoff_factor
            self.good_steps = 0
            self.skipped += 1
            return
        self.good_steps += 1
        if self.good_steps == self.growth_interval:
            self.scale *= self.growth_factor
            self.good_steps = 0


class MasterWeights:
    """float32 copies of a low-precision model's parameters: what the optimizer updates.

    ``params`` (float32 Parameters, same names and shapes) go to the optimizer.
    ``load_grads(scale)`` copies the model's gradients in, divided by ``scale``
    in float32, and returns whether all are finite; ``write_back()`` rounds the
    float32 values into the model's own parameters.
    """

    def __init__(self, model_params):
        self.model_params = list(model_params)
        if not self.model_params:
            raise ValueError("model_params: expected at least one Parameter, got none")
        self.params = [Parameter(p.value.astype(np.float32), p.name) for p in self.model_params]

    def load_grads(self, scale=1.0) -> bool:
        finite = True
        for master, p in zip(self.params, self.model_params, strict=True):
            with np.errstate(invalid="ignore"):
                g = p.grad.astype(np.float32) / np.float32(scale)
            finite = finite and bool(np.isfinite(g).all())
            master.grad = g
        return finite

    def write_back(self) -> None:
        for master, p in zip(self.params, self.model_params, strict=True):
            p.value[...] = master.value.astype(p.dtype)


def mixed_precision_step(model, loss, X, y, optimizer, master=None, scaler=None, loss_dtype=None) -> dict:
    """One training step of a float16 ``model`` with optional master weights and loss scaling.

    ``optimizer`` must be built on ``master.params`` when ``master`` is given, else on
    the model's own parameters. Returns ``{"loss", "stepped", "scale"}``; with a
    scaler, a step with an inf/NaN gradient is skipped (``stepped`` False).

    ``loss_dtype`` (e.g. ``np.float32``): compute the loss and its gradient in that precision on
    the model's output cast up, multiply by the scale there, and only then round the upstream
    gradient to the model's dtype — as autocast does (softmax and losses run in float32). Small
    gradients then underflow at that rounding, unless the scale has lifted them. ``None``: the loss
    runs in the output's own dtype.
    """
    model.zero_grad()
    out = model.forward(X)
    value = loss.forward(out if loss_dtype is None else out.astype(loss_dtype), y)
    dy = loss.backward()
    scale = scaler.scale if scaler is not None else 1.0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):  # overflow is detected below
        dy = (scaler.scaled(dy) if scaler is not None else dy).astype(out.dtype)
        model.backward(dy, input_grad=False)
    if master is not None:
        finite = master.load_grads(scale)
    else:
        finite = all(np.isfinite(p.grad).all() for p in model.parameters())
        if scaler is not None:
            for p in model.parameters():
                p.grad = (p.grad.astype(np.float32) / np.float32(scale)).astype(p.dtype)
    stepped = finite or scaler is None
    if stepped:
        optimizer.step()
        if master is not None:
            master.write_back()
    if scaler is not None:
        scaler.update(finite)
    return {"loss": float(value), "stepped": stepped, "scale": scale}
