"""``gdcourse bench --widgets``: how long each explorer takes to answer a control change.

Every function of a :mod:`gdcourse.widgets` sub-module that is annotated to return
an :class:`~gdcourse.widgets.Explorer` is built with its defaults. Then each of its
controls is moved the way a learner moves it (:func:`moves`: a slider dragged a few
steps and back, a dropdown to the next option and back, a box toggled, a text
edited), once as a warm-up and ``rounds`` more times timed. One update is
everything the kernel does for a change: compute, update or draw the figure, and
encode the PNG (wall time, ``time.perf_counter``). The browser's share (sending the
PNG, decoding it) is not included; the browser suite records it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import statistics
import time

import ipywidgets as W
import numpy as np

from gdcourse.bench_timing import cpu_ticks, load_average, other_cpu_load

__all__ = ["discover", "moves", "time_explorer", "run_widget_benchmark", "format_widget_report"]

BUDGET_MS = 100.0
"""The median an explorer must stay under (issue 15): a frame that follows the hand."""


def discover() -> dict:
    """``"module.function" -> factory`` for every explorer factory in the ``gdcourse.widgets`` package."""
    import gdcourse.widgets as package

    found = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name in getattr(module, "__all__", []):
            factory = getattr(module, name)
            if callable(factory) and _returns_explorer(factory):
                found[f"{info.name}.{name}"] = factory
    return found


def _returns_explorer(function) -> bool:
    try:
        annotation = inspect.signature(function).return_annotation
    except (TypeError, ValueError):
        return False
    from gdcourse.widgets import Explorer

    return annotation in ("Explorer", Explorer)


def moves(control, steps: int = 3) -> list:
    """The values a learner passes through when moving ``control`` once, ending where it started.

    Sliders: ``steps`` steps up (down when at the top) and back; a log slider in
    its exponent. Dropdowns: the next option and back. Check boxes: toggled twice.
    Multiple selection: the last chosen option dropped and restored. Text: a space
    appended and removed (an edit that keeps the meaning).
    """
    value = control.value
    if isinstance(control, W.FloatLogSlider):
        exponent = np.log(value) / np.log(control.base)
        sign = 1 if exponent + steps * control.step <= control.max else -1
        path = [control.base ** (exponent + sign * k * control.step) for k in range(1, steps + 1)]
        return path + path[-2::-1] + [value]
    if isinstance(control, W.IntSlider | W.FloatSlider):
        sign = 1 if value + steps * control.step <= control.max else -1
        path = [value + sign * k * control.step for k in range(1, steps + 1)]
        if isinstance(control, W.IntSlider):
            path = [int(v) for v in path]
        return path + path[-2::-1] + [value]
    if isinstance(control, W.Checkbox):
        return [not value, value]
    if isinstance(control, W.SelectMultiple):
        return [tuple(value[:-1]), tuple(value)] if len(value) > 1 else []
    if isinstance(control, W.Dropdown):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        other = options[(options.index(value) + 1) % len(options)]
        return [other, value] if other != value else []
    if isinstance(control, W.Text):
        return [value + " ", value]
    return []


def time_explorer(explorer, rounds: int = 2, steps: int = 3) -> dict:
    """Milliseconds per update for every move of every control, after one untimed warm-up round.

    Wall time is what a learner waits; the process's CPU time (all its threads) is
    beside it because on a shared machine other processes inflate the wall time.
    """
    times, cpu = {}, []
    for round_ in range(rounds + 1):
        for name, control in explorer.controls.items():
            for value in moves(control, steps):
                start, start_cpu = time.perf_counter(), time.process_time()
                control.value = value
                elapsed = (time.perf_counter() - start) * 1e3
                if round_:
                    times.setdefault(name, []).append(elapsed)
                    cpu.append((time.process_time() - start_cpu) * 1e3)
    every = [t for values in times.values() for t in values]
    return {
        "median_ms": statistics.median(every) if every else float("nan"),
        "worst_ms": max(every, default=float("nan")),
        "median_cpu_ms": statistics.median(cpu) if cpu else float("nan"),
        "updates": len(every),
        "slowest_control": max(times, key=lambda n: statistics.median(times[n])) if times else "",
        "per_control_median_ms": {n: statistics.median(v) for n, v in times.items()},
    }


def run_widget_benchmark(names=None, rounds: int = 2, progress=None) -> dict:
    """Build every explorer (or those in ``names``) and time its updates; the machine's load beside."""
    factories = discover()
    if names:
        unknown = sorted(set(names) - set(factories))
        if unknown:
            raise ValueError(f"names: unknown explorers {unknown}; expected some of {sorted(factories)}")
        factories = {n: f for n, f in factories.items() if n in names}
    load_before, ticks = load_average(), cpu_ticks()
    results = {}
    for name, factory in factories.items():
        if progress:
            progress(f"timing {name}")
        start = time.perf_counter()
        explorer = factory()
        build_ms = (time.perf_counter() - start) * 1e3
        results[name] = {"build_ms": build_ms, **time_explorer(explorer, rounds)}
    return {"results": results, "rounds": rounds, "load_average_before": load_before,
            "other_cpu_load": other_cpu_load(ticks, cpu_ticks())}


def format_widget_report(report: dict) -> str:
    """One line per explorer: median and worst update, the slowest control, the first frame."""
    lines = [f"Explorer update after a control change (compute + figure + PNG), wall time, "
             f"{report['rounds']} timed rounds of moves per control after a warm-up round.", "",
             f"{'explorer':<40}{'median ms':>10}{'worst ms':>10}{'CPU ms':>8}{'updates':>9}  "
             f"{'slowest control':<20}{'first frame ms':>15}"]
    for name, row in report["results"].items():
        flag = "" if row["median_ms"] <= BUDGET_MS else "  > budget"
        lines.append(f"{name:<40}{row['median_ms']:>10.0f}{row['worst_ms']:>10.0f}{row['median_cpu_ms']:>8.0f}"
                     f"{row['updates']:>9}  "
                     f"{row['slowest_control']:<20}{row['build_ms']:>15.0f}{flag}")
    lines.append("(CPU ms: median CPU time of this process per update, less sensitive to other load.)")
    lines.append(f"(budget: median ≤ {BUDGET_MS:.0f} ms per change; load average before: "
                 f"{report['load_average_before']}, other processes' CPU load during the run: "
                 f"{report['other_cpu_load']})")
    return "\n".join(lines)
