"""The file system a grading kernel sees: an allow-list, built fresh from an empty ``tmpfs``.

Runs in the sandbox launcher, inside new mount (and PID) namespaces, before the
kernel starts. The new root holds only:

* read-only: the Python environment (``sys.prefix``, ``sys.base_prefix``), the
  ``gdcourse`` package, the system's shared libraries (``/usr/lib``, ``/lib``,
  ``/lib64``, ``/usr/lib64``) and ``/etc/ld.so.cache``: what the interpreter
  loads, nothing else of the host (no home, no course, no ``/var/tmp``, no
  socket file of any host service);
* ``/dev`` with ``null zero full random urandom`` and the ``fd``/``std*`` links;
* a private ``/proc`` (the kernel's PID namespace only);
* the kernel's socket folder (its Jupyter sockets, bound from the grader);
* ``/tmp``: the scratch space, one ``tmpfs`` of a fixed size holding the home
  folder ``/tmp/home``, the working directory ``/tmp/work`` and ``/dev/shm``:
  the only place the kernel can write.

The root is switched with ``pivot_root`` and the old root detached, so
``/proc/self/mountinfo`` names nothing but these paths.
"""

from __future__ import annotations

import ctypes
import os
import platform
import shutil
from pathlib import Path

__all__ = ["SandboxError", "build_root", "system_paths", "INNER_HOME", "INNER_WORK", "INNER_TMP"]

INNER_TMP = "/tmp"
INNER_HOME = "/tmp/home"
INNER_WORK = "/tmp/work"
DEVICES = ("null", "zero", "full", "random", "urandom")

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
SYS_MOUNT_SETATTR = 442  # the same number on every architecture (new syscalls share one table)
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217, "armv7l": 218,
                  "i686": 217}
AT_RECURSIVE, MOUNT_ATTR_RDONLY = 0x8000, 0x1


class SandboxError(RuntimeError):
    """The launcher could not set up the sandbox it was asked for."""


def libc():
    lib = ctypes.CDLL(None, use_errno=True)
    lib.syscall.restype = ctypes.c_long
    return lib


def check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise SandboxError(f"{what} failed: {os.strerror(err)} (errno {err})")


def mount(lib, source, target, fstype, flags, data=None):
    enc = (lambda s: None if s is None else str(s).encode())
    check(lib.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
          f"mount {fstype or 'bind'} on {target}")


def system_paths() -> list[str]:
    """Host paths every interpreter needs: the shared libraries and the loader's cache."""
    return [p for p in ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/etc/ld.so.cache") if os.path.lexists(p)]


def _inside(path, folder) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _target(root, path) -> str:
    return os.path.join(root, path.lstrip("/"))


def _bind(lib, source, target, *, read_only, recursive=True):
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()  # noqa: SIM115 - an empty mount point
    mount(lib, source, target, None, MS_BIND | (MS_REC if recursive else 0))
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | (MS_RDONLY if read_only else 0)
    if not os.path.isdir(source) or source.startswith("/dev/"):
        flags &= ~MS_NODEV
    else:
        flags |= MS_NODEV
    mount(lib, None, target, None, flags)


def _read_only_tree(lib, root):
    """Make every mount under ``root`` read-only, recursively (``mount_setattr``, Linux 5.12+)."""
    attr = (ctypes.c_uint64 * 4)(MOUNT_ATTR_RDONLY, 0, 0, 0)
    result = lib.syscall(ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(-100), str(root).encode(),
                         ctypes.c_uint(AT_RECURSIVE), ctypes.byref(attr), ctypes.c_size_t(32))
    check(result, "mount_setattr (read-only tree)")


def _expose(lib, root, paths):
    """Bind the allowed host paths read-only at the same place; a symlink (``/lib -> usr/lib``) is copied."""
    for path in paths:
        target = _target(root, path)
        if os.path.islink(path) and os.path.dirname(path) == "/":
            if not os.path.lexists(target):
                os.symlink(os.readlink(path), target)
            continue
        _bind(lib, os.path.realpath(path), target, read_only=True)


def _devices(lib, root, shm):
    dev = _target(root, "/dev")
    mount(lib, "tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755")
    for name in DEVICES:
        _bind(lib, f"/dev/{name}", os.path.join(dev, name), read_only=False, recursive=False)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, os.path.join(dev, name))
    os.makedirs(os.path.join(dev, "shm"))
    _bind(lib, shm, os.path.join(dev, "shm"), read_only=False, recursive=False)
    mount(lib, None, dev, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC)


def _scratch(lib, root, size_bytes, uid, seeds):
    """``/tmp``: one tmpfs of ``size_bytes`` owned by the kernel's user, with home, work and shm folders."""
    tmp = _target(root, INNER_TMP)
    owner = f",uid={uid},gid={uid}" if uid is not None else ""
    mount(lib, "tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(size_bytes)},mode=0700{owner}")
    folders = [_target(root, p) for p in (INNER_HOME, INNER_WORK)] + [os.path.join(tmp, ".shm")]
    for folder in folders:
        os.makedirs(folder, exist_ok=True)
    for source, inner in seeds:  # the grader's font cache: saves each kernel a slow font scan
        destination = _target(root, inner)
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        shutil.copyfile(source, destination)
        folders.append(destination)
    if uid is not None:
        for path in folders:
            os.chown(path, uid, uid)
            os.chown(os.path.dirname(path), uid, uid)
    return os.path.join(tmp, ".shm")


def _pivot(lib, root):
    """Make ``root`` the root of this mount namespace and detach the old one entirely."""
    os.chdir(root)
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise SandboxError(f"pivot_root: unknown system call number on {platform.machine()}")
    check(lib.syscall(ctypes.c_long(number), b".", b"."), "pivot_root")
    check(lib.umount2(b".", MNT_DETACH), "umount of the old root")
    os.chdir("/")


def build_root(root_dir, exposed, sockets_dir, scratch_bytes, uid=None, seeds=()):
    """Build the allow-list root in ``root_dir`` (an empty folder) and switch to it (see module docstring).

    ``exposed``: host paths shown read-only; ``sockets_dir``: the one host folder
    shown writable (the kernel's Jupyter sockets); ``uid``: the kernel's user
    when the launcher runs as root (it owns the scratch space), else ``None``;
    ``seeds``: ``(host file, inner path)`` pairs copied into the scratch space.
    """
    lib = libc()
    mount(lib, None, "/", None, MS_REC | MS_PRIVATE)
    root = str(root_dir)
    mount(lib, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755")
    paths = sorted({os.path.abspath(p) for p in [*system_paths(), *exposed] if os.path.lexists(p)}, key=len)
    under_tmp = [p for p in paths if _inside(p, INNER_TMP)]
    kept = [p for p in paths if p not in under_tmp and not any(
        _inside(p, q) and p != q and not os.path.islink(q) for q in paths)]
    _expose(lib, root, kept)
    for folder in ("/proc", "/dev", INNER_TMP):
        os.makedirs(_target(root, folder), exist_ok=True)
    os.makedirs(_target(root, sockets_dir), exist_ok=True)
    _read_only_tree(lib, root)
    mount(lib, "proc", _target(root, "/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    shm = _scratch(lib, root, scratch_bytes, uid, seeds)
    _devices(lib, root, shm)
    for path in under_tmp:  # a checkout or virtualenv under /tmp stays usable, read-only
        _bind(lib, os.path.realpath(path), _target(root, path), read_only=True)
    _bind(lib, sockets_dir, _target(root, sockets_dir), read_only=False, recursive=False)
    _pivot(lib, root)
    if uid is not None:
        os.chown(sockets_dir, uid, uid)
    return Path("/")
