"""Heavy experiments computed once per version of the code: a disk memo, and ``gdcourse cache``.

A 20-seed study takes seconds; a notebook that reran all of its studies on every "Run All" would
keep the learner waiting 15-20 s. :func:`stored` keeps a function's result on disk, keyed by

* the function (module and qualified name),
* its arguments, bound to its signature with defaults applied (so ``f(20)`` and ``f(seeds=20)``
  are one entry), hashed by content with :func:`joblib.hash` (arrays included),
* a fingerprint of the code: every ``.py`` file of the package and the versions of NumPy, SciPy,
  scikit-learn and Python. Any change to the package starts a fresh store, so a stored result is
  always the result this code computes.

Where: ``$GDCOURSE_CACHE``, else ``$XDG_CACHE_HOME/gdcourse`` (default ``~/.cache/gdcourse``);
``GDCOURSE_CACHE=off`` turns the memo off. Entries are written atomically (temporary file, then
rename), so two kernels computing the same study at once leave one whole entry.

The function simply runs, uncached, when an argument is a :class:`numpy.random.Generator` (its
result depends on the stream's state, and the caller expects the stream to advance) or its
``rng`` argument is None (fresh entropy: every run differs), when an
argument cannot be hashed (a lambda), or when the store cannot be written. An entry that cannot
be read is computed again.

``gdcourse cache warm`` runs every chapter notebook once, headless, so that the learner's first
"Run All" already finds its studies (``make lab`` does this), and deletes the results of older
versions of the code, which no run can read any more; ``info``, ``prune`` and ``clear`` show the
store, delete older code's results and empty it. The tests run with a fresh, empty store, so they
compute every claim themselves.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import os
import shutil
import sys
import tempfile
from pathlib import Path

__all__ = ["stored", "stored_training", "cache_root", "fingerprint", "store_dir", "warm", "prune", "add_command"]

PACKAGE_DIR = Path(__file__).resolve().parent
COURSE_DIR = PACKAGE_DIR.parent
OFF = ("off", "0", "no", "false")


def cache_root() -> Path | None:
    """The memo's base folder (see the module docstring), or None when ``GDCOURSE_CACHE`` turns it off."""
    value = os.environ.get("GDCOURSE_CACHE", "").strip()
    if value.lower() in OFF:
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or "~/.cache"
    return Path(base).expanduser() / "gdcourse"


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """16 hex digits naming this code: the package's ``.py`` files and the numerical libraries' versions."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name):
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(path.read_bytes())
    versions = tuple(installed(name) for name in ("numpy", "scipy", "scikit-learn")) + (sys.version.split()[0],)
    digest.update(repr(versions).encode())
    return digest.hexdigest()[:16]


def store_dir() -> Path | None:
    """The folder of this code's entries, ``cache_root() / fingerprint()``, or None when the memo is off."""
    root = cache_root()
    return None if root is None else root / fingerprint()


def _has_generator(values) -> bool:
    import numpy as np

    return any(isinstance(v, (np.random.Generator, np.random.RandomState)) for v in values)


def _key(fn, signature, args, kwargs) -> str | None:
    """The entry's file name for this call, or None when the call cannot be memoized."""
    import joblib

    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    if _has_generator(bound.arguments.values()) or ("rng" in bound.arguments and bound.arguments["rng"] is None):
        return None     # a stream's state, or fresh entropy (rng=None): the result is not a function of the call
    try:
        return joblib.hash((fn.__module__, fn.__qualname__, sorted(bound.arguments.items())))
    except Exception:   # an argument pickle cannot hash (a lambda, a generator object): run uncached
        return None


def _entry(fn, signature, args, kwargs) -> Path | None:
    """The file that stores this call's result, or None when the memo is off or the call cannot be stored."""
    folder = store_dir()
    key = None if folder is None else _key(fn, signature, args, kwargs)
    return None if key is None else folder / f"{fn.__module__}.{fn.__qualname__}" / f"{key}.joblib"


def _load(path: Path):
    import joblib

    try:
        return True, joblib.load(path)
    except OSError:     # no entry yet, or a store that cannot be read
        return False, None
    except Exception:   # a damaged entry (an old pickle, a disk error): compute it again
        with contextlib.suppress(OSError):
            path.unlink()
        return False, None


def _save(path: Path, value) -> None:
    import joblib

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".joblib")
        os.close(handle)
        try:
            joblib.dump(value, tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    except Exception:   # a read-only or full disk, a result pickle cannot store: returned, not kept
        pass


def stored(fn):
    """Decorator: keep ``fn``'s result on disk per code version and arguments (see the module docstring).

    Each call returns a fresh copy (read from disk), so callers may modify what they get.
    ``fn.uncached`` is the plain function.
    """
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        path = _entry(fn, signature, args, kwargs)
        if path is None:
            return fn(*args, **kwargs)
        found, value = _load(path)
        if found:
            return value
        value = fn(*args, **kwargs)
        _save(path, value)
        return value

    wrapper.uncached = fn
    return wrapper


def stored_training(fn):
    """Decorator for ``fn(model, …)`` that trains ``model`` in place: the memo keeps the result and the trained state.

    The key includes the model as it is before the call (its parameters, buffers, random streams
    and hyper-parameters, by content). A hit loads the stored :meth:`~gdcourse.nn.Module.state_dict`
    (values, buffers, random-stream states) into the caller's model, into its existing arrays, and
    restores each sub-module's training mode: the model ends as the run would have left it.
    """
    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(model, *args, **kwargs):
        path = _entry(fn, signature, (model, *args), kwargs)
        if path is None:
            return fn(model, *args, **kwargs)
        found, value = _load(path)
        if found:
            result, state, modes = value
            model.load_state_dict(state)
            for module, training in zip(model.modules(), modes, strict=True):
                module.training = training
            return result
        result = fn(model, *args, **kwargs)
        _save(path, (result, model.state_dict(), [module.training for module in model.modules()]))
        return result

    wrapper.uncached = fn
    return wrapper


# ---------------------------------------------------------------- gdcourse cache: warm, info, clear

def chapter_notebooks(folder: Path) -> list[Path]:
    """The notebooks in ``folder`` that run experiments (those importing ``gdcourse.experiments``)."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if "gdcourse.experiments" in p.read_text("utf-8"))


def headless_client(notebook, folder: Path, timeout: int, **options):
    """An nbclient runner for ``notebook`` in a fresh local kernel working in ``folder``.

    The kernel talks over local (IPC) sockets rather than TCP: nothing listens on a port, and
    ipykernel has no reason to warn about unencrypted TCP in the middle of our progress bars. The
    sockets are named after an absolute, per-kernel connection file (the default name is relative
    to the working directory, which differs between client and kernel); the kernel manager
    deletes both at shutdown.
    """
    import secrets

    from nbclient import NotebookClient
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.connection_file = os.path.join(tempfile.gettempdir(), f"gdk-{secrets.token_hex(6)}.json")
    return NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True, config=config,
                          resources={"metadata": {"path": str(folder)}}, **options)


def _run_notebook(path: str, timeout: int) -> tuple[str, str | None]:
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    client = headless_client(notebook, Path(path).parent, timeout)
    try:
        client.execute()
    except Exception as error:   # a dead kernel or a timeout: report it, warm the others
        return path, f"{type(error).__name__}: {error}"
    return path, None


def _warm_marker(notebooks: list[Path]) -> Path | None:
    directory = store_dir()
    if directory is None:
        return None
    digest = hashlib.sha256()
    for path in notebooks:
        digest.update(str(path.resolve()).encode())
        digest.update(path.read_bytes())
    return directory / f".warm-{digest.hexdigest()[:16]}"


def warm(notebooks, *, jobs: int = 2, timeout: int = 600, force: bool = False, out=sys.stdout) -> int:
    """Run each notebook of ``notebooks`` (paths) once so the memo holds their studies; return an exit code."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from tqdm import tqdm

    if store_dir() is None:
        print("gdcourse cache: GDCOURSE_CACHE is off; nothing to warm", file=out)
        return 0
    notebooks = [Path(p) for p in notebooks]
    if not notebooks:
        print("gdcourse cache warm: no chapter notebooks to run", file=sys.stderr)
        return 2
    prune(out=out)
    marker = _warm_marker(notebooks)
    if marker.exists() and not force:
        print(f"gdcourse cache: the experiments of {len(notebooks)} notebooks are already stored "
              f"({store_dir()})", file=out)
        return 0
    print(f"Computing the experiments of {len(notebooks)} notebooks once, {jobs} at a time "
          f"(a few minutes on 2 cores; later runs reuse them)…", file=out, flush=True)
    failures = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_run_notebook, str(p), timeout) for p in notebooks]
        for future in tqdm(as_completed(futures), total=len(futures), unit="notebook", file=out):
            path, error = future.result()
            if error:
                failures.append(f"{Path(path).name}: {error}")
    for failure in failures:
        print(f"gdcourse cache warm: {failure}", file=sys.stderr)
    if not failures:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    return 1 if failures else 0


def _entries(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.joblib") if p.is_file()]


def _code_folders(root: Path) -> list[Path]:
    """The per-fingerprint folders under ``root`` (16 hex digits); anything else there is not ours."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and len(p.name) == 16 and all(c in "0123456789abcdef" for c in p.name))


def _size(folders: list[Path]) -> int:
    return sum(p.stat().st_size for folder in folders for p in _entries(folder))


def _remove(folders: list[Path]) -> int:
    """Delete ``folders``; return the bytes their stored results took."""
    size = _size(folders)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    return size


def info(out=sys.stdout) -> int:
    root = cache_root()
    if root is None:
        print("gdcourse cache: off (GDCOURSE_CACHE=off)", file=out)
        return 0
    current = root / fingerprint()
    entries = _entries(current) if current.is_dir() else []
    older = [p for p in _code_folders(root) if p != current]
    size = sum(p.stat().st_size for p in entries)
    print(f"folder        {root}", file=out)
    print(f"this code     {fingerprint()}: {len(entries)} stored results, {size / 1e6:.1f} MB", file=out)
    print(f"older code    {len(older)} folders, {_size(older) / 1e6:.1f} MB (gdcourse cache prune deletes them)",
          file=out)
    return 0


def prune(out=sys.stdout) -> int:
    """Delete the results of other versions of the code (no run of this code can read them)."""
    root = cache_root()
    if root is None:
        return 0
    older = [p for p in _code_folders(root) if p.name != fingerprint()]
    if older:
        freed = _remove(older)
        print(f"gdcourse cache: removed the results of {len(older)} older versions of the code "
              f"({freed / 1e6:.1f} MB)", file=out)
    return 0


def clear(out=sys.stdout) -> int:
    root = cache_root()
    folders = [] if root is None else _code_folders(root)
    if not folders:
        print("gdcourse cache: nothing to clear", file=out)
        return 0
    _remove(folders)
    print(f"gdcourse cache: removed {len(folders)} folders from {root}", file=out)
    return 0


def add_command(subparsers) -> None:
    """Register ``gdcourse cache``."""
    parser = subparsers.add_parser(
        "cache", help="show, fill or empty the store of the notebooks' multi-seed experiments",
        description="The notebooks' multi-seed studies are kept on disk per version of the code "
                    "($GDCOURSE_CACHE, default ~/.cache/gdcourse; GDCOURSE_CACHE=off disables it).",
    )
    parser.add_argument("action", choices=("info", "warm", "prune", "clear"),
                        help="info: where and how much; warm: run every chapter notebook once to fill it "
                             "(and prune); prune: delete the results of older versions of the code; "
                             "clear: delete every stored result")
    parser.add_argument("--notebooks", metavar="DIR", default=None,
                        help="with warm: the folder of notebooks to run (default: the course's notebooks/)")
    parser.add_argument("--jobs", type=int, default=2, help="with warm: notebooks run at once (default 2)")
    parser.add_argument("--force", action="store_true", help="with warm: run even if already warmed")
    parser.set_defaults(run=run_command)


def run_command(args) -> int:
    if args.action == "info":
        return info()
    if args.action == "clear":
        return clear()
    if args.action == "prune":
        return prune()
    if args.jobs < 1:
        print(f"gdcourse cache: --jobs: expected an integer >= 1, got {args.jobs}", file=sys.stderr)
        return 2
    folder = Path(args.notebooks) if args.notebooks else COURSE_DIR / "notebooks"
    if not folder.is_dir():
        print(f"gdcourse cache: --notebooks: expected a folder of notebooks, got {str(folder)!r}", file=sys.stderr)
        return 2
    notebooks = chapter_notebooks(folder)
    if not notebooks:
        print(f"gdcourse cache: --notebooks: no chapter notebooks (NN_*.ipynb importing gdcourse.experiments) "
              f"in {str(folder)!r}", file=sys.stderr)
        return 2
    return warm(notebooks, jobs=args.jobs, force=args.force)
