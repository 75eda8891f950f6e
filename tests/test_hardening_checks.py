"""Every exercise check given odd learner returns: it never raises, never passes, and says what it got."""

import inspect
import io
from contextlib import redirect_stdout

import numpy as np
import pytest

import gdcourse.check  # noqa: F401 - registers every check
from gdcourse.check import core
from gdcourse.check.core import REGISTRY

pytestmark = pytest.mark.filterwarnings("error")


class _Subclass(np.ndarray):
    pass


class _BrokenArray:
    def __array__(self, *args, **kwargs):
        raise RuntimeError("broken __array__")


def _generator():
    yield 1.0


def _exits(*args, **kwargs):
    raise SystemExit(3)


ODD = {
    "tuple": lambda *a, **k: (1.0, 2.0),
    "generator": lambda *a, **k: _generator(),
    "None": lambda *a, **k: None,
    "ndarray subclass": lambda *a, **k: np.zeros(3).view(_Subclass),
    "matrix": lambda *a, **k: np.matrix([[1.0, 2.0]]),
    "huge array": lambda *a, **k: np.zeros(10**6),
    "string": lambda *a, **k: "abc",
    "nan array": lambda *a, **k: np.full(3, np.nan),
    "complex": lambda *a, **k: np.array([1j, 2j]),
    "ragged list": lambda *a, **k: [[1.0], [1.0, 2.0]],
    "broken __array__": lambda *a, **k: _BrokenArray(),
    "sys.exit": _exits,
}
FUNCTION_CHECKS = sorted(name for name, check in REGISTRY.items()
                         if all(p.name not in ("value", "name") for p in inspect.signature(check).parameters.values()))


def _required(check):
    return [p for p in inspect.signature(check).parameters.values() if p.default is p.empty]


@pytest.mark.parametrize("odd", sorted(ODD))
@pytest.mark.parametrize("name", FUNCTION_CHECKS)
def test_a_check_given_an_odd_return_fails_with_a_verdict(name, odd):
    check = REGISTRY[name]
    with redirect_stdout(io.StringIO()):
        result = check(*[ODD[odd]] * len(_required(check)))
    assert isinstance(result, core.CheckResult)
    assert result.status == "failed", result.message
    assert result.message


@pytest.mark.parametrize(("got", "fragment"), [
    (_generator(), "you returned a generator (a lazy sequence): return a list or an array"),
    (np.array([1j]), "you returned complex numbers, not the gradient"),
    ("abc", "you returned str, not the gradient"),
    (_BrokenArray(), "you returned _BrokenArray, not the gradient"),
    ([[1.0], [1.0, 2.0]], "you returned list, not the gradient"),
    (None, "your function returned None: did you forget to return the gradient?"),
])
def test_returned_array_names_what_it_got(got, fragment):
    with pytest.raises(core.Mismatch, match=fragment.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        core.returned_array(got, "x = 1", "the gradient")


def test_returned_array_turns_subclasses_into_plain_float_arrays():
    out = core.returned_array(np.arange(2).reshape(1, 2).view(_Subclass), "x = 1", "the gradient")
    assert type(out) is np.ndarray and out.dtype == np.float64 and out.shape == (1, 2)


@pytest.mark.parametrize("got", [np.array([1.0 + 0j]), _generator(), "1.0"])
def test_expect_close_never_accepts_what_is_not_a_real_number(got):
    with pytest.raises(core.Mismatch, match="which is not a real number or array"):
        core.expect_close(got, 1.0, "x = 1")


def test_call_turns_sys_exit_into_a_verdict():
    with pytest.raises(core.LearnerError, match=r"your function called sys.exit\(3\) on x = 1; return a value"):
        core.call(_exits, describe="x = 1")
