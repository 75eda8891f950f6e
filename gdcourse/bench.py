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
"""

from __future__ import annotations

import gc
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from itertools import pairwise

import numpy as np

from gdcourse import losses, nn
from gdcourse.atomic import atomic_write
from gdcourse.optim import SGD
from gdcourse.validate import as_rng, check_positive, check_positive_int

__all__ = [
    "MLPSpec", "SPECS", "Problem", "make_problem",
    "GemmBound", "GdcourseStep", "NumpyStep", "TorchStep",
    "blas_threads", "blas_pools", "measure", "run_benchmark", "format_report", "add_command",
]

LEARNING_RATE = 0.01


@dataclass(frozen=True)
class MLPSpec:
    """An MLP to time: layer widths ``sizes`` (input first), ``batch`` rows, its loss
    (``"cross_entropy"`` on ``sizes[-1]`` classes or ``"mse"``) and the DESIGN.md target
    for ``step time / GEMM-bound time``."""

    sizes: tuple[int, ...]
    batch: int
    loss: str
    target: float

    @property
    def name(self) -> str:
        return "-".join(map(str, self.sizes))

    @property
    def num_layers(self) -> int:
        return len(self.sizes) - 1


SPECS = (
    MLPSpec((784, 256, 256, 10), 128, "cross_entropy", 1.15),
    MLPSpec((64, 128, 10), 64, "cross_entropy", 1.6),  # the digits data set's size
    MLPSpec((2, 16, 16, 1), 32, "mse", 2.5),  # a toy regression
)


# --- the problem every contender solves ----------------------------------------------

@dataclass
class Problem:
    """One batch and one set of initial weights, shared by all contenders.

    ``x (batch, sizes[0])``; ``y`` int labels ``(batch,)`` for cross-entropy or
    targets ``(batch, 1)`` for MSE; ``weights[i] (sizes[i], sizes[i+1])`` and
    ``biases[i] (sizes[i+1],)`` in gdcourse's layout ``y = x @ W + b``.
    """

    spec: MLPSpec
    x: np.ndarray
    y: np.ndarray
    weights: list
    biases: list


def make_problem(spec: MLPSpec, dtype=np.float32, rng=0) -> Problem:
    """Random inputs, targets and He-normal weights (He et al., 2015) for ``spec``.

    Biases are small and non-zero so that a contender that forgot them would
    compute a different update (the equivalence test relies on it).
    """
    if spec.loss not in ("cross_entropy", "mse"):
        raise ValueError(f"spec.loss: expected 'cross_entropy' or 'mse', got {spec.loss!r}")
    rng = as_rng(rng)
    sizes, n = spec.sizes, spec.batch
    x = rng.standard_normal((n, sizes[0])).astype(dtype)
    if spec.loss == "cross_entropy":
        y = rng.integers(0, sizes[-1], size=n)
    else:
        if sizes[-1] != 1:
            raise ValueError(f"spec.sizes: an 'mse' MLP must end in 1 output, got {sizes[-1]}")
        y = rng.standard_normal((n, 1)).astype(dtype)
    weights = [
        (rng.standard_normal((a, b)) * np.sqrt(2.0 / a)).astype(dtype) for a, b in pairwise(sizes)
    ]
    biases = [(0.1 * rng.standard_normal(b)).astype(dtype) for b in sizes[1:]]
    return Problem(spec, x, y, weights, biases)


# --- contenders ----------------------------------------------------------------------
# Each is a callable doing one training step (returning the loss where there is one)
# with a ``reset()`` that puts the problem's initial weights back.

class GemmBound:
    """The matrix products of one training step and nothing else.

    ``products`` is the list of ``(a, b, out)`` triples run as
    ``np.dot(a, b, out=out)``, in the order a step runs them::

        forward,  layer i = 0..L-1:      z_i  = h_i @ W_i       (N, d_i) @ (d_i, d_i+1)
        backward, layer i = L-1..0:      dW_i = h_iᵀ @ δ_i      (d_i, N) @ (N, d_i+1)
                  and if i > 0:          dh_i = δ_i @ W_iᵀ      (N, d_i+1) @ (d_i+1, d_i)

    ``3L - 1`` products: 8 for three layers, 5 for two. The operands are
    preallocated, with the layouts the step uses (``hᵀ`` and ``Wᵀ`` are transposed
    views), and filled with the problem's values so no subnormal or NaN slows BLAS.
    ``np.dot`` rather than ``np.matmul``: for 2-D operands it is the cheaper call
    into the same BLAS routine (about 0.5 µs less per product on small ones), so
    a step that uses it cannot look faster than the bound.
    """

    def __init__(self, problem: Problem):
        spec, dtype = problem.spec, problem.x.dtype
        rng = np.random.default_rng(1)
        n = spec.batch
        self.weights = [w.copy() for w in problem.weights]
        self.inputs = [problem.x.copy()] + [
            rng.standard_normal((n, d)).astype(dtype) for d in spec.sizes[1:-1]
        ]
        self.deltas = [rng.standard_normal((n, d)).astype(dtype) for d in spec.sizes[1:]]
        self.outputs = [np.empty((n, d), dtype) for d in spec.sizes[1:]]
        self.weight_grads = [np.empty_like(w) for w in self.weights]
        self.input_grads = [None] + [np.empty((n, d), dtype) for d in spec.sizes[1:-1]]
        layers = range(spec.num_layers)
        self.products = [(self.inputs[i], self.weights[i], self.outputs[i]) for i in layers]
        for i in reversed(layers):
            self.products.append((self.inputs[i].T, self.deltas[i], self.weight_grads[i]))
            if i > 0:
                self.products.append((self.deltas[i], self.weights[i].T, self.input_grads[i]))

    def __call__(self):
        dot = np.dot
        for a, b, out in self.products:
            dot(a, b, out=out)

    def reset(self):
        """Nothing to restore: the bound never changes its weights."""


class GdcourseStep:
    """One training step with gdcourse, written as a learner writes it."""

    def __init__(self, problem: Problem, lr=LEARNING_RATE):
        spec, dtype = problem.spec, problem.x.dtype
        layers = []
        for i, (a, b) in enumerate(pairwise(spec.sizes)):
            layers.append(nn.Linear(a, b, dtype=dtype, rng=i))
            if i < spec.num_layers - 1:
                layers.append(nn.ReLU())
        self.model = nn.Sequential(*layers)
        self.linears = [layer for layer in layers if isinstance(layer, nn.Linear)]
        self.loss = losses.CrossEntropyLoss() if spec.loss == "cross_entropy" else losses.MSELoss()
        self.optimizer = SGD(self.model.parameters(), lr=lr)
        self.x, self.y, self._problem = problem.x, problem.y, problem
        self.reset()

    def __call__(self):
        pred = self.model(self.x)
        loss = self.loss.forward(pred, self.y)
        self.model.backward(self.loss.backward(), input_grad=False)
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss

    def reset(self):
        for layer, w, b in zip(self.linears, self._problem.weights, self._problem.biases, strict=True):
            layer.weight.value = w
            layer.bias.value = b


class NumpyStep:
    """The plain vectorized NumPy step: bias add, ReLU, softmax cross-entropy or MSE,
    backpropagation and ``W -= lr * dW``; nothing preallocated, nothing clever."""

    def __init__(self, problem: Problem, lr=LEARNING_RATE):
        self.lr = lr
        self.x, self.y, self._problem = problem.x, problem.y, problem
        self.cross_entropy = problem.spec.loss == "cross_entropy"
        self.reset()

    def __call__(self):
        Ws, bs, lr = self.weights, self.biases, self.lr
        hs = [self.x]
        for W, b in zip(Ws[:-1], bs[:-1], strict=True):
            hs.append(np.maximum(hs[-1] @ W + b, 0))
        out = hs[-1] @ Ws[-1] + bs[-1]
        loss, d = self._loss_and_grad(out)
        for i in reversed(range(len(Ws))):
            dW = hs[i].T @ d
            db = d.sum(axis=0)
            if i > 0:
                d = (d @ Ws[i].T) * (hs[i] > 0)
            Ws[i] -= lr * dW
            bs[i] -= lr * db
        return loss

    def _loss_and_grad(self, out):
        n = out.shape[0]
        if self.cross_entropy:
            rows = np.arange(n)
            z = out - out.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            loss = float(np.log(s).mean() - z[rows, self.y].mean())
            d = e / s
            d[rows, self.y] -= 1
            d /= n
            return loss, d
        diff = out - self.y
        return float((diff * diff).mean()), diff * (2 / diff.size)

    def reset(self):
        self.weights = [w.copy() for w in self._problem.weights]
        self.biases = [b.copy() for b in self._problem.biases]


class TorchStep:
    """The same step with ``torch.nn`` and ``torch.optim.SGD`` on the CPU.

    Reports the loss with ``loss.item()`` as the other steps return a float.
    ``torch.nn.Linear`` stores ``W`` as ``(out, in)``, so it gets our ``Wᵀ``.
    """

    def __init__(self, problem: Problem, lr=LEARNING_RATE):
        import torch

        self.torch = torch
        spec = problem.spec
        layers = []
        for i, (a, b) in enumerate(pairwise(spec.sizes)):
            layers.append(torch.nn.Linear(a, b, dtype=_torch_dtype(torch, problem.x.dtype)))
            if i < spec.num_layers - 1:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.linears = [layer for layer in layers if isinstance(layer, torch.nn.Linear)]
        if spec.loss == "cross_entropy":
            self.loss_fn = torch.nn.CrossEntropyLoss()
            self.y = torch.from_numpy(problem.y.astype(np.int64))
        else:
            self.loss_fn = torch.nn.MSELoss()
            self.y = torch.from_numpy(problem.y)
        self.x = torch.from_numpy(problem.x)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)
        self._problem = problem
        self.reset()

    def __call__(self):
        loss = self.loss_fn(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss.item()

    def reset(self):
        with self.torch.no_grad():
            for layer, w, b in zip(self.linears, self._problem.weights, self._problem.biases, strict=True):
                layer.weight.copy_(self.torch.from_numpy(w.T.copy()))
                layer.bias.copy_(self.torch.from_numpy(b))

    def weights(self):
        """The current weights in gdcourse's ``(in, out)`` layout, as NumPy arrays."""
        return [layer.weight.detach().numpy().T.copy() for layer in self.linears]


def _torch_dtype(torch, dtype):
    return {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[np.dtype(dtype)]


# --- environment ---------------------------------------------------------------------

def blas_threads() -> tuple[int, str]:
    """How many threads NumPy's BLAS uses, and which BLAS it is (via threadpoolctl)."""
    from threadpoolctl import threadpool_info

    blas = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    numpy_blas = [info for info in blas if "numpy" in info.get("filepath", "")] or blas
    if not numpy_blas:
        return os.cpu_count() or 1, "unknown"
    info = numpy_blas[0]
    return int(info["num_threads"]), f"{info.get('internal_api', '?')} {info.get('version') or ''}".strip()


def blas_pools() -> list[dict]:
    """Every BLAS thread pool loaded in this process: which package ships it and its threads.

    NumPy and SciPy wheels each bundle their own OpenBLAS; a step that calls both
    (``np.dot`` and ``scipy.linalg.blas``) runs two pools that can compete for the cores.
    """
    from threadpoolctl import threadpool_info

    pools = []
    for info in threadpool_info():
        if info.get("user_api") != "blas":
            continue
        path = info.get("filepath", "")
        owner = next((name for name in ("numpy", "scipy", "torch") if f"{name}.libs" in path
                      or f"/{name}/" in path), os.path.basename(path))
        pools.append({"package": owner, "blas": info.get("internal_api"),
                      "threads": int(info["num_threads"])})
    return pools


def _import_torch(num_threads):
    """``torch`` with ``num_threads`` intra-op threads, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(num_threads)
    return torch


# --- timing --------------------------------------------------------------------------

def _time_batch(step, reps: int, clock=time.perf_counter) -> float:
    """Seconds per step over ``reps`` back-to-back steps, garbage collector off (as timeit)."""
    step.reset()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = clock()
        for _ in range(reps):
            step()
        elapsed = clock() - start
    finally:
        if gc_was_enabled:
            gc.enable()
    return elapsed / reps


def _calibrate(step, batch_seconds: float, clock=time.perf_counter) -> int:
    """Steps per timed batch so that one batch lasts about ``batch_seconds``."""
    reps = 1
    while True:
        per_step = _time_batch(step, reps, clock)
        if per_step * reps >= batch_seconds / 4 or reps >= 1 << 20:
            return max(1, round(batch_seconds / per_step))
        reps *= 4


def measure(contenders: dict, rounds: int, batch_seconds: float, warmup_seconds: float,
            clock=time.perf_counter, budget_seconds=None) -> dict:
    """Time each contender (name -> step) in ``rounds`` interleaved rounds.

    Each contender is warmed up, then every round times one batch of each, in an
    order rotated from round to round, so slow drift (turbo, other load) and
    position effects fall on all alike. ``clock`` is ``time.perf_counter`` (wall time)
    or ``time.thread_time`` (CPU time of this thread: hardly affected by other
    processes, but valid only when all work runs on this thread, i.e. with one BLAS
    thread). After ``budget_seconds`` of wall time no new round starts once 5 are
    done: on a busy machine a calibrated batch can take many times longer.
    Returns name -> per-step seconds, one per completed round.
    """
    start = time.perf_counter()
    reps = {}
    for name, step in contenders.items():
        _time_batch(step, max(1, round(warmup_seconds / max(_time_batch(step, 1), 1e-7))))
        reps[name] = _calibrate(step, batch_seconds, clock)
    names = list(contenders)
    times = {name: [] for name in names}
    for r in range(rounds):
        if budget_seconds is not None and r >= 5 and time.perf_counter() - start > budget_seconds:
            break
        k = r % len(names)
        for name in names[k:] + names[:k]:
            times[name].append(_time_batch(contenders[name], reps[name], clock))
    return times


def _summary(per_step_seconds, bound_median) -> dict:
    us = np.asarray(per_step_seconds) * 1e6
    q25, median, q75 = np.percentile(us, [25, 50, 75])
    return {
        "median_us": float(median), "q25_us": float(q25), "q75_us": float(q75),
        "iqr_us": float(q75 - q25), "vs_gemm": float(median / bound_median) if bound_median else 1.0,
        "rounds": len(us),
    }


CONTENDER_NAMES = {
    "gemm": "GEMM bound", "gdcourse": "gdcourse", "numpy": "NumPy by hand", "torch": "PyTorch CPU",
}


def run_benchmark(specs=None, repeats=40, batch_seconds=0.04, warmup_seconds=0.2, use_torch=True,
                  threads=None, cpu_time=False, budget_seconds=15.0, dtype=np.float32, progress=None) -> dict:
    """Measure every spec (default :data:`SPECS`); returns a JSON-ready dict: the
    environment, then per spec each contender's summary and the verdicts.

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
        return _run_specs(specs, settings, use_torch, dtype, progress)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="blas"):
        return _run_specs(specs, settings, use_torch, dtype, progress)


def _run_specs(specs, settings, use_torch, dtype, progress) -> dict:
    load_before = _load_average()
    cpu_before = _cpu_ticks()
    threads, blas = blas_threads()
    torch = _import_torch(threads) if use_torch else None
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
        rows = {name: _summary(t, bound) for name, t in times.items()}
        results.append({"spec": asdict(spec), "name": spec.name, "contenders": rows, **_verdicts(spec, rows)})
    other_load = _other_cpu_load(cpu_before, _cpu_ticks())
    return {
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


def _cpu_ticks():
    """(busy ticks of all CPUs, this process's ticks, wall time), or None without /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    own = os.times()
    busy = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)  # minus idle and iowait
    return busy, (own.user + own.system) * os.sysconf("SC_CLK_TCK"), time.perf_counter()


def _other_cpu_load(before, after):
    """CPUs' worth of work done by other processes while we measured (0 on an idle machine)."""
    if before is None or after is None:
        return None
    seconds = after[2] - before[2]
    others = (after[0] - before[0]) - (after[1] - before[1])
    return round(max(others, 0) / os.sysconf("SC_CLK_TCK") / seconds, 2) if seconds > 0 else None


def _load_average():
    """The 1-minute load average before the run (None where the OS has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


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
    others = env.get("other_cpu_load")
    if others is not None and others > 0.1:
        effect = ("CPU time is less affected than wall time, but shared caches still are"
                  if env.get("clock") == "thread CPU time" else "that slows multi-threaded BLAS unevenly")
        lines.append(f"warning: other processes kept {others} CPUs busy during the run (load average "
                     f"{env.get('load_average_before')} before it); {effect}: rerun on an idle machine.")
    return "\n".join(lines)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# --- command line --------------------------------------------------------------------

def add_command(subparsers) -> None:
    """Register ``gdcourse bench``."""
    parser = subparsers.add_parser(
        "bench", help="time one training step against the GEMM bound, plain NumPy and PyTorch",
        description="Time one MLP training step (float32) with gdcourse, beside the GEMM-only bound, "
                    "a hand-written NumPy step and PyTorch CPU (if installed); see bench/README.md.",
    )
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed rounds per MLP (default 40; 5 with --quick)")
    parser.add_argument("--quick", action="store_true", help="a short run for smoke testing (~2 s)")
    parser.add_argument("--json", metavar="PATH", default=None, help="also save the results as JSON")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: as many as NumPy's BLAS uses)")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with this thread's CPU time, hardly affected by other processes "
                             "(needs --threads 1)")
    parser.set_defaults(run=run_command)


def run_command(args) -> int:
    quick = args.quick
    repeats = args.repeats if args.repeats is not None else (5 if quick else 40)
    try:
        report = run_benchmark(
            repeats=repeats, batch_seconds=0.002 if quick else 0.04, warmup_seconds=0.02 if quick else 0.2,
            budget_seconds=2.0 if quick else 15.0,
            use_torch=not args.no_torch, threads=args.threads, cpu_time=args.cpu_time,
            progress=lambda message: print(message, file=sys.stderr),
        )
    except ValueError as error:  # a bad option value, named in the message
        print(f"gdcourse bench: bad option: {error}", file=sys.stderr)
        return 2
    print(format_report(report))
    if args.json:
        atomic_write(args.json, json.dumps(report, indent=2) + "\n")
        print(f"\nresults saved to {args.json}")
    return 0
