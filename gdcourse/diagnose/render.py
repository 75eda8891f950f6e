"""The text screens of ``gdcourse diagnose``: sparklines and the lines of a run, of the choices, of the verdict.

Every screen fits a terminal of :data:`WIDTH` × :data:`HEIGHT` characters. Curves are drawn with the
Unicode block characters :data:`BLOCKS`, or :data:`ASCII_LEVELS` on a terminal that cannot show them.
"""

from __future__ import annotations

import textwrap

import numpy as np

from gdcourse.diagnose.case import Case
from gdcourse.diagnose.faults import FAULTS, fault_names
from gdcourse.diagnose.run import Run

__all__ = ["WIDTH", "HEIGHT", "BLOCKS", "ASCII_LEVELS", "sparkline", "symptom_lines", "choice_lines",
           "outcome_lines"]

WIDTH, HEIGHT = 78, 24
BLOCKS = "▁▂▃▄▅▆▇█"
ASCII_LEVELS = "_.-~=+*#"


# ---------------------------------------------------------------- sparklines and numbers

def _bins(values, width):
    """Means of ``values`` over at most ``width`` equal bins (NaN if a bin holds a non-finite value)."""
    values = np.asarray(values, dtype=float)
    if len(values) <= width:
        return values
    edges = np.linspace(0, len(values), width + 1).astype(int)[:-1]
    sums = np.add.reduceat(values, edges)
    return sums / np.diff(np.append(edges, len(values)))


def sparkline(values, width=40, log=False, charset=BLOCKS, lo=None, hi=None, min_span=0.0) -> str:
    """A one-line chart of ``values``: one character per bin, its height from the bin's mean.

    The vertical range is ``[lo, hi]`` (default: the data's), widened around its centre to at
    least ``min_span`` so that noise on a flat curve stays flat; ``log`` works on ``log10`` of
    the values (losses, norms; ``lo``/``hi``/``min_span`` are then in decades). A bin with a
    non-finite (or, on a log scale, non-positive) value shows ``!``; an empty series gives "".
    """
    binned = _bins(values, width)
    if binned.size == 0:
        return ""
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.log10(binned) if log else binned.astype(float)
    finite = np.isfinite(scaled)
    if not finite.any():
        return "!" * len(binned)
    low = np.min(scaled[finite]) if lo is None else lo
    high = np.max(scaled[finite]) if hi is None else hi
    if high - low < min_span:
        centre = (high + low) / 2
        low, high = centre - min_span / 2, centre + min_span / 2
    span = high - low if high > low else 1.0
    levels = np.clip(np.rint((np.where(finite, scaled, low) - low) / span * (len(charset) - 1)),
                     0, len(charset) - 1).astype(int)
    return "".join(charset[level] if ok else "!" for level, ok in zip(levels, finite, strict=True))


def _number(value) -> str:
    """At most 6 characters: ``0.166``, ``118``, ``4.6e3``, ``1.5e-6``, ``nan``."""
    if value is None or not np.isfinite(value):
        return "nan" if value is not None and np.isnan(value) else "inf"
    if value == 0:
        return "0"
    if 1e-2 <= abs(value) < 1e3:
        return f"{value:.3g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _percent(value) -> str:
    return "—" if value is None or not np.isfinite(value) else f"{100 * value:.1f}%"


# ---------------------------------------------------------------- a run

def _curve_rows(run: Run, charset, width) -> list[str]:
    spark = width - 38
    rows = [f"{'':20}{'start':>8} {'end':>8}  curve"]
    log_scale = {"log": True, "min_span": 0.3}   # a flat curve stays flat unless it moves by 2x
    accuracy_scale = {"lo": 0.0, "hi": 1.0}
    series = [("train loss / step", run.step_loss, log_scale, _number),
              ("val loss", run.val_loss, log_scale, _number),
              ("train acc / epoch", run.train_accuracy, accuracy_scale, _percent),
              ("val accuracy", run.val_accuracy, accuracy_scale, _percent),
              ("gradient norm / step", run.step_grad_norm, log_scale, _number)]
    for label, values, scale, fmt in series:
        first, last = (fmt(values[0]), fmt(values[-1])) if len(values) else ("—", "—")
        rows.append(f"{label:20}{first:>8} {last:>8}  {sparkline(values, spark, charset=charset, **scale)}")
    return rows


def _layer_table(title, columns, rows, width):
    """A table with one column per layer; as many columns as fit in ``width``."""
    label_width, cell = 15, 7
    fit = max(1, (width - label_width) // cell)
    shown = list(range(len(columns)))
    if len(columns) > fit:  # keep the ends: the contrast between first and last layers is the point
        shown = shown[:fit // 2] + shown[len(columns) - (fit - fit // 2):]
    lines = [f"{title:{label_width}}" + "".join(f"{columns[i]:>{cell}}" for i in shown)]
    for label, values in rows:
        lines.append(f"  {label:{label_width - 2}}" + "".join(f"{values[i]:>{cell}}" for i in shown))
    return lines


def _gradient_rows(run: Run, width) -> list[str]:
    start = [_number(v) for v in run.grad_norms[0]]
    end = [_number(v) for v in run.grad_norms[-1]] if len(run.grad_norms) > 1 else ["—"] * len(start)
    columns = [str(i + 1) for i in range(len(start))]
    return _layer_table("grad norm/layer", columns, [("at start", start), ("at end", end)], width)


def _activation_rows(run: Run, width) -> list[str]:
    n = len(run.activations_start)
    end = run.activations_end or (None,) * n
    rows = [("std, start", [_number(s.std) for s in run.activations_start]),
            ("dead %, start", [f"{100 * s.dead:.0f}" for s in run.activations_start]),
            ("dead %, end", ["—" if s is None else f"{100 * s.dead:.0f}" for s in end]),
            ("saturated %", ["—" if s is None else f"{100 * s.saturated:.0f}" for s in end])]
    kind = run.activations_start[0].layer if n else "activation"
    return _layer_table(f"{kind} layer"[:15], [str(i + 1) for i in range(n)], rows, width)


def symptom_lines(run: Run, seed=None, charset=BLOCKS, width=WIDTH) -> list[str]:
    """What the learner sees of ``run``, as lines of at most ``width`` characters (15 lines)."""
    title = "Diagnose this run" + (f" · case {seed}" if seed is not None else "")
    where = (f" · diverged at step {run.diverged_at}" if run.diverged_at is not None
             else f" · {run.num_steps} steps")
    lines = [f"{title}{where} · val acc, reshuffled: {_percent(run.val_accuracy_reshuffled)}"]
    lines += _curve_rows(run, charset, width)
    lines += _gradient_rows(run, width) + _activation_rows(run, width)
    return [line[:width] for line in lines]


# ---------------------------------------------------------------- the question and the answer

def choice_lines(width=WIDTH) -> list[str]:
    """The numbered causes in two columns."""
    items = [f"{i + 1:>2}. {FAULTS[name].title}" for i, name in enumerate(fault_names())]
    half = -(-len(items) // 2)
    column = width // 2
    left, right = items[:half], items[half:] + [""]
    return [f"{a[:column - 1]:{column}}{b[:column - 1]}".rstrip() for a, b in zip(left, right, strict=False)]


def outcome_lines(case: Case, answer: str, charset=BLOCKS, width=WIDTH) -> list[str]:
    """The verdict on ``answer`` (a fault name), the explanation, the fix and the fixed run's numbers."""
    fault = case.fault
    if answer == fault.name:
        lines = textwrap.wrap(f"Right: {fault.title}.", width)
    else:
        chosen = FAULTS[answer]
        lines = textwrap.wrap(f"Not this time: you chose {chosen.title!r}, but it was {fault.title!r}. "
                              f"({chosen.title.capitalize()} would show {chosen.tell}.)", width)
    for label, text in (("What was wrong: ", fault.what_was_wrong), ("Why: ", fault.explanation),
                        ("Fix: ", fault.fix)):
        lines += textwrap.wrap(label + text, width)
    changes = "; ".join(case.fixed.setup.changes_from(case.broken.setup))
    lines += textwrap.wrap(f"The fixed run ({changes}):", width)
    lines += _curve_rows(case.fixed, charset, width)
    return [line[:width] for line in lines]
