"""``gdcourse bench``: how close one training step comes to the cost of its matrix products.

For each MLP in :data:`SPECS` one training step (forward, loss, backward, SGD
update, zero_grad) is timed, in float32, for these contenders, interleaved in
rounds within one process:

* ``GEMM bound``: only the matrix products the step needs, on preallocated
  operands (``np.dot(..., out=...)``): per layer ``h @ W`` forward and
  ``hᵀ @ d`` for the weight gradient, plus ``d @ Wᵀ`` for every layer but the
  first (whose input gradient training never needs). No step can be faster
  than this with the same BLAS, so the step's cost is reported as a multiple of it.
* ``gdcourse``: ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU``, a loss from
  ``gdcourse.losses`` and ``optim.SGD``, used as a learner would.
* ``NumPy by hand``: the plain vectorized step a competent person writes in NumPy.
* ``PyTorch CPU``: ``torch.nn`` and ``torch.optim.SGD`` with the same number of
  threads as NumPy's BLAS, when ``import torch`` works (it is not a dependency).

Every contender starts each timed batch from the same weights, so all of them do
the same arithmetic on the same values. ``DESIGN.md`` sets the targets: the
gdcourse step within 1.15x / 1.6x / 2.5x of the GEMM bound (large / digits /
toy MLP) and faster than PyTorch. See ``bench/README.md`` for the method.

The pieces: :mod:`gdcourse.bench_contenders` (what is timed),
:mod:`gdcourse.bench_timing` (how it is timed) and this module (the run, the
report and the command).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import asdict

import numpy as np

from gdcourse.atomic import atomic_write
from gdcourse.bench_contenders import (
    LEARNING_RATE,
    SPECS,
    UPDATE_RULES,
    GdcourseStep,
    GemmBound,
    MLPSpec,
    NumpyStep,
    OptimizerStep,
    Problem,
    TorchStep,
    make_problem,
)
from gdcourse.bench_timing import (
    blas_pools,
    blas_threads,
    cpu_ticks,
    import_torch,
    load_average,
    measure,
    other_cpu_load,
    summary,
)
from gdcourse.validate import check_positive, check_positive_int

__all__ = [
    "MLPSpec", "SPECS", "Problem", "make_problem", "LEARNING_RATE",
    "GemmBound", "GdcourseStep", "NumpyStep", "TorchStep", "OptimizerStep",
    "blas_threads", "blas_pools", "measure", "run_benchmark", "format_report", "add_command",
]


# --- running it ----------------------------------------------------------------------

CONTENDER_NAMES = {
    "gemm": "GEMM bound", "gdcourse": "gdcourse", "numpy": "NumPy by hand", "torch": "PyTorch CPU",
}


def run_benchmark(specs=None, repeats=40, batch_seconds=0.04, warmup_seconds=0.2, use_torch=True,
                  threads=None, cpu_time=False, budget_seconds=15.0, dtype=np.float32, progress=None,
                  optimizers=False) -> dict:
    """Measure every spec (default :data:`SPECS`); returns a JSON-ready dict: the
    environment, then per spec each contender's summary and the verdicts.

    ``optimizers=True`` adds ``"update_rules"``: every rule of :data:`UPDATE_RULES`
    timed alone on the parameters of the first spec's MLP.

    ``threads`` limits every BLAS pool (and PyTorch) to that many threads; by
    default PyTorch gets as many as NumPy's BLAS uses. ``cpu_time=True`` times
    with this thread's CPU time instead of wall time, which other processes
    hardly inflate; it needs ``threads=1`` so that all the work runs on this thread.
    ``budget_seconds`` caps the wall time of one MLP's rounds (see :func:`measure`).
    """
    specs = SPECS if specs is None else specs
    repeats = check_positive_int(repeats, "repeats")
    batch_seconds = check_positive(batch_seconds, "batch_seconds")
    if threads is not None:
        threads = check_positive_int(threads, "threads")
    if cpu_time and threads != 1:
        raise ValueError(f"cpu_time: expected threads=1 (CPU time misses other threads' work), got {threads}")
    settings = dict(rounds=repeats, batch_seconds=batch_seconds, warmup_seconds=warmup_seconds,
                    clock=time.thread_time if cpu_time else time.perf_counter, budget_seconds=budget_seconds)
    if threads is None:
        return _run_specs(specs, settings, use_torch, dtype, progress, optimizers)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="blas"):
        return _run_specs(specs, settings, use_torch, dtype, progress, optimizers)


def _run_specs(specs, settings, use_torch, dtype, progress, optimizers=False) -> dict:
    load_before = load_average()
    cpu_before = cpu_ticks()
    threads, blas = blas_threads()
    torch = import_torch(threads) if use_torch else None
    results = []
    for spec in specs:
        if progress:
            progress(f"timing {spec.name}, batch {spec.batch} ...")
        problem = make_problem(spec, dtype=dtype, rng=0)
        contenders = {
            "gemm": GemmBound(problem), "gdcourse": GdcourseStep(problem), "numpy": NumpyStep(problem),
        }
        if torch is not None:
            contenders["torch"] = TorchStep(problem)
        times = measure(contenders, **settings)
        bound = float(np.median(times["gemm"]) * 1e6)
        rows = {name: summary(t, bound) for name, t in times.items()}
        results.append({"spec": asdict(spec), "name": spec.name, "contenders": rows, **_verdicts(spec, rows)})
    rules = _time_update_rules(specs[0], settings, dtype, progress) if optimizers else None
    other_load = other_cpu_load(cpu_before, cpu_ticks())
    report = {
        "environment": {
            "python": platform.python_version(), "numpy": np.__version__, "blas": blas,
            "blas_threads": threads, "blas_pools": blas_pools(), "cpu_count": os.cpu_count(),
            "machine": platform.machine(),
            "torch": getattr(torch, "__version__", None),
            "torch_threads": torch.get_num_threads() if torch is not None else None,
            "dtype": np.dtype(dtype).name, "repeats": settings["rounds"],
            "batch_seconds": settings["batch_seconds"],
            "clock": "thread CPU time" if settings["clock"] is time.thread_time else "wall time",
            "learning_rate": LEARNING_RATE, "load_average_before": load_before,
            "other_cpu_load": other_load,
        },
        "results": results,
    }
    if rules is not None:
        report["update_rules"] = rules
    return report


def _time_update_rules(spec, settings, dtype, progress) -> dict:
    """One ``step()`` of each rule in :data:`UPDATE_RULES` on the packed parameters of ``spec``'s MLP."""
    if progress:
        progress(f"timing the update rules on the parameters of {spec.name} ...")
    problem = make_problem(spec, dtype=dtype, rng=0)
    steps = {name: OptimizerStep(problem, make) for name, make in UPDATE_RULES.items()}
    times = measure(steps, **settings)
    sgd = float(np.median(times["SGD"]) * 1e6)
    rows = {}
    for name, t in times.items():
        row = summary(t, sgd)
        row["vs_sgd"] = row.pop("vs_gemm")
        rows[name] = row
    entries = steps["SGD"].model.num_parameters()
    return {"name": spec.name, "entries": entries, "rules": rows}



def _run_widgets_command(args) -> int:
    from gdcourse import bench_widgets  # matplotlib and ipywidgets only when asked for

    return _report(lambda progress: bench_widgets.run_widget_benchmark(
        names=args.only, rounds=1 if args.quick else 2, progress=progress), bench_widgets.format_widget_report, args)


def _run_notebooks_command(args) -> int:
    from gdcourse import bench_notebooks  # nbclient only when asked for

    return _report(lambda progress: bench_notebooks.run_notebook_benchmark(
        args.notebooks, cold=args.cold, repeats=1 if args.repeats is None else args.repeats, progress=progress),
        bench_notebooks.format_notebook_report, args)


def _report(run, format_report, args) -> int:
    """Run a benchmark (progress to stderr), print its report and save it with ``--json``; 2 on a bad option."""
    try:
        report = run(lambda message: print(message, file=sys.stderr))
    except ValueError as error:  # a bad option value, named in the message
        print(f"gdcourse bench: bad option: {error}", file=sys.stderr)
        return 2
    print(format_report(report))
    if args.json:
        atomic_write(args.json, json.dumps(report, indent=2) + "\n")
        print(f"\nresults saved to {args.json}")
    return 0


def _verdicts(spec, rows) -> dict:
    ratio = rows["gdcourse"]["vs_gemm"]
    out = {"target": spec.target, "ratio": ratio, "ratio_pass": ratio <= spec.target}
    if "torch" in rows:
        vs_torch = rows["gdcourse"]["median_us"] / rows["torch"]["median_us"]
        out.update(vs_torch=vs_torch, torch_pass=vs_torch < 1.0)
    return out


# --- report --------------------------------------------------------------------------

def format_report(report: dict) -> str:
    """The results as plain-text tables: per contender, then the targets."""
    env = report["environment"]
    torch_note = (f"torch {env['torch']} ({env['torch_threads']} threads)" if env["torch"]
                  else "torch not installed")
    lines = [
        f"One training step (forward, backward, SGD update, zero_grad), {env['dtype']}, "
        f"per step: median over up to {env['repeats']} rounds ({env.get('clock', 'wall time')}).",
        f"numpy {env['numpy']} ({env['blas']}, {env['blas_threads']} BLAS threads), {torch_note}, "
        f"{env['cpu_count']} CPUs, Python {env['python']}",
        "BLAS thread pools: "
        + ", ".join(f"{p['package']} {p['blas']} {p['threads']}" for p in env.get("blas_pools", [])),
        "",
        f"{'MLP':<16}{'batch':>6}  {'contender':<15}{'median µs':>10}{'IQR µs':>9}{'× GEMM':>8}"
        f"{'rounds':>8}",
    ]
    for res in report["results"]:
        first = True
        for key, row in res["contenders"].items():
            mlp = f"{res['name']:<16}{res['spec']['batch']:>6}" if first else " " * 22
            lines.append(f"{mlp}  {CONTENDER_NAMES[key]:<15}{row['median_us']:>10.1f}"
                         f"{row['iqr_us']:>9.1f}{row['vs_gemm']:>8.2f}{row.get('rounds', ''):>8}")
            first = False
    lines += ["", "Targets (DESIGN.md): gdcourse step / GEMM bound, and faster than PyTorch CPU", "",
              f"{'MLP':<16}{'batch':>6}{'× GEMM':>9}{'target':>9}{'':>6}{'÷ torch':>10}{'':>6}"]
    for res in report["results"]:
        torch_cols = (f"{res['vs_torch']:>10.2f}{_verdict(res['torch_pass']):>6}" if "vs_torch" in res
                      else f"{'n/a':>10}{'':>6}")
        lines.append(f"{res['name']:<16}{res['spec']['batch']:>6}{res['ratio']:>9.2f}"
                     f"{'≤ ' + format(res['target'], '.2f'):>9}{_verdict(res['ratio_pass']):>6}"
                     f"{torch_cols}")
    lines.append("(÷ torch: gdcourse time / PyTorch time; below 1 is faster.)")
    if "update_rules" in report:
        lines += _update_rules_table(report["update_rules"])
    others = env.get("other_cpu_load")
    if others is not None and others > 0.1:
        effect = ("CPU time is less affected than wall time, but shared caches still are"
                  if env.get("clock") == "thread CPU time" else "that slows multi-threaded BLAS unevenly")
        lines.append(f"warning: other processes kept {others} CPUs busy during the run (load average "
                     f"{env.get('load_average_before')} before it); {effect}: rerun on an idle machine.")
    return "\n".join(lines)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _update_rules_table(rules) -> list[str]:
    lines = ["", f"Update rules alone: one optimizer.step() on the {rules['entries']:,} parameters of "
             f"{rules['name']}", "", f"{'rule':<22}{'median µs':>10}{'IQR µs':>9}{'× SGD':>8}{'rounds':>8}"]
    for name, row in rules["rules"].items():
        lines.append(f"{name:<22}{row['median_us']:>10.1f}{row['iqr_us']:>9.1f}{row['vs_sgd']:>8.2f}"
                     f"{row['rounds']:>8}")
    return lines


# --- command line --------------------------------------------------------------------

def add_command(subparsers) -> None:
    """Register ``gdcourse bench``."""
    parser = subparsers.add_parser(
        "bench", help="time one training step against the GEMM bound, plain NumPy and PyTorch",
        description="Time one MLP training step (float32) with gdcourse, beside the GEMM-only bound, "
                    "a hand-written NumPy step and PyTorch CPU (if installed); see bench/README.md.",
    )
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed rounds per MLP (default 40; 5 with --quick); with --notebooks: runs of "
                             "each notebook, reported as median and worst (default 1)")
    parser.add_argument("--quick", action="store_true", help="a short run for smoke testing (~2 s)")
    parser.add_argument("--json", metavar="PATH", default=None, help="also save the results as JSON")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: as many as NumPy's BLAS uses)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with this thread's CPU time, hardly affected by other processes "
                             "(needs --threads 1)")
    parser.add_argument("--optimizers", action="store_true",
                        help="also time each update rule alone on the large MLP's parameters (~15 s more)")
    parser.add_argument("--widgets", action="store_true",
                        help="instead, time every explorer's update after a control change "
                             "(median and worst, ms; see gdcourse.bench_widgets)")
    parser.add_argument("--notebooks", nargs="*", metavar="PATH", default=None,
                        help="instead, time Run All from a fresh kernel for these notebooks (default: every "
                             "notebook in solutions/ and notebooks/; see gdcourse.bench_notebooks)")
    parser.add_argument("--cold", action="store_true",
                        help="with --notebooks: time the first run ever (an empty store of experiment results)")
    parser.add_argument("--only", nargs="+", metavar="NAME", default=None,
                        help="with --widgets: only these explorers (e.g. gd.lr_explorer_1d)")
    parser.set_defaults(run=run_command)


def run_command(args) -> int:
    if args.notebooks is not None:
        return _run_notebooks_command(args)
    if args.cold:
        print("gdcourse bench: --cold: only with --notebooks", file=sys.stderr)
        return 2
    if args.widgets:
        return _run_widgets_command(args)
    quick = args.quick
    repeats = args.repeats if args.repeats is not None else (5 if quick else 40)
    try:
        report = run_benchmark(
            repeats=repeats, batch_seconds=0.002 if quick else 0.04, warmup_seconds=0.02 if quick else 0.2,
            budget_seconds=2.0 if quick else 15.0,
            use_torch=not args.no_torch, threads=args.threads, cpu_time=args.cpu_time,
            progress=lambda message: print(message, file=sys.stderr), optimizers=args.optimizers,
        )
    except ValueError as error:  # a bad option value, named in the message
        print(f"gdcourse bench: bad option: {error}", file=sys.stderr)
        return 2
    print(format_report(report))
    if args.json:
        atomic_write(args.json, json.dumps(report, indent=2) + "\n")
        print(f"\nresults saved to {args.json}")
    return 0

