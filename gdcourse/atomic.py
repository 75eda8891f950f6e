"""Writing a file atomically and durably: every file the package writes goes through here.

A reader (another process, or the same program after a crash) sees either the old
file or the complete new one, never half a file, and once the call returns the new
content survives a power cut. The recipe (as in SQLite's and PostgreSQL's own
writers):

1. write to a temporary file in the same directory (``os.replace`` is atomic only
   within one file system);
2. flush and ``fsync`` it, so its bytes are on disk before its name is;
3. ``os.replace`` it over the target;
4. ``fsync`` the directory, so the new directory entry is on disk too.

If anything fails before step 3, the temporary file is removed and the target is
untouched. SQLite databases are written by SQLite; :func:`replace_atomically` gives
them the same steps 2-4 for a file SQLite filled in.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "replace_atomically"]


def atomic_write(path, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Replace the file at ``path`` with ``data`` (``str`` is encoded with ``encoding``); return the path.

    Missing parent directories are created. Text is written as given: no newline
    translation, so ``"\\n"`` stays ``"\\n"`` on every platform.
    """
    if isinstance(data, str):
        data = data.encode(encoding)
    elif not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"data: expected str or bytes, got {type(data).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with replace_atomically(path) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
    return path


@contextlib.contextmanager
def replace_atomically(path):
    """Yield the path of an empty temporary file beside ``path``; on a clean exit it replaces ``path``.

    The caller fills the temporary file in (and closes it) inside the ``with``
    block; then it is fsynced, moved over ``path`` and the directory is fsynced.
    On an exception the temporary file is removed and ``path`` is left as it was.
    The new file has mode 0600 (``tempfile.mkstemp``): grades and progress stay private.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(path.parent)


def _fsync_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_directory(folder):
    # Directories cannot be opened on Windows; there the rename is as durable as it gets.
    if os.name != "posix":  # pragma: no cover - Windows
        return
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
