"""Exercise checks: the learner's function against the package's own behaviour.

A check cell in a notebook calls one function of this package with the learner's
function (or value), for example ``check.gd_step(gd_step)``. The check runs the
learner's code on several random and edge-case inputs, compares with the
reference, prints one specific verdict (what was wrong, on which input, and a
hint) and returns a :class:`CheckResult`. A check never raises: an unsolved
exercise (its stub raises ``NotImplementedError``) reports "not done yet", and
an exception inside the learner's code is reported, not propagated, so the
notebook keeps running. Grading asserts ``result.passed`` in a hidden test.

Writing a check (in the sub-module of its notebook, e.g. ``gdcourse/check/gd.py``)::

    @exercise("gd_step")
    def gd_step(fn):
        for case in cases:
            got = call(fn, *case.args)           # reports the learner's exceptions
            expect_close(got, reference(...), case.describe, hint="...")
"""

from __future__ import annotations

import functools
import html
import inspect
import math
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["CheckResult", "Mismatch", "LearnerError", "exercise", "call", "answer", "expect_close", "expect",
           "returned_array", "show", "same_array", "is_number", "is_whole_number", "REGISTRY"]

REGISTRY: dict[str, callable] = {}
"""Exercise name → check function, for listings and the release tool."""


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one exercise. ``status`` is "passed", "failed" or "not done"."""

    exercise: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __bool__(self):
        return self.passed

    def __str__(self):
        mark = {"passed": "✔", "failed": "✘", "not done": "…"}[self.status]
        return f"{mark} {self.exercise}: {self.message}"

    def _repr_html_(self):
        color = {"passed": "#1a7f37", "failed": "#cf222e", "not done": "#9a6700"}[self.status]
        return (
            f'<div style="border-left:4px solid {color};padding:4px 10px;margin:4px 0">'
            f"<b style='color:{color}'>{html.escape(str(self).split(':', 1)[0])}</b>: "
            f"{html.escape(self.message)}</div>"
        )


class Mismatch(Exception):
    """Raised inside a check when the learner's answer is wrong; its text is the verdict."""


class _NotDone(Exception):
    pass


class LearnerError(Exception):
    """The learner's function raised; its text names the exception and the case (see :func:`call`)."""


def call(fn, *args, describe="", **kwargs):
    """Call the learner's ``fn``; turn its exceptions into a verdict instead of a crash.

    Arrays are copied first, so a function that modifies its input in place
    cannot corrupt the check's reference data.
    """
    args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    where = f" on {describe}" if describe else ""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as err:
        raise _NotDone(str(err)) from None
    except SystemExit as err:  # sys.exit() or exit() in the learner's code must not end the kernel's cell
        raise LearnerError(f"your function called sys.exit({err.code!r}){where}; return a value instead") from None
    except Exception as err:  # noqa: BLE001 - any error in learner code becomes a verdict
        raise LearnerError(f"your function raised {type(err).__name__}{where}: {err}") from None


def answer(value):
    """The learner's answer to a "find it with the explorer" exercise; ``None`` means not done yet."""
    if value is None:
        raise _NotDone("no answer yet")
    return value


def returned_array(got, describe, what):
    """The learner's return value as a float64 array, or a :class:`Mismatch` naming what went wrong.

    ``describe`` names the case ("on x = [1, 2]"), ``what`` the expected value ("the gradient").
    """
    if got is None:
        raise Mismatch(f"on {describe} your function returned None: did you forget to return {what}?")
    array = _real_array(got)
    if array is None:
        raise Mismatch(f"on {describe} you returned {_kind(got)}, not {what}")
    return array


def _real_array(got):
    """``got`` as a float64 ndarray (subclasses such as ``np.matrix`` become plain arrays), or None
    when it is not made of real numbers: complex, strings, objects, ragged lists, a generator, or
    anything whose conversion raises."""
    if isinstance(got, (str, bytes, dict, set)) or inspect.isgenerator(got) or inspect.isfunction(got):
        return None
    try:
        raw = np.asarray(got)
        if raw.dtype.kind == "O":  # e.g. numbers that only define __float__
            raw = np.asarray(got, dtype=np.float64)
        if raw.dtype.kind not in "biuf":
            return None
        return np.array(raw, dtype=np.float64, subok=False)
    except Exception:  # noqa: BLE001 - whatever the learner returned, the verdict is "not an array"
        return None


def _kind(got) -> str:
    if inspect.isgenerator(got):
        return "a generator (a lazy sequence): return a list or an array, e.g. np.array([...])"
    if _is_complex(got):
        return "complex numbers"
    return type(got).__name__


def _is_complex(got) -> bool:
    try:
        return np.iscomplexobj(got)
    except Exception:  # noqa: BLE001 - a broken __array__ is reported by its type instead
        return False


def expect(condition, message):
    """Fail the check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise Mismatch(message)


def expect_close(got, want, describe, hint="", rtol=1e-6, atol=1e-9):
    """Compare numbers or arrays; the message names the input, both values and the hint."""
    got_arr = _real_array(got)
    if got_arr is None:
        raise Mismatch(f"on {describe} you returned {_short(got)}, which is not a real number or array")
    want_arr = np.asarray(want, dtype=float)
    if got_arr.shape != want_arr.shape:
        raise Mismatch(f"on {describe} the result has shape {got_arr.shape}, expected {want_arr.shape}")
    if not np.allclose(got_arr, want_arr, rtol=rtol, atol=atol, equal_nan=True):
        raise Mismatch(f"on {describe} you returned {_value(got_arr)}, expected {_value(want_arr)}. {hint}".rstrip())


def _short(got) -> str:
    text = _kind(got) if inspect.isgenerator(got) or _is_complex(got) else repr(got)
    return text if len(text) <= 80 else text[:77] + "..."


def _value(a):
    return show(a, precision=5, threshold=8) if np.ndim(a) else f"{float(a):.6g}"


# ---------------------------------------------------------------- helpers for the checks' verdicts

def show(a, *, precision=4, threshold=6, as_float=True) -> str:
    """``a`` as a verdict prints it: ``precision`` digits, ``[1., 2., ..., 9.]`` past ``threshold`` elements.

    ``as_float=False`` keeps integers as integers (indices, batch sizes).
    """
    a = np.asarray(a, dtype=float) if as_float else np.asarray(a)
    return np.array2string(a, precision=precision, threshold=threshold, separator=", ")


def same_array(got, want, *, rtol=1e-6, atol=1e-9) -> bool:
    """Same shape and equal within ``|got − want| <= atol + rtol·|want|`` everywhere (NaN is never equal)."""
    return got.shape == want.shape and np.allclose(got, want, rtol=rtol, atol=atol)


def is_number(value) -> bool:
    """A finite real number (an int, a float, a NumPy scalar), and not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def is_whole_number(value) -> bool:
    """A finite number with no fractional part: ``12`` or ``12.0``, not ``12.5`` or ``True``."""
    return is_number(value) and float(value).is_integer()


_NOT_DONE = "not done yet: write your code (or your answer) in the exercise cell above, run it, then run this cell."


def exercise(name, success="correct on every case tried."):
    """Register a check function and make it print and return a :class:`CheckResult`."""

    def decorate(check):
        @functools.wraps(check)
        def run(*args, **kwargs):
            try:
                message = check(*args, **kwargs) or success
                result = CheckResult(name, "passed", message)
            except _NotDone:
                result = CheckResult(name, "not done", _NOT_DONE)
            except (Mismatch, LearnerError) as err:
                result = CheckResult(name, "failed", str(err))
            except Exception as err:  # noqa: BLE001 - a check never raises (see the module docstring)
                result = CheckResult(name, "failed", f"your answer could not be checked: what it gave made the "
                                                     f"check fail with {type(err).__name__}: {err}")
            _display(result)
            return result

        REGISTRY[name] = run
        return run

    return decorate


def _display(result):
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display(result)
            return
    except ImportError:  # pragma: no cover - IPython ships with the course
        pass
    print(result)
