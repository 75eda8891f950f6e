"""Run one test cell in the grader, against the learner's kernel, and keep hidden tests hidden.

A test cell such as::

    result = check.mse_gradient(mse_gradient)
    ### BEGIN HIDDEN TESTS
    assert result.passed, result.message
    ### END HIDDEN TESTS

runs here, in the grader's process, on the source's text (hidden tests
included). Its names resolve in this order: what the cell itself assigns, the
imports of the source notebook (``check``, ``np``: the grader's own, untouched
modules), the builtins, and only then the learner's kernel, through
:class:`gdcourse.course.remote.Remote` (``mse_gradient`` becomes a proxy whose
calls run in the kernel). The cell earns its points when it runs without an
exception (nbgrader's rule).

What the student may see: the output of the visible lines (the check's verdict)
and the error of a visible line. A hidden line that fails shows only "a hidden
test failed"; whatever hidden lines print is dropped.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import warnings
from dataclasses import dataclass

from gdcourse.course import release as R
from gdcourse.course.remote import MISSING, KernelLost

__all__ = ["Verdict", "evaluate", "hidden_line_numbers", "free_names", "trusted_namespace", "HIDDEN_FAILED"]

HIDDEN_FAILED = "a hidden test failed."
MAX_MESSAGE = 4000


@dataclass(frozen=True)
class Verdict:
    """The outcome of one test cell. ``message`` is safe to show the student."""

    passed: bool
    status: str  # "passed", "failed", "not done" or "error"
    message: str


def hidden_line_numbers(source) -> set[int]:
    """1-based numbers of the lines inside hidden-test regions, markers included."""
    lines = source.split("\n")
    hidden = set()
    for start, stop in R.marked_regions(lines, R.BEGIN_HIDDEN, R.END_HIDDEN, "test cell"):
        hidden.update(range(start + 1, stop + 2))
    return hidden


def _segments(source, hidden):
    """Consecutive runs of visible / hidden lines, each as (is_hidden, code padded to keep line numbers)."""
    lines = source.split("\n")
    runs, start = [], 0
    for i in range(1, len(lines) + 1):
        if i == len(lines) or ((i + 1) in hidden) != ((start + 1) in hidden):
            runs.append(((start + 1) in hidden, "\n" * start + "\n".join(lines[start:i])))
            start = i
    return runs


def free_names(tree) -> list[str]:
    """Names a cell reads without defining them, in order of first use."""
    stored = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            stored.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            stored.add(node.name)
        elif isinstance(node, ast.alias):
            stored.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.arg):
            stored.add(node.arg)
    loads = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    loaded = [n.id for n in sorted(loads, key=lambda n: (n.lineno, n.col_offset))]
    return [name for name in dict.fromkeys(loaded) if name not in stored]


class _Unavailable:
    """A name the source imports but the grader could not: using it fails the test (never the kernel's)."""

    def __init__(self, name, error):
        self._why = f"the grader could not import {name!r} ({type(error).__name__}: {error})"

    def __getattr__(self, attribute):
        raise RuntimeError(self._why)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(self._why)


def _bound_names(statement) -> list[str]:
    node = ast.parse(statement).body[0]
    return [(alias.asname or alias.name).split(".")[0] for alias in node.names]


def trusted_namespace(import_statements) -> dict:
    """The grader's own modules for the source notebook's imports (``check``, ``np``, ...).

    A name whose import fails here is bound to a placeholder, so that it is never
    looked up in the learner's kernel (whose ``check`` could be anything).
    """
    namespace = {"__name__": "__gdcourse_test__", "__builtins__": builtins}
    for statement in import_statements:
        try:
            exec(compile(statement, "<source imports>", "exec"), namespace)  # noqa: S102 - the instructor's code
        except Exception as err:  # noqa: BLE001 - any failure: the name is unavailable, not the kernel's
            for name in _bound_names(statement):
                namespace.setdefault(name, _Unavailable(name, err))
    return namespace


def _compile(source, hidden, grade_id):
    """Compiled segments; when a hidden region is not a whole statement, the cell as one hidden block."""
    filename = f"<test cell {grade_id}>"
    try:
        return [(is_hidden, compile(code, filename, "exec")) for is_hidden, code in _segments(source, hidden)]
    except SyntaxError:
        return [(bool(hidden), compile(source, filename, "exec"))]


def _clip(text):
    text = text.strip()
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + " …"


def evaluate(grade_id, source, trusted, remote, learner_names=frozenset()) -> Verdict:
    """Run the test cell ``source`` against ``remote``; raises nothing but :class:`KernelLost`.

    ``learner_names`` (what the source's solution cells define) always come from
    the kernel, even when a builtin or an import has the same name.
    """
    try:
        hidden = hidden_line_numbers(source)
        tree = ast.parse(source)
        blocks = _compile(source, hidden, grade_id)
    except (SyntaxError, ValueError) as err:
        return Verdict(False, "error", f"the test cell cannot run ({type(err).__name__}); tell your "
                                       "instructor.")
    namespace = dict(trusted)
    for name in free_names(tree):
        if name not in learner_names and (name in namespace or hasattr(builtins, name)):
            continue
        try:
            value = remote.fetch(name)
        except KernelLost:
            raise
        except Exception as err:  # noqa: BLE001 - a broken answer fails this test only
            return Verdict(False, "error", _clip(f"could not read {name!r} from your notebook: "
                                                 f"{type(err).__name__}: {err}"))
        if value is not MISSING:
            namespace[name] = value
    shown = []
    for is_hidden, code in blocks:
        output = io.StringIO()
        try:
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(io.StringIO()), \
                    warnings.catch_warnings():
                warnings.simplefilter("ignore")
                exec(code, namespace)  # noqa: S102 - the instructor's test, on proxies of the learner's names
        except KernelLost:
            raise
        except (Exception, SystemExit) as err:  # noqa: BLE001 - any error fails the test (nbgrader's rule)
            if is_hidden:
                return _failed(shown, namespace, HIDDEN_FAILED, "failed")
            shown.append(output.getvalue())
            status = ("failed" if isinstance(err, AssertionError)
                      else "not done" if isinstance(err, NotImplementedError) else "error")
            return _failed(shown, namespace, f"{type(err).__name__}: {err}", status)
        if not is_hidden:
            shown.append(output.getvalue())
    return Verdict(True, "passed", _clip("".join(shown)))


def _failed(shown, namespace, error, status) -> Verdict:
    from gdcourse.check.core import CheckResult

    result = namespace.get("result")
    if isinstance(result, CheckResult) and result.status == "not done":
        status = "not done"
    text = "".join(shown).strip()
    return Verdict(False, status, _clip(f"{text}\n{error}" if text else error))
