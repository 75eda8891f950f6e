"""How long "Restart kernel and run all" takes for every notebook: ``gdcourse bench --notebooks``.

Each notebook runs top to bottom in a fresh kernel (nbclient), as the learner's "Run All" does,
kernel start included. Reported per notebook: the wall time, the CPU time the kernel used (its
process is reaped by this one, so ``getrusage(RUSAGE_CHILDREN)`` counts it; on a busy machine it
is the steadier figure) and the slowest cell.

By default the store of experiment results (:mod:`gdcourse.memo`) is filled first, as ``make lab``
does, so the figures are those of a learner's runs. ``cold=True`` times the first run ever instead:
an empty temporary store, every multi-seed study computed.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

__all__ = ["time_notebook", "run_notebook_benchmark", "format_notebook_report"]

COURSE_DIR = Path(__file__).resolve().parent.parent
BUDGET_SECONDS = 10.0


def _cell_seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    if "iopub.execute_input" not in timing or "shell.execute_reply" not in timing:
        return 0.0
    start = datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
    end = datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    return (end - start).total_seconds()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_notebook(path: Path, timeout: int = 600) -> dict:
    """Run ``path`` in a fresh kernel; its wall and kernel CPU seconds, error count and slowest cell."""
    import nbformat

    from gdcourse.memo import headless_client

    notebook = nbformat.read(path, as_version=4)
    client = headless_client(notebook, path.parent, timeout, record_timing=True)
    cpu, start = _children_cpu(), time.perf_counter()
    client.execute()
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    code = [c for c in notebook.cells if c.cell_type == "code"]
    errors = sum(o.get("output_type") == "error" for c in code for o in c.get("outputs", []))
    slowest = max(code, key=_cell_seconds, default=None)
    return {"notebook": f"{path.parent.name}/{path.name}", "wall_s": wall, "kernel_cpu_s": cpu, "errors": errors,
            "slowest_cell": slowest.get("id", "?") if slowest else "",
            "slowest_s": _cell_seconds(slowest) if slowest else 0.0}


def default_notebooks() -> list[Path]:
    return sorted((COURSE_DIR / "solutions").glob("[0-9][0-9]_*.ipynb")) + \
        sorted((COURSE_DIR / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def run_notebook_benchmark(paths=None, *, cold: bool = False, progress=None) -> dict:
    """Time every notebook of ``paths`` (default: solutions/ and notebooks/); see the module docstring."""
    from gdcourse import memo

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
        rows = []
        for path in paths:
            say(f"running {path.parent.name}/{path.name}…")
            rows.append(time_notebook(path))
    finally:
        if cold:
            if saved is None:
                del os.environ["GDCOURSE_CACHE"]
            else:
                os.environ["GDCOURSE_CACHE"] = saved
            scratch.cleanup()
    return {"cold": cold, "budget_s": BUDGET_SECONDS, "cpus": os.cpu_count(), "load": os.getloadavg(), "rows": rows}


def format_notebook_report(report: dict) -> str:
    lines = [f"Run All from a fresh kernel ({'first run: empty store' if report['cold'] else 'store filled'}; "
             f"{report['cpus']} CPUs, load {report['load'][0]:.1f} at the end); budget {report['budget_s']:.0f} s",
             f"{'notebook':42} {'wall s':>7} {'kernel CPU s':>13} {'errors':>7}  slowest cell",
             ]
    for row in report["rows"]:
        flag = "" if row["wall_s"] <= report["budget_s"] else "  over budget"
        lines.append(f"{row['notebook']:42} {row['wall_s']:7.1f} {row['kernel_cpu_s']:13.1f} {row['errors']:7d}  "
                     f"{row['slowest_cell']} ({row['slowest_s']:.1f} s){flag}")
    return "\n".join(lines)
