"""How long "Run All" takes from a fresh kernel, for every notebook: ``gdcourse bench --notebooks``.

Each notebook runs top to bottom in a fresh kernel (nbclient), as the learner's "Run All" does.
Reported per notebook:

* ``run_s``: from asking for a kernel to the reply of the last cell, kernel start included: what
  the learner waits for (the budget applies to it);
* ``wall_s``: the same plus shutting the kernel down afterwards (about 0.5 s), which nobody waits
  for in JupyterLab but a headless run pays;
* the CPU time the kernel used (its process is reaped by this one, so
  ``getrusage(RUSAGE_CHILDREN)`` counts it; on a busy machine it is the steadier figure), and the
  slowest cell.

With ``repeats`` > 1 every notebook runs that many times, in rounds over all of them (so a slow
minute of a shared machine does not fall on one notebook's runs only); the report gives the median
and the worst run.

By default the store of experiment results (:mod:`gdcourse.memo`) is filled first, as ``make lab``
does, so the figures are those of a learner's runs. ``cold=True`` times the first run ever instead:
an empty temporary store, every multi-seed study computed.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["time_notebook", "summarize", "run_notebook_benchmark", "format_notebook_report"]

COURSE_DIR = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 10.0


def _stamp(cell, name) -> datetime | None:
    value = cell.get("metadata", {}).get("execution", {}).get(name)
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _cell_seconds(cell) -> float:
    start, end = _stamp(cell, "iopub.execute_input"), _stamp(cell, "shell.execute_reply")
    return (end - start).total_seconds() if start and end else 0.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_notebook(path: Path, timeout: int = 600) -> dict:
    """Run ``path`` in a fresh kernel: its run and wall seconds, kernel CPU seconds, error count and slowest cell."""
    import nbformat

    from gdcourse.memo import headless_client

    notebook = nbformat.read(path, as_version=4)
    client = headless_client(notebook, path.parent, timeout, record_timing=True)
    cpu, start, started = _children_cpu(), time.perf_counter(), datetime.now(UTC)
    client.execute()
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    code = [c for c in notebook.cells if c.cell_type == "code"]
    replies = [stamp for stamp in (_stamp(c, "shell.execute_reply") for c in code) if stamp]
    run = (max(replies) - started).total_seconds() if replies else wall
    errors = sum(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))
    slowest = max(code, key=_cell_seconds, default=None)
    return {"notebook": f"{path.parent.name}/{path.name}", "run_s": min(run, wall), "wall_s": wall,
            "kernel_cpu_s": cpu, "errors": errors,
            "slowest_cell": slowest.get("id", "?") if slowest else "",
            "slowest_s": _cell_seconds(slowest) if slowest else 0.0}


def summarize(runs: list[dict]) -> dict:
    """One notebook's row from its runs: medians of the times, the worst run, every error."""
    def median(key):
        return float(statistics.median(r[key] for r in runs))

    slowest = max(runs, key=lambda r: r["slowest_s"])
    return {"notebook": runs[0]["notebook"], "runs": len(runs), "run_s": median("run_s"),
            "worst_run_s": max(r["run_s"] for r in runs), "wall_s": median("wall_s"),
            "kernel_cpu_s": median("kernel_cpu_s"), "errors": max(r["errors"] for r in runs),
            "slowest_cell": slowest["slowest_cell"], "slowest_s": slowest["slowest_s"]}


def default_notebooks() -> list[Path]:
    return sorted((COURSE_DIR / "solutions").glob("[0-9][0-9]_*.ipynb")) + \
        sorted((COURSE_DIR / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def run_notebook_benchmark(paths=None, *, cold: bool = False, repeats: int = 1, progress=None) -> dict:
    """Time every notebook of ``paths`` (default: solutions/ and notebooks/) ``repeats`` times (module docstring)."""
    from gdcourse import memo
    from gdcourse.validate import check_positive_int

    repeats = check_positive_int(repeats, "repeats")
    paths = [Path(p) for p in paths] if paths else default_notebooks()
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ValueError(f"notebooks: expected notebook files, got missing {missing}")
    say = progress or (lambda message: None)
    saved = os.environ.get("GDCOURSE_CACHE")
    scratch = tempfile.TemporaryDirectory(prefix="gdcourse-bench-cold-") if cold else None
    try:
        if cold:
            os.environ["GDCOURSE_CACHE"] = scratch.name
        elif memo.store_dir() is not None:
            chapters = [p for p in paths if "gdcourse.experiments" in p.read_text("utf-8")]
            if chapters:
                say("filling the store of experiment results (once per version of the code)…")
                memo.warm(chapters, out=sys.stderr)
        runs = {path: [] for path in paths}
        for round_ in range(repeats):
            for path in paths:
                which = f" ({round_ + 1}/{repeats})" if repeats > 1 else ""
                say(f"running {path.parent.name}/{path.name}{which}…")
                runs[path].append(time_notebook(path))
        rows = [summarize(runs[path]) for path in paths]
    finally:
        if cold:
            if saved is None:
                del os.environ["GDCOURSE_CACHE"]
            else:
                os.environ["GDCOURSE_CACHE"] = saved
            scratch.cleanup()
    return {"cold": cold, "repeats": repeats, "budget_s": BUDGET_SECONDS, "cpus": os.cpu_count(),
            "load": os.getloadavg(), "rows": rows}


def format_notebook_report(report: dict) -> str:
    repeats = report.get("repeats", 1)
    runs = "one run each" if repeats == 1 else f"median of {repeats} runs each"
    lines = [f"Run All from a fresh kernel ({'first run: empty store' if report['cold'] else 'store filled'}; {runs}; "
             f"{report['cpus']} CPUs, load {report['load'][0]:.1f} at the end); budget {report['budget_s']:.0f} s",
             "run s: kernel start to the last cell's reply; worst: the slowest run; +shutdown: with the kernel's exit",
             f"{'notebook':42} {'run s':>6} {'worst':>6} {'+shutdown':>10} {'kernel CPU s':>13} {'errors':>7}  "
             "slowest cell",
             ]
    for row in report["rows"]:
        flag = "" if row["run_s"] <= report["budget_s"] else "  over budget"
        lines.append(f"{row['notebook']:42} {row['run_s']:6.1f} {row['worst_run_s']:6.1f} {row['wall_s']:10.1f} "
                     f"{row['kernel_cpu_s']:13.1f} {row['errors']:7d}  "
                     f"{row['slowest_cell']} ({row['slowest_s']:.1f} s){flag}")
    return "\n".join(lines)
