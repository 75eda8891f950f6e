"""Per-submission limits: CPU, memory and processes for the whole process tree of one kernel.

A limit that counts per process (``RLIMIT_AS``, ``RLIMIT_CPU``) does not bound a
submission: four children may each hold the whole ``--memory``, sixteen busy
children take every core. A *control group* counts the whole tree, so each
submission gets one (created by the grader's worker, joined by the sandbox
launcher before it starts anything, killed and removed when the submission's
kernel stops):

* cgroup v2 (``/sys/fs/cgroup/cgroup.controllers`` lists ``memory cpu pids``):
  ``memory.max`` and ``memory.swap.max = 0``, ``cpu.max`` (one core),
  ``pids.max``; ``cgroup.kill`` ends the tree;
* cgroup v1 (separate ``memory``, ``cpu`` and ``pids`` hierarchies, as in many
  containers): ``memory.limit_in_bytes`` (and ``memsw``), ``cpu.cfs_quota_us``,
  ``pids.max``; every process listed in ``cgroup.procs`` is killed;
* neither writable (not root, no delegated cgroup, macOS): :func:`detect`
  returns ``None`` and the grader falls back to per-process limits
  (``RLIMIT_AS``, ``RLIMIT_CPU``, ``RLIMIT_NPROC`` for the kernel's own user
  when root), reported as a warning in the run's summary.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CgroupSupport", "SubmissionCgroup", "detect", "describe"]

ROOT = Path("/sys/fs/cgroup")
CPU_PERIOD_US = 100_000
V1_CONTROLLERS = ("memory", "cpu", "pids")


@dataclass(frozen=True)
class CgroupSupport:
    """Where per-submission cgroups are made: ``version`` 1 or 2 and the parent folder per controller."""

    version: int
    parents: dict[str, str]


def _own_path(controller) -> str:
    """This process's cgroup path in ``controller``'s hierarchy ("" for the v2 unified one)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return "/"
    for line in lines:
        _, names, path = line.split(":", 2)
        if (controller == "" and names == "") or controller in names.split(","):
            return path
    return "/"


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


def _v2() -> CgroupSupport | None:
    controllers = ROOT / "cgroup.controllers"
    if not controllers.exists():
        return None
    parent = ROOT / _own_path("").lstrip("/")
    try:
        available = set((parent / "cgroup.controllers").read_text().split())
        enabled = set((parent / "cgroup.subtree_control").read_text().split())
    except OSError:
        return None
    if not {"memory", "cpu", "pids"} <= available or not _writable_dir(parent):
        return None
    if not {"memory", "cpu", "pids"} <= enabled:
        try:  # only possible in a cgroup that holds no process itself (a delegated subtree)
            (parent / "cgroup.subtree_control").write_text("+memory +cpu +pids")
        except OSError:
            return None
    return CgroupSupport(2, {"": str(parent)})


def _v1() -> CgroupSupport | None:
    parents = {}
    for controller in V1_CONTROLLERS:
        parent = ROOT / controller / _own_path(controller).lstrip("/")
        if not _writable_dir(parent) or not (parent / "cgroup.procs").exists():
            return None
        parents[controller] = str(parent)
    return CgroupSupport(1, parents)


def detect() -> CgroupSupport | None:
    """The cgroup support usable for per-submission limits here, or ``None``."""
    if not sys.platform.startswith("linux"):
        return None
    return _v2() or _v1()


def describe(support: CgroupSupport | None) -> str:
    if support is None:
        return ("per process only (no writable cgroup): RLIMIT_AS per process, RLIMIT_CPU, RLIMIT_NPROC "
                "as root; a submission's children can together use more memory and CPU than one process")
    return f"per submission (cgroup v{support.version}): memory, one CPU core, processes"


def _write(path: Path, text: str):
    with open(path, "w", encoding="ascii") as f:
        f.write(text)


class SubmissionCgroup:
    """One cgroup (one folder per controller) for one kernel's whole process tree.

    ``memory_bytes`` for the tree (tmpfs pages the kernel writes count too),
    ``cpus`` cores at most, ``max_processes``. :meth:`procs_files` are what the
    launcher writes its PID to; :meth:`destroy` kills every process and removes
    the folders.
    """

    def __init__(self, support: CgroupSupport, name, *, memory_bytes=None, cpus=1.0, max_processes=256):
        self.support = support
        self.folders = [Path(parent) / name for parent in support.parents.values()]
        for folder in self.folders:
            folder.mkdir()
        try:
            self._configure(memory_bytes, cpus, max_processes)
        except OSError:
            self.destroy()
            raise

    def _file(self, controller, name) -> Path:
        if self.support.version == 2:
            return self.folders[0] / name
        return self.folders[list(self.support.parents).index(controller)] / name

    def _configure(self, memory_bytes, cpus, max_processes):
        quota = int(cpus * CPU_PERIOD_US)
        if self.support.version == 2:
            _write(self._file("", "cpu.max"), f"{quota} {CPU_PERIOD_US}")
            _write(self._file("", "pids.max"), str(max_processes))
            if memory_bytes:
                _write(self._file("", "memory.max"), str(memory_bytes))
                if self._file("", "memory.swap.max").exists():
                    _write(self._file("", "memory.swap.max"), "0")
            return
        _write(self._file("cpu", "cpu.cfs_period_us"), str(CPU_PERIOD_US))
        _write(self._file("cpu", "cpu.cfs_quota_us"), str(quota))
        _write(self._file("pids", "pids.max"), str(max_processes))
        if memory_bytes:
            _write(self._file("memory", "memory.limit_in_bytes"), str(memory_bytes))
            swap = self._file("memory", "memory.memsw.limit_in_bytes")
            if swap.exists():
                _write(swap, str(memory_bytes))

    def procs_files(self) -> list[str]:
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def limits(self) -> dict[str, str]:
        """The limits as the kernel's cgroup files say them (for tests and reports)."""
        names = ({"cpu": "cpu.max", "pids": "pids.max", "memory": "memory.max"} if self.support.version == 2
                 else {"cpu": "cpu.cfs_quota_us", "pids": "pids.max", "memory": "memory.limit_in_bytes"})
        controller = (lambda c: "" if self.support.version == 2 else c)
        return {k: self._file(controller(k), v).read_text().strip() for k, v in names.items()}

    def peak_memory(self) -> int:
        """The most memory the tree held at once, in bytes."""
        name = "memory.peak" if self.support.version == 2 else "memory.max_usage_in_bytes"
        return int(self._file("" if self.support.version == 2 else "memory", name).read_text())

    def pids(self) -> set[int]:
        found = set()
        for procs in self.procs_files():
            try:
                found |= {int(p) for p in Path(procs).read_text().split()}
            except OSError:
                continue
        return found

    def kill(self, timeout=5.0):
        """SIGKILL every process of the tree (``cgroup.kill`` where the kernel has it)."""
        kill_file = self.folders[0] / "cgroup.kill"
        if self.support.version == 2 and kill_file.exists():
            try:
                _write(kill_file, "1")
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:  # a forking tree: kill again until the list stays empty
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def destroy(self):
        self.kill()
        for folder in self.folders:
            for _ in range(50):  # rmdir fails while a killed process is still being reaped
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
