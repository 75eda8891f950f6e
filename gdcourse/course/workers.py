"""The grading run's worker processes: a fresh one per submission, stopped at once on SIGTERM or Ctrl-C.

:func:`run_pool` grades tasks in a process pool (``forkserver``, one task per
worker process) and records each result as it arrives; :class:`StopOnSignals`
turns SIGTERM and SIGINT into :class:`Stopped` in the main thread, so the run's
``finally`` blocks stop the workers (their kernels die with them), remove the
run's temporary folder and write the results.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool

from gdcourse.course.results import SubmissionResult

__all__ = ["run_pool", "StopOnSignals", "Stopped"]


def _exit_when_gone(pid):
    """Block until process ``pid`` ends (a pidfd on Linux, polling elsewhere), then end this process."""
    import os
    import select

    try:
        select.select([os.pidfd_open(pid)], [], [])
    except (AttributeError, OSError):
        while True:
            time.sleep(1.0)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                continue
    os._exit(1)


def _worker_setup(main_pid):
    """In each worker: end when the grading run ends, even when it was killed; keep the memory private.

    A worker's parent is the multiprocessing fork server, which outlives a killed
    run as long as workers live; so the worker watches the run's process itself.
    Its kernel's launcher dies with it (``PR_SET_PDEATHSIG``) and takes the
    kernel's whole PID namespace along. A worker that is not "dumpable" cannot
    have its memory (which holds the hidden tests) read through ``/proc`` by a
    kernel that runs as the same user. Ctrl-C is the main process's to handle:
    it stops the workers itself (a worker interrupted mid-notebook would
    report a half-graded submission).
    """
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_gone, args=(main_pid,), daemon=True).start()
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0


def _pool(workers, preload):
    """A fresh worker process per submission, forked from a server that has imported ``preload``."""
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        context.set_forkserver_preload(preload)
    return ProcessPoolExecutor(max_workers=workers, mp_context=context, max_tasks_per_child=1,
                               initializer=_worker_setup, initargs=(os.getpid(),))


def _progress(total, enabled):
    from tqdm import tqdm

    return tqdm(total=total, desc="grading", unit="notebook", file=sys.stderr, disable=not enabled or None,
                dynamic_ncols=True)


class Stopped(BaseException):  # noqa: N818 - raised by a signal handler, like KeyboardInterrupt
    pass


class StopOnSignals:
    """Turn SIGTERM and SIGINT into :class:`Stopped` in the main thread while grading, so ``finally``
    blocks run (workers and kernels stopped, the run's temporary folder removed); restore handlers after."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self.signal_name = ""
        self.previous = {}
        self.armed = True

    def _handler(self, number, _frame):
        if not self.signal_name:
            self.signal_name = signal.Signals(number).name
            if self.armed:
                raise Stopped()

    def disarm(self):
        """From now on a signal is only noted (the results are being written: let them finish)."""
        self.armed = False

    def __enter__(self):
        import threading

        if threading.current_thread() is threading.main_thread():
            self.previous = {s: signal.signal(s, self._handler) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc):
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        return False


def run_pool(grade_one, tasks, options, workers, results, progress, preload):
    """Grade ``tasks`` with ``grade_one(task, options)`` in worker processes; record each result as it
    arrives (``results``: a :class:`gdcourse.course.gradebook.Results`)."""
    pending = list(tasks)
    with _progress(len(tasks), progress) as bar:
        for _attempt in range(2):  # a worker that dies breaks the pool: start a new one once
            if not pending:
                return
            broken = []
            pool = _pool(min(workers, len(pending)), preload)
            try:
                futures = {pool.submit(grade_one, task, options): task for task in pending}
                for future in as_completed(futures):
                    task = futures[future]
                    try:
                        result = future.result()
                    except BrokenProcessPool:
                        broken.append(task)
                        continue
                    except Exception as err:  # noqa: BLE001 - a grader bug on one notebook must not stop the run
                        result = SubmissionResult(
                            task.student, task.notebook, "error",
                            f"the grader failed on this notebook: {type(err).__name__}: {err}")
                    results.record(result)
                    if result.status == "error":
                        results.warnings.append(f"{result.student}/{result.notebook}: {result.error}")
                    bar.update()
            except BaseException:
                _stop_pool(pool)
                raise
            pool.shutdown(wait=True)
            pending = broken
        for task in pending:
            results.record(SubmissionResult(task.student, task.notebook, "error",
                                            "the grading worker crashed twice on this notebook"))
            bar.update()


def _stop_pool(pool):
    """Stop a pool now: cancel what is queued and kill the workers (their kernels die with them) instead
    of waiting for the submissions they are grading."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.kill()
        except (OSError, AttributeError):
            pass
    for process in processes:
        process.join(timeout=10)
