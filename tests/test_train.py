"""The training loop: sanity checks, reproducibility, divergence, regularization hooks, bad input."""

import math
import time

import numpy as np
import pytest

from gdcourse import data, losses, nn, optim, schedules, train
from gdcourse.regularization import EarlyStopping


def _mlp(sizes, rng=0, act=nn.ReLU, bias=True):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        layers.append(nn.Linear(a, b, bias=bias, rng=rng + i))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def _blobs(n=120, rng=0):
    r = np.random.default_rng(rng)
    y = r.integers(0, 3, size=n)
    X = r.normal(size=(n, 2)) * 0.5 + np.array([[0, 3], [3, 0], [-3, -3]])[y]
    return X, y


def test_history_records_every_step_and_epoch():
    X, y = _blobs()
    model = _mlp([2, 8, 3])
    sched = schedules.StepDecay(0.1, step_size=5, gamma=0.5)
    h = train.fit(model, losses.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y),
                  epochs=4, batch_size=32, val=(X[:30], y[:30]), schedule=sched, progress=False, rng=0)
    steps = 4 * math.ceil(120 / 32)
    assert len(h.step_loss) == len(h.step_lr) == len(h.step_grad_norm) == steps
    np.testing.assert_allclose(h.step_lr, [sched(t) for t in range(steps)])
    assert h.num_epochs == 4
    assert set(h.epochs) == {"train_loss", "train_accuracy", "val_loss", "val_accuracy"}
    # the epoch's train loss is the mean of its step losses
    assert h["train_loss"][0] == pytest.approx(np.mean(h.step_loss[:4]))
    assert h["train_loss"][-1] < h["train_loss"][0]


def test_overfits_a_batch_of_eight():
    """CS231n's sanity check: a small MLP can drive the loss on 8 examples to ~0."""
    r = np.random.default_rng(1)
    X = r.normal(size=(8, 5))
    y = r.integers(0, 4, size=8)
    model = _mlp([5, 32, 4])
    h = train.fit(model, losses.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), (X, y),
                  epochs=500, batch_size=8, progress=False, rng=0)
    assert train.evaluate(model, losses.CrossEntropyLoss(), X, y)["loss"] < 1e-3
    assert h["train_accuracy"][-1] == 1.0


def test_untrained_classifier_loss_is_log_c():
    ds = data.load_digits(rng=0)
    model = nn.Sequential(nn.Linear(64, 10, init=lambda shape, rng, dtype: 1e-4 * np.ones(shape), rng=0))
    loss = train.evaluate(model, losses.CrossEntropyLoss(), ds.X_test, ds.y_test)["loss"]
    assert loss == pytest.approx(math.log(10), abs=0.01)


def test_digits_mlp_reaches_97_percent():
    ds = data.load_digits(rng=0)
    model = nn.Sequential(nn.Linear(64, 128, rng=1), nn.ReLU(), nn.Linear(128, 10, rng=2))
    start = time.perf_counter()
    steps = 40 * math.ceil(len(ds.X_train) / 64)
    train.fit(model, losses.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=3e-3),
              (ds.X_train, ds.y_train), epochs=40, batch_size=64, schedule=schedules.CosineDecay(3e-3, steps),
              progress=False, rng=0)
    elapsed = time.perf_counter() - start
    result = train.evaluate(model, losses.CrossEntropyLoss(), ds.X_test, ds.y_test)
    print(f"digits MLP: test accuracy {result['accuracy']:.4f} in {elapsed:.2f} s")
    assert result["accuracy"] >= 0.97


def test_same_seed_same_history_other_seed_differs():
    X, y = _blobs()

    def run(seed):
        model = nn.Sequential(nn.Linear(2, 16, rng=0), nn.ReLU(), nn.Dropout(0.3, rng=seed), nn.Linear(16, 3, rng=1))
        return train.fit(model, losses.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.05, momentum=0.9),
                         (X, y), epochs=3, batch_size=16, progress=False, rng=seed)

    a, b, c = run(7), run(7), run(8)
    assert a.step_loss == b.step_loss and a.step_grad_norm == b.step_grad_norm
    assert a.epochs == b.epochs
    assert a.step_loss != c.step_loss


def test_divergence_stops_with_a_clear_message():
    X, y = _blobs()
    X = X * 1e3  # unnormalized inputs
    model = _mlp([2, 16, 3])
    with pytest.raises(train.TrainingDiverged) as err:
        train.fit(model, losses.MSELoss(), optim.SGD(model.parameters(), lr=10.0), (X, np.eye(3)[y]),
                  epochs=5, batch_size=16, progress=False, rng=0)
    message = str(err.value)
    assert "diverged at step" in message and "learning rate 10" in message and "unnormalized inputs" in message
    assert len(err.value.history.step_loss) >= 1
    assert all(math.isfinite(v) for v in err.value.history.step_loss)


def test_clip_norm_bounds_the_update():
    X, y = _blobs()
    model = _mlp([2, 8, 3])
    before = [p.value.copy() for p in model.parameters()]
    h = train.fit(model, losses.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=1.0), (X[:32], y[:32]),
                  epochs=1, batch_size=32, clip_norm=0.01, progress=False, rng=0)
    change = np.sqrt(sum(np.sum((p.value - b) ** 2) for p, b in zip(model.parameters(), before, strict=True)))
    assert h.step_grad_norm[0] > 0.01  # the recorded norm is the one before clipping
    assert change == pytest.approx(0.01, rel=1e-3)


def test_l2_penalty_equals_sgd_weight_decay():
    """REG-05: for plain SGD, an L2 penalty (λ/2)‖w‖² and weight decay λ give the same weights."""
    X, y = _blobs()

    def run(l2, weight_decay):
        model = _mlp([2, 8, 3], bias=False)
        opt = optim.SGD(model.parameters(), lr=0.1, weight_decay=weight_decay)
        train.fit(model, losses.CrossEntropyLoss(), opt, (X, y), epochs=3, batch_size=16, l2=l2,
                  progress=False, rng=0)
        return np.concatenate([p.value.ravel() for p in model.parameters()])

    penalized, decayed, plain = run(0.05, 0.0), run(0.0, 0.05), run(0.0, 0.0)
    np.testing.assert_allclose(penalized, decayed, rtol=1e-12, atol=1e-14)
    assert np.linalg.norm(penalized) < np.linalg.norm(plain)


def test_early_stopping_restores_the_best_epoch():
    r = np.random.default_rng(0)
    X = r.normal(size=(40, 10))
    y = r.integers(0, 2, size=40)  # pure noise labels: validation loss rises as the model memorizes
    Xv, yv = r.normal(size=(40, 10)), r.integers(0, 2, size=40)
    model = _mlp([10, 64, 2])
    stopper = EarlyStopping(patience=3)
    h = train.fit(model, losses.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), (X, y),
                  epochs=200, batch_size=8, val=(Xv, yv), early_stopping=stopper, progress=False, rng=0)
    assert h.stopped_early and h.num_epochs < 200
    assert h.num_epochs == h.best_epoch + 1 + 3
    restored = train.evaluate(model, losses.CrossEntropyLoss(), Xv, yv)["loss"]
    assert restored == pytest.approx(h["val_loss"][h.best_epoch])


def test_reduce_on_plateau_and_callbacks_are_called():
    X, y = _blobs()
    model = _mlp([2, 8, 3])
    plateau = schedules.ReduceLROnPlateau(0.1, patience=0, factor=0.5)
    seen = []
    h = train.fit(model, losses.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=5,
                  batch_size=40, schedule=plateau, callbacks=[lambda e, hist, m: seen.append(e) or e == 2],
                  progress=False, rng=0)
    assert seen == [0, 1, 2] and h.num_epochs == 3
    assert set(h.step_lr) <= {0.1 * 0.5**k for k in range(4)}


def test_evaluate_restores_training_mode():
    model = nn.Sequential(nn.Linear(2, 4, rng=0), nn.Dropout(0.5, rng=0), nn.Linear(4, 3, rng=1))
    X, y = _blobs(20)
    first = train.evaluate(model, losses.CrossEntropyLoss(), X, y)
    assert model.training and model[1].training
    assert train.evaluate(model, losses.CrossEntropyLoss(), X, y) == first  # dropout off: deterministic


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size: expected an int >= 1, got 0"),
        ({"epochs": 0}, "epochs: expected an int >= 1, got 0"),
        ({"l2": -1.0}, "l2: expected a number >= 0, got -1.0"),
        ({"clip_norm": 0.0}, "clip_norm: expected a number > 0, got 0.0"),
    ],
)
def test_bad_fit_arguments(kwargs, message):
    X, y = _blobs(20)
    model = _mlp([2, 4, 3])
    args = {"epochs": 1, "batch_size": 4, "progress": False} | kwargs
    with pytest.raises(ValueError, match=message):
        train.fit(model, losses.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (X, y), **args)


def test_bad_data():
    X, y = _blobs(20)
    model = _mlp([2, 4, 3])
    opt = optim.SGD(model.parameters(), lr=0.1)
    fit = lambda data: train.fit(model, losses.CrossEntropyLoss(), opt, data, epochs=1, batch_size=4, progress=False)
    with pytest.raises(ValueError, match="X and y: expected the same number of samples, got 20 and 19"):
        fit((X, y[:-1]))
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"X: expected finite values, got 1 NaN/inf entries \(first at index \(3, 1\)"):
        fit((bad, y))
    with pytest.raises(ValueError, match="X: expected a floating-point array, got dtype int64"):
        fit((X.astype(np.int64), y))
    with pytest.raises(ValueError, match=r"X: expected a non-empty array, got shape \(0, 2\)"):
        fit((X[:0], y[:0]))
    labels_message = r"y: expected labels in \[0, 2\] for a model with 3 outputs, got values up to 5"
    with pytest.raises(ValueError, match=labels_message):
        fit((X, np.where(y == 2, 5, y)))
