"""How ``gdcourse bench`` measures: interleaved rounds of calibrated batches, and the
machine's state (BLAS threads and pools, other processes' CPU load) reported beside them."""

from __future__ import annotations

import gc
import os
import time

import numpy as np

__all__ = ["blas_threads", "blas_pools", "import_torch", "measure", "summary", "cpu_ticks",
           "other_cpu_load", "load_average"]


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


def import_torch(num_threads):
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


def summary(per_step_seconds, bound_median) -> dict:
    us = np.asarray(per_step_seconds) * 1e6
    q25, median, q75 = np.percentile(us, [25, 50, 75])
    return {
        "median_us": float(median), "q25_us": float(q25), "q75_us": float(q75),
        "iqr_us": float(q75 - q25), "vs_gemm": float(median / bound_median) if bound_median else 1.0,
        "rounds": len(us),
    }



# --- load from other processes ------------------------------------------------------

def cpu_ticks():
    """(busy ticks of all CPUs, this process's ticks, wall time), or None without /proc/stat."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    own = os.times()
    busy = sum(fields) - fields[3] - (fields[4] if len(fields) > 4 else 0)  # minus idle and iowait
    return busy, (own.user + own.system) * os.sysconf("SC_CLK_TCK"), time.perf_counter()


def other_cpu_load(before, after):
    """CPUs' worth of work done by other processes while we measured (0 on an idle machine)."""
    if before is None or after is None:
        return None
    seconds = after[2] - before[2]
    others = (after[0] - before[0]) - (after[1] - before[1])
    return round(max(others, 0) / os.sysconf("SC_CLK_TCK") / seconds, 2) if seconds > 0 else None


def load_average():
    """The 1-minute load average before the run (None where the OS has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None
