"""Bad input to ``train.fit``, ``evaluate``, ``predict`` and ``accuracy``: a clear error naming the argument,
raised before the first update; diverging training stops with TrainingDiverged and no NumPy warning."""

import re

import numpy as np
import pytest

from gdcourse import losses, nn, optim, regularization, train

pytestmark = pytest.mark.filterwarnings("error")


def _mlp(widths, seed=0):
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:], strict=False)):
        layers += [nn.Linear(a, b, rng=seed + i), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def _data(n=20, d=3, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, classes, n)


X, Y = _data()


def _values(model):
    return [p.value.copy() for p in model.parameters()]


# ------------------------------------------------------------------ evaluate, predict, accuracy

@pytest.mark.parametrize(("call", "message"), [
    (lambda m: train.evaluate(m, losses.CrossEntropyLoss(), X, Y, batch_size=0),
     "batch_size: expected an int >= 1, got 0"),
    (lambda m: train.predict(m, X, batch_size=-1), "batch_size: expected an int >= 1, got -1"),
    (lambda m: train.predict(m, X, batch_size=2.5), "batch_size: expected an int, got 2.5 (float)"),
    (lambda m: train.predict(m, X[:0], batch_size=4), "X: expected a non-empty array, got shape (0, 3)"),
    (lambda m: train.evaluate(m, losses.CrossEntropyLoss(), X, np.full(20, 3)),
     "y: expected labels in [0, 2] for a model with 3 outputs, got values up to 3"),
    (lambda m: train.evaluate(m, losses.CrossEntropyLoss(), X, Y[:-1]),
     "X and y: expected the same number of samples, got 20 and 19"),
])
def test_evaluate_and_predict_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(_mlp([3, 4, 3]))


def test_predict_in_chunks_equals_one_pass():
    model = _mlp([3, 4, 3])
    np.testing.assert_allclose(train.predict(model, X, batch_size=7), train.predict(model, X), rtol=1e-12)


@pytest.mark.parametrize(("outputs", "y", "message"), [
    (np.zeros((4, 3)), np.zeros(5, int),
     "outputs and y: expected one label per prediction, got 4 predictions and y of shape (5,)"),
    (np.zeros((4, 1)), np.zeros(5), "outputs and y: expected one label per prediction, got 4 predictions"),
    (np.zeros((4, 3)), np.zeros((4, 2)),
     "y: expected labels (4,) or one-hot rows (4, 3) for outputs of shape (4, 3), got shape (4, 2)"),
    (np.zeros((4, 1)), np.zeros((4, 2)),
     "y: expected one 0/1 label per prediction (4 in all) for outputs of shape (4, 1), got shape (4, 2)"),
    (np.zeros((0, 3)), np.zeros(0, int), "outputs: expected a non-empty array, got shape (0, 3)"),
    (np.full((2, 3), np.nan), np.zeros(2, int), "outputs: expected finite values, got 6 NaN/inf entries"),
    (np.zeros((2, 2, 2)), np.zeros(2, int), "outputs: expected a 1 or 2-D array, got shape (2, 2, 2)"),
])
def test_accuracy_rejects_mismatched_or_non_finite_input(outputs, y, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        train.accuracy(outputs, y)


@pytest.mark.parametrize(("outputs", "y", "want"), [
    (np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]]), np.array([0, 1, 1]), 2 / 3),
    (np.array([[2.0, 1.0], [0.0, 3.0]]), np.array([[0.0, 1.0], [0.0, 1.0]]), 1 / 2),
    (np.array([[0.5], [-1.0], [2.0], [-0.1]]), np.array([[1.0], [0.0], [0.0], [0.0]]), 3 / 4),
    (np.array([0.5, -1.0]), np.array([1, 1]), 1 / 2),
])
def test_accuracy_values(outputs, y, want):
    assert train.accuracy(outputs, y) == pytest.approx(want, abs=1e-15)


# ------------------------------------------------------------------ fit: every argument checked up front

def _fit(data=(X, Y), *, model=None, loss=None, optimizer=None, **kwargs):
    model = model or _mlp([3, 4, 3])
    loss = loss or losses.CrossEntropyLoss()
    optimizer = optimizer or optim.SGD(model.parameters(), lr=0.1)
    args = dict(epochs=1, batch_size=5, progress=False, rng=0) | kwargs
    return train.fit(model, loss, optimizer, data, **args)


CE, MSE = losses.CrossEntropyLoss(), losses.MSELoss()
X_REG, Y_REG = X, np.arange(20.0)[:, None] / 20

FIT_CASES = [
    # (model widths, loss, data, keyword arguments, error type, message)
    ([3, 4, 3], CE, (X, Y), dict(val=(np.ones((4, 2)), np.zeros(4, int))), ValueError,
     "X_val: expected samples of shape (3,) like X, got (2,) (shape (4, 2))"),
    ([3, 4, 3], CE, (X, Y), dict(val=(np.ones((4, 3)), np.full(4, 7))), ValueError,
     "y_val: expected labels in [0, 2] for a model with 3 outputs, got values up to 7"),
    ([3, 4, 3], CE, (X, Y), dict(val=(np.ones((4, 3)), np.full(4, -1))), ValueError,
     "y_val: expected class labels >= 0, got a minimum of -1"),
    ([3, 4, 3], CE, (X, Y), dict(val=(np.ones((4, 3)), np.zeros(3, int))), ValueError,
     "X_val and y_val: expected the same number of samples, got 4 and 3"),
    ([3, 4, 3], CE, (X, Y), dict(val=np.ones((4, 3))), ValueError,
     "val: expected a pair (X_val, y_val), got ndarray"),
    ([3, 4, 3], CE, (X, np.where(Y == 2, 5, Y)), {}, ValueError,
     "y: expected labels in [0, 2] for a model with 3 outputs, got values up to 5"),
    ([3, 4, 3], CE, (X, Y.astype(float)), {}, ValueError,
     "y: expected integer class labels for CrossEntropyLoss, got dtype float64"),
    ([3, 4, 3], CE, (X, np.full((20, 2), 0.5)), {}, ValueError,
     "y: expected 3 columns (one per model output), got shape (20, 2)"),
    ([3, 4, 3], CE, (X, np.full((20, 3), 0.5)), {}, ValueError,
     "y: expected rows of class probabilities (>= 0, summing to 1) for CrossEntropyLoss, got 20 other rows "
     "(first: row 0, summing to 1.5)"),
    ([3, 4, 1], MSE, (X_REG, Y_REG[:, 0]), {}, ValueError,
     "y: expected shape (20, 1) to match the model's output (one row of shape (1,) per sample), got (20,); "
     "reshape it with y[:, None]"),
    ([3, 4, 1], MSE, (X_REG, np.where(np.arange(20)[:, None] == 4, np.nan, Y_REG)), {}, ValueError,
     "y: expected finite values, got 1 NaN/inf entries (first at index (4, 0): nan)"),
    ([3, 4, 1], losses.BCEWithLogitsLoss(), (X, np.full((20, 1), -1.0)), {}, ValueError,
     "y: expected targets in [0, 1] for BCEWithLogitsLoss, got values from -1.0 to -1.0"),
    ([3, 4, 1], MSE, (X_REG[:, 0], Y_REG), {}, ValueError,
     "X: expected an array of shape (N, features...), got shape (20,)"),
    ([3, 4, 1], MSE, (X_REG, Y_REG.astype(str)), {}, ValueError, "y: expected numeric targets, got dtype <U"),
    ([3, 4, 3], CE, (X, Y), dict(schedule=0.1), TypeError,
     "schedule: expected a callable step -> lr or None, got float"),
    ([3, 4, 3], CE, (X, Y), dict(schedule=lambda step: float("nan")), ValueError,
     "schedule: expected a finite learning rate >= 0 at step 0, got nan"),
    ([3, 4, 3], CE, (X, Y), dict(callbacks=lambda *a: None), TypeError,
     "callbacks: expected an iterable of callables, got function; pass a single callback as [callback]"),
    ([3, 4, 3], CE, (X, Y), dict(callbacks=[3]), TypeError, "callbacks[0]: expected a callable"),
    ([3, 4, 3], CE, (X, Y), dict(early_stopping=3), TypeError,
     "early_stopping: expected an EarlyStopping or None, got int"),
]


@pytest.mark.parametrize(("widths", "loss", "data", "kwargs", "error", "message"), FIT_CASES)
def test_fit_names_its_own_argument_before_the_first_update(widths, loss, data, kwargs, error, message):
    model = _mlp(widths)
    before = _values(model)
    with pytest.raises(error, match=re.escape(message)):
        _fit(data, model=model, loss=loss, **kwargs)
    for got, want in zip(_values(model), before, strict=True):
        np.testing.assert_array_equal(got, want)  # no step was taken


def test_fit_rejects_a_model_that_is_not_a_module_and_an_optimizer_of_another_model():
    other = _mlp([3, 4, 3])
    with pytest.raises(TypeError, match="model: expected a gdcourse.nn.Module, got function"):
        _fit(model=lambda x: x, optimizer=optim.SGD(other.parameters(), lr=0.1))
    with pytest.raises(ValueError, match=r"optimizer: expected an optimizer over model.parameters\(\), got one over "
                                         r"4 other parameters"):
        _fit(model=_mlp([3, 4, 3]), optimizer=optim.SGD(other.parameters(), lr=0.1))
    with pytest.raises(TypeError, match=r"loss: expected an object with forward\(\) and backward\(\), got str"):
        _fit(loss="mse")


def test_fit_accepts_what_the_losses_accept():
    """Integer regression targets, one-hot class rows and a frozen part of the model stay legitimate."""
    model = _mlp([3, 4, 1])
    _fit((X_REG, np.arange(20)[:, None]), model=model, loss=MSE)
    onehot = np.eye(3)[Y]
    assert _fit((X, onehot), val=(X[:5], onehot[:5])).num_epochs == 1
    model = _mlp([3, 4, 3])
    frozen = optim.SGD(model.parameters()[2:], lr=0.1)
    assert _fit(model=model, optimizer=frozen).num_epochs == 1


# ------------------------------------------------------------------ divergence: stopped first, quietly

RNG = np.random.default_rng(1)
X_DIV = RNG.standard_normal((64, 4))


@pytest.mark.parametrize(("make", "loss", "y", "first"), [
    (lambda p: optim.SGD(p, lr=1e6), losses.CrossEntropyLoss(), RNG.integers(0, 3, 64), "the loss is"),
    (lambda p: optim.SGD(p, lr=1e6, momentum=0.9), losses.CrossEntropyLoss(), RNG.integers(0, 3, 64),
     "the loss is"),
    (lambda p: optim.Adam(p, lr=1e100), losses.MSELoss(), RNG.standard_normal((64, 3)), "the loss is inf"),
], ids=["SGD", "momentum", "Adam"])
def test_divergence_stops_with_the_clear_message_and_no_numpy_warning(make, loss, y, first):
    model = _mlp([4, 16, 3])
    with pytest.raises(train.TrainingDiverged) as info:
        train.fit(model, loss, make(model.parameters()), (X_DIV, y), epochs=50, batch_size=16, progress=False, rng=0)
    message = str(info.value)
    assert message.startswith("training diverged at step ")
    assert first in message and "Likely causes: a learning rate too high" in message
    assert all(np.isfinite(info.value.history.step_loss))


class _InfiniteGradient(nn.Module):
    """A linear map whose backward reports an infinite weight gradient (a finite loss, an inf gradient)."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(np.ones((3, 3)))

    def forward(self, x):
        self._cache = x
        return x @ self.weight.value

    def backward(self, dy, input_grad=True):
        self._saved()
        self.weight.grad[0, 0] += np.inf
        return None


def test_an_infinite_gradient_stops_training_before_the_update():
    model = _InfiniteGradient()
    with pytest.raises(train.TrainingDiverged, match="at step 0: the gradient norm is inf with learning rate 0.1"):
        _fit(model=model, optimizer=optim.SGD(model.parameters(), lr=0.1))
    np.testing.assert_array_equal(model.weight.value, np.ones((3, 3)))


def test_clip_norm_in_fit_still_clips():
    model = _mlp([3, 4, 3])
    history = _fit(model=model, clip_norm=1e-3)
    assert regularization.global_grad_norm(model.parameters()) <= 1e-3 * (1 + 1e-6)
    assert len(history.step_grad_norm) == 4


def test_bce_loss_refuses_a_nan_prediction_and_fit_reports_the_divergence():
    import warnings

    from gdcourse import losses, nn, optim, train

    with pytest.raises(ValueError, match=r"BCELoss: pred: expected probabilities in \[0, 1\], got NaN"):
        losses.BCELoss().forward(np.array([[0.5], [np.nan]]), np.array([[1.0], [0.0]]))

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((64, 4)), (rng.random((64, 1)) > 0.5).astype(float)
    model = nn.Sequential(nn.Linear(4, 8, rng=0), nn.ReLU(), nn.Linear(8, 1, rng=1), nn.Sigmoid())
    model.layers[0].weight.value = np.full((4, 8), np.inf)  # a model that has already blown up
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(train.TrainingDiverged, match="the model's output is not finite"):
            train.fit(model, losses.BCELoss(), optim.SGD(model.parameters(), lr=0.1), (X, y), epochs=1,
                      batch_size=16, progress=False, rng=0)
