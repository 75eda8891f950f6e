"""Start an untrusted kernel: resource limits, a clean environment and, on Linux, namespaces.

The grader never runs a student's code in its own process. It starts a kernel
through this module's launcher (``python -m gdcourse.course.sandbox CONFIG``),
which, before it ``exec``s ``ipykernel``:

* sets resource limits: address space (``--memory``), largest file, no core
  dumps; the launcher dies with the grader that started it (``PR_SET_PDEATHSIG``);
* changes to an empty working directory and replaces the environment with a
  fixed, minimal one (no variable of the grader's environment is passed on);
  the kernel's connection file, sockets and caches live in a second folder;
* when Linux namespaces are available (root, or unprivileged user namespaces),
  "isolates" the kernel: new mount, PID, network, IPC and UTS namespaces in which

  - every *hidden* path (the course folder, the source checkout holding the
    package, the submissions, the results, the home directory, the grader's
    temporary folder) is covered by an empty read-only ``tmpfs``, and only the
    *exposed* paths (the Python environment and the ``gdcourse`` package) are
    bound back inside them, read-only;
  - the whole file system is read-only except the kernel's own folder (its
    connection file and caches); its working directory, ``/tmp`` and
    ``/dev/shm`` are small private ``tmpfs`` (64 MB each); ``/proc`` shows only
    the kernel's own processes;
  - there is no network (only an unconfigured loopback), so nothing leaves;
  - the kernel is PID 1 of its namespace: when it dies, every process it
    started dies with it;
  - the kernel runs without capabilities (when the grader is root: as a user
    of its own, with at most 256 processes), so it cannot undo any of this.

:func:`probe` tells whether isolation works on this machine; the grader reports
it and tests that need it skip with the reason when it does not.
"""

from __future__ import annotations

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["SandboxConfig", "probe", "kernel_environment", "default_hidden", "default_exposed",
           "KERNEL_UID_BASE"]

KERNEL_UID_BASE = 1_000_000_000
"""As root, each isolated kernel runs as its own user, this plus the launcher's PID (no account needed)."""
MAX_PROCESSES = 256
SCRATCH = "size=64m"

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (new syscalls share one table)
AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_RDONLY = -100, 0x8000, 0x1
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38


@dataclass
class SandboxConfig:
    """What the launcher needs; written as JSON to a file only the grader can see."""

    work_dir: str
    argv: list[str]
    env: dict[str, str]
    parent_pid: int
    memory_bytes: int | None = None
    file_bytes: int | None = 64 * 2**20
    isolate: bool = False
    hidden: list[str] = field(default_factory=list)
    exposed: list[str] = field(default_factory=list)
    writable: list[str] = field(default_factory=list)

    def write(self, path) -> Path:
        path = Path(path)
        # Not atomic_write: a scratch file in a fresh private folder, read only by the launcher started next.
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")
        return path

    def command(self, path) -> list[str]:
        """The command that starts the launcher with the config at ``path``."""
        return [sys.executable, "-m", "gdcourse.course.sandbox", str(path)]


# ---------------------------------------------------------------- what the grader prepares

def kernel_environment(home) -> dict[str, str]:
    """The whole environment of a grading kernel: nothing from the grader's, nothing secret.

    ``home`` is the kernel's own writable folder (home, temporary files, caches).
    """
    work = str(home)
    bin_dirs = [str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
    return {
        "PATH": os.pathsep.join(dict.fromkeys(bin_dirs)),
        "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
        "MPLCONFIGDIR": os.path.join(work, ".matplotlib"), "IPYTHONDIR": os.path.join(work, ".ipython"),
        "JUPYTER_CONFIG_DIR": os.path.join(work, ".jupyter"),
        "JUPYTER_DATA_DIR": os.path.join(work, ".jupyter"),
        "JUPYTER_RUNTIME_DIR": os.path.join(work, ".jupyter"), "JUPYTER_PLATFORM_DIRS": "1",
        # One BLAS thread per kernel: parallel grading stays fair and the address space small.
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


def _source_checkout(package_dir: Path) -> Path | None:
    """The folder holding the package when it is a source checkout (an editable install), else None."""
    parent = package_dir.parent
    if any((parent / marker).exists() for marker in ("solutions", "pyproject.toml", ".git")):
        return parent
    return None


def default_hidden(course_root, submissions, results, runs_dir) -> list[str]:
    """Paths a grading kernel must not see: course, checkout, submissions, results, home, grader temp."""
    import gdcourse

    package_dir = Path(gdcourse.__file__).resolve().parent
    paths = [course_root, _source_checkout(package_dir), submissions, results, runs_dir, Path.home()]
    if os.getuid() == 0:
        paths.append(Path("/root"))
    return sorted({str(Path(p).resolve()) for p in paths if p is not None and Path(p).exists()})


def default_exposed() -> list[str]:
    """Paths a kernel needs even inside hidden ones: the Python environment and the package."""
    import gdcourse

    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, Path(gdcourse.__file__).resolve().parent]
    return sorted({str(Path(p).resolve()) for p in paths if Path(p).exists()})


def probe(timeout=30.0) -> tuple[bool, str]:
    """Can kernels be isolated here? Returns ``(ok, reason)``; runs the launcher on a tiny self-test."""
    if not sys.platform.startswith("linux"):
        return False, f"namespaces need Linux (this is {sys.platform})"
    with tempfile.TemporaryDirectory(prefix="gdcourse-probe-") as tmp:
        tmp = Path(tmp)
        secret, work, home = tmp / "secret", tmp / "work", tmp / "home"
        for folder in (secret, work, home):
            folder.mkdir()
        (secret / "answer.txt").write_text("42", encoding="utf-8")
        code = ("import os, sys\n"
                f"assert not os.path.exists({str(secret / 'answer.txt')!r}), 'hidden file visible'\n"
                "try:\n"
                f"    open({str(tmp / 'outside.txt')!r}, 'w')\n"
                "    sys.exit('wrote outside its folders')\n"
                "except OSError:\n"
                "    pass\n"
                "assert os.listdir('.') == [], 'the working directory is not empty'\n"
                "open(os.path.join(os.environ['HOME'], 'probe.txt'), 'w').write('isolated')\n")
        config = SandboxConfig(str(work), [sys.executable, "-c", code], kernel_environment(home), os.getpid(),
                               memory_bytes=None, isolate=True, writable=[str(home)],
                               hidden=[str(secret), *default_hidden(None, None, None, tmp)],
                               exposed=default_exposed())
        path = config.write(tmp / "config.json")
        try:
            done = subprocess.run(config.command(path), capture_output=True, text=True, timeout=timeout,
                                  start_new_session=True)
        except subprocess.TimeoutExpired:
            return False, "the isolation self-test timed out"
        probe_file = home / "probe.txt"
        if done.returncode == 0 and probe_file.exists() and probe_file.read_text() == "isolated":
            return True, "mount, PID, network, IPC and UTS namespaces; read-only file system"
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        return False, f"namespaces unavailable: {reason}"


# ---------------------------------------------------------------- the launcher (runs in the child)

class SandboxError(RuntimeError):
    """The launcher could not set up the sandbox it was asked for."""


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise SandboxError(f"{what} failed: {os.strerror(err)} (errno {err})")


def _mount(libc, source, target, fstype, flags, data=None):
    enc = (lambda s: None if s is None else str(s).encode())
    _check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {fstype or 'bind'} on {target}")


def _read_only_everywhere(libc):
    """Make every mount read-only (recursively), with ``mount_setattr`` (Linux 5.12+)."""
    attr = (ctypes.c_uint64 * 4)(MOUNT_ATTR_RDONLY, 0, 0, 0)
    libc.syscall.restype = ctypes.c_long
    result = libc.syscall(ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(AT_FDCWD), b"/",
                          ctypes.c_uint(AT_RECURSIVE), ctypes.byref(attr), ctypes.c_size_t(32))
    _check(result, "mount_setattr (read-only file system)")


def _inside(path, folder) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _set_limits(config: SandboxConfig):
    """No core dumps, the address-space limit, the largest file (macOS does not enforce RLIMIT_AS)."""
    limits = [(resource.RLIMIT_CORE, 0), (resource.RLIMIT_AS, config.memory_bytes),
              (resource.RLIMIT_FSIZE, config.file_bytes)]
    for kind, value in limits:
        if value is None:
            continue
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):
            if sys.platform.startswith("linux"):
                raise


def _write(path, text):
    """Write a /proc control file (uid_map, setgroups) in place: it cannot be replaced, only written."""
    with open(path, "w", encoding="ascii") as f:
        f.write(text)


def _hide_and_expose(libc, config: SandboxConfig, handles):
    """Cover hidden paths with empty read-only tmpfs; bind the exposed paths back inside them."""
    for path in sorted(config.hidden, key=len):
        if os.path.isdir(path):
            _mount(libc, "tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755")
    for path in sorted(config.exposed, key=len):
        if any(_inside(path, hidden) for hidden in config.hidden) and path in handles:
            os.makedirs(path, exist_ok=True)
            _mount(libc, f"/proc/self/fd/{handles[path]}", path, None, MS_BIND | MS_REC)
    for path in config.hidden:  # hidden paths inside an exposed one were just revealed again
        revealed = any(_inside(path, exposed) and path != exposed for exposed in config.exposed)
        if revealed and os.path.isdir(path):
            _mount(libc, "tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0755")


def _expose_again(libc, config: SandboxConfig, handles, scratch):
    """Bind back, read-only, the exposed paths (the Python environment, the package) that a fresh
    scratch tmpfs just covered: a checkout or virtualenv under /tmp must stay usable."""
    for path in sorted(config.exposed, key=len):
        if _inside(path, scratch) and path in handles:
            os.makedirs(path, exist_ok=True)
            _mount(libc, f"/proc/self/fd/{handles[path]}", path, None, MS_BIND | MS_REC)
            _mount(libc, None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _drop_privileges(writable, uid):
    """As root: hand the writable folders to ``uid`` and become ``uid``: no capabilities, few processes.

    A user of its own per kernel: no kernel can reach another's files or
    processes, and the process limit (which counts per user) is the kernel's own.
    """
    for top in writable:
        for folder, dirs, files in os.walk(top):
            for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                os.lchown(name, uid, uid)
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_PROCESSES, MAX_PROCESSES))
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


def _isolate(config: SandboxConfig):
    """Enter new namespaces and fork; the child (PID 1 of the new PID namespace) returns, ready to exec."""
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
    _check(libc.unshare(flags | (0 if uid == 0 else CLONE_NEWUSER)), "unshare")
    if uid != 0:  # identity map: the kernel keeps our uid and loses every capability when it execs
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
    kernel_uid = KERNEL_UID_BASE + os.getpid()
    parent_alive, parent_holds = os.pipe()  # EOF on the read end: the launcher has ended
    child = os.fork()
    if child:
        os.close(parent_alive)
        _wait_and_exit(child)
    os.close(parent_holds)
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    work = config.work_dir
    writable = [p for p in dict.fromkeys(config.writable) if p != work]
    handles = {p: os.open(p, os.O_PATH) for p in [*config.exposed, *writable] if os.path.exists(p)}
    _hide_and_expose(libc, config, handles)
    for path in [work, *writable]:  # mount points for the writable folders, if a hidden path covers them
        os.makedirs(path, exist_ok=True)
    _read_only_everywhere(libc)
    _mount(libc, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for scratch in ("/tmp", "/dev/shm"):
        if os.path.isdir(scratch):
            _mount(libc, "tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, f"{SCRATCH},mode=1777")
            _expose_again(libc, config, handles, scratch)
    os.makedirs(work, exist_ok=True)  # the working directory: a small private tmpfs, gone with the kernel
    _mount(libc, "tmpfs", work, "tmpfs", MS_NOSUID | MS_NODEV, f"{SCRATCH},mode=0700")
    for path in writable:
        os.makedirs(path, exist_ok=True)
        _mount(libc, f"/proc/self/fd/{handles[path]}", path, None, MS_BIND)
        _mount(libc, None, path, None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)  # a bind copies read-only
    for fd in handles.values():
        os.close(fd)
    if uid == 0:
        _drop_privileges([work, *writable], kernel_uid)
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    # After the uid change, which clears it: PID 1 of the namespace dies with the launcher, and with it
    # every process the kernel starts.
    _check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    os.set_blocking(parent_alive, False)
    try:
        if os.read(parent_alive, 1) == b"":
            os._exit(1)
    except BlockingIOError:
        pass
    os.close(parent_alive)


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
        _check(_libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
        if os.getppid() != config.parent_pid:  # the grader died before we could watch it
            os._exit(1)
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
