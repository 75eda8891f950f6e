"""Clipping with non-finite gradients (PyTorch's semantics, no warning), bad input to the penalties,
EarlyStopping and the gradient checker: a clear error naming the argument."""

import re

import numpy as np
import pytest

from gdcourse import gradcheck, nn, optim
from gdcourse import regularization as R
from gdcourse.nn import Parameter

pytestmark = pytest.mark.filterwarnings("error")


def _params(first_grad):
    p, q = Parameter(np.ones((2, 2)), name="w1"), Parameter(np.ones((2, 2)), name="w2")
    p.grad = np.asarray(first_grad, dtype=float)
    q.grad = np.full((2, 2), 1.0)
    return [p, q]


# ------------------------------------------------------------------ clipping

def test_clip_grad_norm_with_an_inf_entry_follows_pytorch_quietly():
    """torch.nn.utils.clip_grad_norm_: total norm inf, scale max_norm / inf = 0: inf·0 = NaN, finite·0 = 0."""
    params = _params([[np.inf, 1.0], [1.0, 1.0]])
    total = R.clip_grad_norm(params, 1.0)
    assert total == np.inf
    np.testing.assert_array_equal(params[0].grad, [[np.nan, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(params[1].grad, np.zeros((2, 2)))


def test_clip_grad_norm_with_a_nan_entry_makes_every_entry_nan():
    params = _params([[np.nan, 1.0], [1.0, 1.0]])
    assert np.isnan(R.clip_grad_norm(params, 1.0))
    assert np.isnan(params[0].grad).all() and np.isnan(params[1].grad).all()


@pytest.mark.parametrize("clip", [lambda ps: R.clip_grad_norm(ps, 1.0, error_if_nonfinite=True),
                                  lambda ps: R.clip_grad_value(ps, 1.0, error_if_nonfinite=True)],
                         ids=["norm", "value"])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_error_if_nonfinite_raises_and_leaves_the_gradients(clip, bad):
    params = _params([[1.0, 1.0], [1.0, 1.0]])
    params[1].grad = np.array([[1.0, 1.0], [bad, 1.0]])
    with pytest.raises(ValueError, match=r"params: expected finite gradients \(error_if_nonfinite=True\), got a "
                                         r"total norm of (inf|nan): 1 NaN/inf entries, the first in params\[1\] "
                                         r"\('w2'\)"):
        clip(params)
    np.testing.assert_array_equal(params[0].grad, np.ones((2, 2)))
    np.testing.assert_array_equal(params[1].grad, [[1.0, 1.0], [bad, 1.0]])


def test_clip_grad_value_clamps_inf_and_keeps_nan_like_torch_clamp():
    params = _params([[np.nan, 5.0], [np.inf, -np.inf]])
    R.clip_grad_value(params, 1.0)
    np.testing.assert_array_equal(params[0].grad, [[np.nan, 1.0], [1.0, -1.0]])


def test_clipping_finite_gradients_is_unchanged():
    params = _params([[3.0, 0.0], [0.0, 0.0]])
    params[1].grad = np.array([[0.0, 4.0], [0.0, 0.0]])
    assert R.clip_grad_norm(params, 1.0) == pytest.approx(5.0)
    np.testing.assert_allclose(params[0].grad[0, 0], 3 / (5 + 1e-6), rtol=1e-15)
    np.testing.assert_allclose(params[1].grad[0, 1], 4 / (5 + 1e-6), rtol=1e-15)


LINEAR = nn.Linear(2, 2, rng=0)


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: R.clip_grad_norm([np.ones(3)], 1.0), TypeError,
     "params[0]: expected a gdcourse.nn.Parameter, got ndarray"),
    (lambda: R.clip_grad_norm(LINEAR, 1.0), TypeError,
     "params: expected an iterable of Parameter, got a Linear; pass model.parameters()"),
    (lambda: R.clip_grad_value(Parameter(np.ones(2)), 1.0), TypeError,
     "params: expected an iterable of Parameter, got a single Parameter; pass [param]"),
    (lambda: R.clip_grad_norm(_params(np.ones((2, 2))), 1.0, error_if_nonfinite="yes"), TypeError,
     "error_if_nonfinite: expected True or False, got 'yes'"),
    (lambda: R.l2_penalty([np.ones((2, 2))], 0.1), TypeError, "params[0]: expected a gdcourse.nn.Parameter"),
    (lambda: R.add_l1_grad(LINEAR, 0.1), TypeError, "params: expected an iterable of Parameter, got a Linear"),
    (lambda: R.global_grad_norm(3), TypeError, "params: expected an iterable of Parameter, got int"),
    (lambda: R.l1_penalty(_params(np.ones((2, 2))), float("nan")), ValueError,
     "strength: expected a finite real number, got nan"),
    (lambda: R.EarlyStopping(restore_best="no"), TypeError, "restore_best: expected True or False, got 'no'"),
    (lambda: R.EarlyStopping(mode="avg"), ValueError, "mode: expected 'min' or 'max', got 'avg'"),
    (lambda: R.EarlyStopping().step("a"), TypeError, "metric: expected a real number, got 'a' (str)"),
    (lambda: R.EarlyStopping().step(np.array([1.0, 2.0])), TypeError, "metric: expected a real number"),
])
def test_regularization_rejects_bad_arguments(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()


def test_early_stopping_restore_needs_the_same_parameters():
    stopper = R.EarlyStopping(patience=1)
    params = _params(np.ones((2, 2)))
    stopper.step(1.0, params)
    with pytest.raises(ValueError, match=re.escape("params: expected the 2 parameters given to step(), with shapes "
                                                   "[(2, 2), (2, 2)], got 1 with shapes [(2, 2)]")):
        stopper.restore(params[:1])


def test_early_stopping_counts_nan_as_no_improvement_and_patience_zero_as_one():
    stopper = R.EarlyStopping(patience=2)
    assert [stopper.step(v) for v in (1.0, float("nan"), float("nan"))] == [False, False, True]
    assert stopper.best == 1.0 and stopper.best_epoch == 0
    zero, one = R.EarlyStopping(patience=0), R.EarlyStopping(patience=1)
    assert [zero.step(v) for v in (1.0, 0.5, 0.7)] == [one.step(v) for v in (1.0, 0.5, 0.7)] == [False, False, True]
    assert R.EarlyStopping().step(np.array(0.5)) is False  # a 0-d array is a number


# ------------------------------------------------------------------ gradient checker

class _Doubling(nn.Module):
    def __init__(self, returns):
        super().__init__()
        self.returns = returns

    def forward(self, x):
        self._cache = x
        return 2.0 * x[:, :2] if self.returns == "narrow" else 2.0 * x

    def backward(self, dy):
        self._saved()
        return {"narrow": dy, "none": None, "list": (2.0 * dy).tolist(), "int": np.ones(dy.shape, dtype=int),
                "nan": np.full(dy.shape, np.nan)}[self.returns]


X64 = np.random.default_rng(0).standard_normal((5, 3))


@pytest.mark.parametrize(("returns", "message"), [
    ("narrow", "_Doubling.backward: expected it to return dL/dx of the input's shape (5, 3), got shape (5, 2)"),
    ("none", "_Doubling.backward: expected it to return dL/dx, an array of the input's shape (5, 3), got NoneType; "
             "did it forget to return?"),
    ("list", "_Doubling.backward: expected it to return dL/dx, an array of the input's shape (5, 3), got list"),
    ("int", "_Doubling.backward: expected it to return floating-point dL/dx, got dtype int64"),
    ("nan", "_Doubling.backward: dL/dx: expected finite values, got 15 NaN/inf entries"),
])
def test_check_module_names_the_module_and_what_its_backward_returned(returns, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        gradcheck.check_module(_Doubling(returns), X64.copy(), rng=0)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: gradcheck.check_module(nn.Linear(3, 2, rng=0), np.where(X64 > 1, np.nan, X64)),
     "x: expected finite values, got"),
    (lambda: gradcheck.numerical_gradient(lambda x: float("nan"), X64.copy()),
     "f: expected a finite value at every perturbed point, got nan"),
    (lambda: gradcheck.numerical_gradient(lambda x: "a", X64.copy()), "f: expected a real number, got 'a' (str)"),
    (lambda: gradcheck.numerical_input_gradient(lambda x: x * np.inf, X64.copy(), np.ones((5, 3))),
     "f: expected finite outputs at every perturbed point, got NaN or inf"),
    (lambda: gradcheck.relative_error([np.nan], [1.0]), "a: expected finite values, got 1 NaN/inf entries"),
    (lambda: gradcheck.relative_error([1.0], [np.inf]), "b: expected finite values, got 1 NaN/inf entries"),
    (lambda: gradcheck.relative_error(["a"], ["b"]), "a: expected an array of real numbers, got list"),
])
def test_gradient_checker_rejects_non_finite_and_non_numeric_values(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


# ------------------------------------------------------------------ optimizer constructors

def _one():
    return [Parameter(np.ones(3))]


@pytest.mark.parametrize(("make", "error", "message"), [
    (lambda: optim.SGD(_one(), lr=0.1, momentum=0.9, nesterov="yes"), TypeError,
     "nesterov: expected True or False, got 'yes'"),
    (lambda: optim.Adam(_one(), amsgrad="no"), TypeError, "amsgrad: expected True or False, got 'no'"),
    (lambda: optim.AdamW(_one(), amsgrad=1), TypeError, "amsgrad: expected True or False, got 1"),
    (lambda: optim.RMSprop(_one(), centered=None), TypeError, "centered: expected True or False, got None"),
    (lambda: optim.SGD(_one(), lr=-1), ValueError, "lr: expected a number >= 0, got -1"),
    (lambda: optim.SGD(_one(), lr=float("nan")), ValueError, "lr: expected a finite real number, got nan"),
    (lambda: optim.SGD(_one(), lr=True), ValueError, "lr: expected a finite real number, got True"),
    (lambda: optim.Adam(_one(), betas=(1, 0.9)), ValueError, "betas[0]: expected a number in [0, 1), got 1"),
    (lambda: optim.Adam(_one(), betas=(0.9, -0.1)), ValueError, "betas[1]: expected a number in [0, 1), got -0.1"),
    (lambda: optim.Adam([]), ValueError, "Adam: params: expected at least one Parameter, got an empty list"),
    (lambda: optim.Adam([np.ones(3)]), TypeError, "Adam: params[0]: expected a gdcourse.nn.Parameter, got ndarray"),
    (lambda: (lambda p: optim.SGD([p, p], lr=0.1))(Parameter(np.ones(2))), ValueError,
     "SGD: params: expected each Parameter once"),
])
def test_optimizer_constructors_reject_bad_arguments(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make()


def test_optimizer_flags_accept_numpy_booleans():
    assert optim.SGD(_one(), lr=0.1, momentum=0.9, nesterov=np.float64(0.9) > 0).nesterov is True
