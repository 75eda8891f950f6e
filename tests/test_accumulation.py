"""Gradient accumulation: exactly the large-batch gradient (unequal micro-batches too), except through batch norm."""

import numpy as np
import pytest

from gdcourse import losses, nn
from gdcourse.accumulation import accumulate_gradients, split_batch
from gdcourse.optim import SGD
from gdcourse.train import fit


def mlp(seed, batchnorm=False):
    rng = np.random.default_rng(seed)
    layers = [nn.Linear(5, 8, rng=rng)] + ([nn.BatchNorm1d(8)] if batchnorm else []) + [nn.Tanh(),
                                                                                          nn.Linear(8, 3, rng=rng)]
    return nn.Sequential(*layers)


def data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)), rng.integers(0, 3, size=n)


def full_batch_grad(model, loss, x, y):
    model.zero_grad()
    loss.forward(model(x), y)
    model.backward(loss.backward(), input_grad=False)
    return np.concatenate([p.grad.ravel() for p in model.parameters()])


def accumulated_grad(model, loss, x, y, parts):
    model.zero_grad()
    value, _ = accumulate_gradients(model, loss, x, y, parts)
    return value, np.concatenate([p.grad.ravel() for p in model.parameters()])


def test_split_batch_sizes_differ_by_at_most_one():
    x, y = data(10)
    assert [len(b) for b, _ in split_batch(x, y, 3)] == [3, 4, 3]
    with pytest.raises(ValueError, match="parts"):
        split_batch(x, y, 11)


@pytest.mark.parametrize("loss", [losses.CrossEntropyLoss(), losses.MSELoss()])
def test_unequal_micro_batches_give_the_full_batch_gradient_and_loss(loss):
    x, labels = data(10)
    y = labels if isinstance(loss, losses.CrossEntropyLoss) else np.eye(3)[labels]
    model = mlp(1)
    expected_loss = loss.forward(model(x), y)
    expected = full_batch_grad(model, loss, x, y)
    value, got = accumulated_grad(model, loss, x, y, 3)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert value == pytest.approx(expected_loss, rel=1e-12)


def test_weighting_micro_batches_equally_is_wrong_when_they_differ_in_size():
    x, y = data(10)
    model, loss = mlp(2), losses.CrossEntropyLoss()
    expected = full_batch_grad(model, loss, x, y)
    naive = np.zeros_like(expected)
    for xb, yb in split_batch(x, y, 3):  # sizes 3, 4, 3, each mean weighted 1/3
        naive += full_batch_grad(model, loss, xb, yb) / 3
    assert np.linalg.norm(naive - expected) / np.linalg.norm(expected) > 1e-3


def test_batch_norm_makes_accumulation_differ_from_the_large_batch():
    x, y = data(12)
    loss = losses.CrossEntropyLoss()
    expected = full_batch_grad(mlp(3, batchnorm=True), loss, x, y)
    _, got = accumulated_grad(mlp(3, batchnorm=True), loss, x, y, 3)
    assert np.linalg.norm(got - expected) / np.linalg.norm(expected) > 0.05


def test_fit_with_accumulation_follows_the_same_path():
    x, y = data(64, seed=4)
    runs = []
    for steps in (1, 3):
        model = mlp(5)
        history = fit(model, losses.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (x, y), epochs=3,
                      batch_size=20, rng=0, progress=False, accumulation_steps=steps)
        runs.append((history.step_loss, np.concatenate([p.value.ravel() for p in model.parameters()])))
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-10)
    np.testing.assert_allclose(runs[1][1], runs[0][1], rtol=1e-10)


def test_fit_rejects_more_micro_batches_than_samples_per_batch():
    x, y = data(20)
    model = mlp(0)
    with pytest.raises(ValueError, match="accumulation_steps"):
        fit(model, losses.CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), (x, y), epochs=1, batch_size=4,
            progress=False, accumulation_steps=5)
