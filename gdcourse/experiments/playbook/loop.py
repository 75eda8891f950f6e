"""PRAC-05: the training loop written out, and what happens to the gradients without ``zero_grad``."""

from __future__ import annotations

import numpy as np

from gdcourse.validate import as_rng, check_positive_int

__all__ = ["manual_training_loop", "accumulated_gradient"]


def manual_training_loop(model, loss, optimizer, X, y, *, epochs, batch_size, rng):
    """The whole of ``fit`` without its conveniences, written out: the list of step losses.

    For each epoch: shuffle; for each mini-batch the five lines of a training step (zero the
    gradients, forward, loss, backward, step). Same generator use as ``fit`` (one permutation
    per epoch), so with the same seed it reproduces ``fit``'s history bit for bit.
    """
    rng = as_rng(rng)
    step_losses = []
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()                          # backward adds into .grad: start from 0
            scores = model.forward(X[batch])
            value = loss.forward(scores, y[batch])
            model.backward(loss.backward(), input_grad=False)
            optimizer.step()
            step_losses.append(value)
    return np.array(step_losses)


def accumulated_gradient(model, loss, X, y, passes: int) -> np.ndarray:
    """The first layer's weight gradient after ``passes`` backward passes without ``zero_grad`` between."""
    model.zero_grad()
    for _ in range(check_positive_int(passes, "passes")):
        loss.forward(model.forward(X), y)
        model.backward(loss.backward(), input_grad=False)
    return model.parameters()[0].grad.copy()
