"""Start an untrusted kernel: per-submission limits, a clean environment and, on Linux, an allow-list sandbox.

The grader never runs a student's code in its own process. It starts a kernel
through this module's launcher (``python -m gdcourse.course.sandbox CONFIG``),
which, before it ``exec``s ``ipykernel``:

* joins the submission's control group when the grader made one
  (:mod:`gdcourse.course.limits`: memory, one CPU core and a process count for
  the whole tree), and sets per-process limits in any case: address space
  (``--memory``), CPU seconds, largest file, no core dumps; the launcher dies
  with the grader that started it (``PR_SET_PDEATHSIG``);
* replaces the environment with a fixed, minimal one (no variable of the
  grader's environment is passed on);
* when Linux namespaces are available (root, or unprivileged user namespaces),
  isolates the kernel in new mount, PID, network, IPC and UTS namespaces:

  - its file system is an *allow-list* built from an empty ``tmpfs``
    (:mod:`gdcourse.course.rootfs`): the Python environment, the package and
    the system libraries read-only, its socket folder, a private ``/proc`` and
    a scratch ``tmpfs`` of ``--scratch`` MB (home, working directory,
    ``/tmp``, ``/dev/shm``): nothing else of the host exists for it, socket
    files of host services included;
  - there is no network (only an unconfigured loopback), so nothing leaves;
  - PID 1 of the namespace is the launcher itself, a minimal ``init`` that
    the kernel cannot signal, trace or outlive: it reaps orphans, and when the
    kernel ends, or the grader kills the launcher, it exits and the kernel
    takes every process of the namespace with it (``setsid``, a cleared
    parent-death signal or a double fork change nothing);
  - the kernel runs without capabilities (when the grader is root: as a user
    of its own, with at most 256 processes), so it cannot undo any of this.

:func:`probe` tells whether isolation works on this machine; the grader reports
it and tests that need it skip with the reason when it does not.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gdcourse.course.rootfs import (
    INNER_HOME,
    INNER_TMP,
    INNER_WORK,
    SandboxError,
    build_root,
    check,
    libc,
)

__all__ = ["SandboxConfig", "probe", "kernel_environment", "default_hidden", "default_exposed",
           "KERNEL_UID_BASE", "interpreter", "launcher_environment", "SandboxError", "INNER_HOME", "INNER_WORK"]

KERNEL_UID_BASE = 1_000_000_000
"""As root, each isolated kernel runs as its own user, this plus the launcher's PID (no account needed)."""
MAX_PROCESSES = 256
DEFAULT_SCRATCH_BYTES = 64 * 2**20

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38


def interpreter() -> str:
    """This Python's executable with its folders resolved (a symlinked ``.venv`` included) but not the file
    itself: a virtualenv's ``bin/python`` is a symlink whose own path is what makes it the virtualenv's."""
    path = Path(sys.executable)
    return str(path.parent.resolve() / path.name)


@dataclass
class SandboxConfig:
    """What the launcher needs; written as JSON to a file only the grader can see.

    ``work_dir`` is the kernel's working directory (inside the sandbox when
    ``isolate``); ``sockets_dir`` the host folder of its Jupyter sockets;
    ``root_dir`` an empty host folder the new root is mounted on;
    ``cgroup_procs`` the ``cgroup.procs`` files the launcher joins first.
    """

    work_dir: str
    argv: list[str]
    env: dict[str, str]
    parent_pid: int
    memory_bytes: int | None = None
    file_bytes: int | None = 64 * 2**20
    cpu_seconds: int | None = None
    isolate: bool = False
    exposed: list[str] = field(default_factory=list)
    sockets_dir: str = ""
    root_dir: str = ""
    scratch_bytes: int = DEFAULT_SCRATCH_BYTES
    seeds: list[list[str]] = field(default_factory=list)
    cgroup_procs: list[str] = field(default_factory=list)

    def write(self, path) -> Path:
        path = Path(path)
        # Not atomic_write: a scratch file in a fresh private folder, read only by the launcher started next.
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")
        return path

    def command(self, path) -> list[str]:
        """The command that starts the launcher with the config at ``path``."""
        return [interpreter(), "-m", "gdcourse.course.sandbox", str(path)]


# ---------------------------------------------------------------- what the grader prepares

def kernel_environment(home, tmp=None) -> dict[str, str]:
    """The whole environment of a grading kernel: nothing from the grader's, nothing secret.

    ``home`` is the kernel's own writable folder (home, caches), ``tmp`` its
    temporary folder (default: ``home``). ``PYTHONPATH`` names the folder that
    holds the grader's own ``gdcourse``, so the kernel runs the same code.
    """
    import gdcourse

    work = str(home)
    bin_dirs = [str(Path(interpreter()).parent), "/usr/local/bin", "/usr/bin", "/bin"]
    return {
        "PATH": os.pathsep.join(dict.fromkeys(bin_dirs)),
        "HOME": work, "TMPDIR": str(tmp or home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "PYTHONPATH": str(Path(gdcourse.__file__).resolve().parent.parent),
        "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
        "MPLCONFIGDIR": os.path.join(work, ".matplotlib"), "IPYTHONDIR": os.path.join(work, ".ipython"),
        "JUPYTER_CONFIG_DIR": os.path.join(work, ".jupyter"),
        "JUPYTER_DATA_DIR": os.path.join(work, ".jupyter"),
        "JUPYTER_RUNTIME_DIR": os.path.join(work, ".jupyter"), "JUPYTER_PLATFORM_DIRS": "1",
        # One BLAS thread per kernel: parallel grading stays fair and the address space small.
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # Each submission runs once: storing its studies (gdcourse.memo) would only fill its scratch space.
        "GDCOURSE_CACHE": "off",
    }


def launcher_environment() -> dict[str, str]:
    """The launcher's environment: a path, a locale, and where the grader's own ``gdcourse`` is."""
    import gdcourse

    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
            "PYTHONPATH": str(Path(gdcourse.__file__).resolve().parent.parent)}


def _source_checkout(package_dir: Path) -> Path | None:
    """The folder holding the package when it is a source checkout (an editable install), else None."""
    parent = package_dir.parent
    if any((parent / marker).exists() for marker in ("solutions", "pyproject.toml", ".git")):
        return parent
    return None


def default_hidden(course_root, submissions, results, runs_dir) -> list[str]:
    """Paths a grading kernel must never see (the allow-list shows none of them; the grader checks that no
    exposed path lies inside one): course, checkout, submissions, results, home, grader temp."""
    import gdcourse

    package_dir = Path(gdcourse.__file__).resolve().parent
    paths = [course_root, _source_checkout(package_dir), submissions, results, runs_dir, Path.home()]
    if os.getuid() == 0:
        paths.append(Path("/root"))
    return sorted({str(Path(p).resolve()) for p in paths if p is not None and Path(p).exists()})


def default_exposed() -> list[str]:
    """The only host paths an isolated kernel sees (read-only), besides the system libraries: the Python
    environment and the package."""
    import gdcourse

    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, Path(interpreter()).parent.parent,
             Path(gdcourse.__file__).resolve().parent]
    return sorted({str(Path(p).resolve()) for p in paths if Path(p).exists()})


_PROBE = """import os, sys, socket
assert not os.path.exists({secret!r}), 'a host file is visible'
try:
    open({outside!r}, 'w')
    sys.exit('wrote outside its scratch space')
except OSError:
    pass
assert os.listdir('.') == [], 'the working directory is not empty'
assert {course!r} not in open('/proc/self/mountinfo').read(), 'mountinfo names a host folder'
open(os.path.join(os.environ['HOME'], 'probe.txt'), 'w').write('isolated')
print('isolated', open(os.path.join(os.environ['HOME'], 'probe.txt')).read())
"""


def probe(timeout=30.0) -> tuple[bool, str]:
    """Can kernels be isolated here? Returns ``(ok, reason)``; runs the launcher on a tiny self-test."""
    if not sys.platform.startswith("linux"):
        return False, f"namespaces need Linux (this is {sys.platform})"
    with tempfile.TemporaryDirectory(prefix="gdcourse-probe-") as tmp:
        tmp = Path(tmp)
        secret, sockets, root = tmp / "secret", tmp / "sockets", tmp / "root"
        for folder in (secret, sockets, root):
            folder.mkdir()
        (secret / "answer.txt").write_text("42", encoding="utf-8")
        code = _PROBE.format(secret=str(secret / "answer.txt"), outside=str(tmp / "outside.txt"),
                             course=str(secret))
        config = SandboxConfig(INNER_WORK, [interpreter(), "-c", code], kernel_environment(INNER_HOME, INNER_TMP),
                               os.getpid(), isolate=True, exposed=default_exposed(), sockets_dir=str(sockets),
                               root_dir=str(root))
        path = config.write(tmp / "config.json")
        try:
            done = subprocess.run(config.command(path), capture_output=True, text=True, timeout=timeout,
                                  start_new_session=True, env=launcher_environment())
        except subprocess.TimeoutExpired:
            return False, "the isolation self-test timed out"
        if done.returncode == 0 and done.stdout.strip() == "isolated isolated":
            return True, ("allow-list file system (tmpfs root), mount, PID, network, IPC and UTS namespaces, "
                          "scratch tmpfs")
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return False, f"namespaces unavailable: {reason}"


# ---------------------------------------------------------------- the launcher (runs in the child)

def _set_limits(config: SandboxConfig):
    """No core dumps, the address-space limit, CPU seconds, the largest file (macOS: no RLIMIT_AS)."""
    limits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_AS, config.memory_bytes),
              (resource.RLIMIT_FSIZE, config.file_bytes), (resource.RLIMIT_CPU, config.cpu_seconds)]
    for kind, value in limits:
        if value is None:
            continue
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            if sys.platform.startswith("linux"):
                raise


def _write(path, text):
    """Write a /proc or cgroup control file in place: it cannot be replaced, only written."""
    with open(path, "w", encoding="ascii") as f:
        f.write(text)


def _join_cgroups(config: SandboxConfig):
    for procs in config.cgroup_procs:
        _write(procs, str(os.getpid()))


def _drop_privileges(uid):
    """As root: become ``uid``, a user of this kernel alone: no capabilities, few processes, no other's files."""
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _isolate(config: SandboxConfig):
    """Enter new namespaces; become (in a fork) PID 1 of the new PID namespace; build the allow-list root;
    fork the kernel's process, which returns here, ready to exec. PID 1 stays behind as ``init``."""
    lib = libc()
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    check(lib.unshare(flags | (0 if uid == 0 else CLONE_NEWUSER)), "unshare")
    if uid != 0:  # identity map: the kernel keeps our uid and loses every capability when it execs
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    kernel_uid = KERNEL_UID_BASE + os.getpid() if uid == 0 else None
    parent_alive, parent_holds = os.pipe()  # EOF on the read end: the launcher has ended
    child = os.fork()
    if child:
        os.close(parent_alive)
        _wait_and_exit(child)
    os.close(parent_holds)
    # PID 1 dies with the launcher (the grader kills the launcher), and every process of the namespace with it.
    check(lib.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    check(lib.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(DUMPABLE)")  # the kernel cannot trace its init
    _exit_if_closed(parent_alive)
    build_root(config.root_dir, config.exposed, config.sockets_dir, config.scratch_bytes, kernel_uid,
               [tuple(pair) for pair in config.seeds])
    kernel = os.fork()
    if kernel:
        _init(kernel)
    os.close(parent_alive)
    if kernel_uid is not None:
        _drop_privileges(kernel_uid)
    check(lib.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")


def _exit_if_closed(fd):
    os.set_blocking(fd, False)
    try:
        if os.read(fd, 1) == b"":
            os._exit(1)
    except BlockingIOError:
        pass


def _init(kernel):
    """PID 1 of the namespace: reap every orphan; when the kernel ends, exit with its status (which ends
    every other process of the namespace)."""
    for fd in range(3, 256):
        try:
            os.close(fd)
        except OSError:
            pass
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(1)
        if pid == kernel:
            os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


def _wait_and_exit(child):
    """The launcher's outer half: wait for the namespace's PID 1 and exit with its status."""
    signal.signal(signal.SIGINT, lambda *_: os.kill(child, signal.SIGINT))
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))


def launch(config: SandboxConfig):
    """Set up the sandbox described by ``config`` and exec its command (does not return)."""
    if sys.platform.startswith("linux"):
        check(libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
        if os.getppid() != config.parent_pid:  # the grader died before we could watch it
            os._exit(1)
    _join_cgroups(config)
    _set_limits(config)
    if config.isolate:
        _isolate(config)
    os.chdir(config.work_dir)
    os.execve(config.argv[0], config.argv, config.env)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0])
    config = SandboxConfig(**json.loads(path.read_text(encoding="utf-8")))
    try:
        launch(config)
    except (SandboxError, OSError) as err:
        print(f"gdcourse sandbox: {err}", file=sys.stderr)
        os._exit(70)


if __name__ == "__main__":
    main()
