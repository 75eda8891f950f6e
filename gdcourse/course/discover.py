"""Finding the submissions: one pass over ``SUBMISSIONS_DIR``, regular files only, no link followed.

Layout: ``<student>/<NN_name>.ipynb`` (matched to ``solutions/NN_name.ipynb`` by
its exact name, or else by its ``NN_`` prefix when only one source has it), or
``<student>.ipynb`` when one notebook is graded. Names starting with ``.`` or
``_`` are skipped.

Nothing that is not a regular file is graded, and nothing is followed: a
symbolic link (to the course's solutions, to a classmate's notebook, to
``/dev/zero``), a FIFO, a device or a folder named like a notebook, and a
student folder that is itself a link, each get a clear "not a regular file"
entry (0 points). Each folder is listed once (``os.scandir``, no
``stat`` beyond the entry's own), so discovery is linear in the number of files.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from gdcourse.course.results import GradeError, SubmissionResult

__all__ = ["find_submissions", "match_source", "NOT_REGULAR", "LINKED_FOLDER"]

NOT_REGULAR = "not a regular file"
LINKED_FOLDER = "(submission folder)"
_SKIP = (".", "_")
_KINDS = {stat.S_IFLNK: "a symbolic link", stat.S_IFDIR: "a folder", stat.S_IFIFO: "a FIFO (named pipe)",
          stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device", stat.S_IFBLK: "a device"}


def match_source(filename, sources) -> str | None:
    """The source notebook ``filename`` is a submission of, or ``None``."""
    if filename in sources:
        return filename
    prefix = re.match(r"(\d\d)_", filename)
    if prefix:
        matches = [name for name in sources if name.startswith(prefix.group(0))]
        if len(matches) == 1:
            return matches[0]
    return None


def _why_not_regular(entry: os.DirEntry) -> str | None:
    """Why ``entry`` cannot be graded (a link, a FIFO, a folder…), or ``None`` for a regular file.

    Hard links are not refused: the original and the link are the same file, and refusing both
    would let anyone who can link a classmate's file cost them their grade."""
    kind = stat.S_IFMT(entry.stat(follow_symlinks=False).st_mode)
    return None if kind == stat.S_IFREG else _KINDS.get(kind, "not a file")


def _refusal(student, notebook, name, why) -> SubmissionResult:
    return SubmissionResult(student, notebook, NOT_REGULAR,
                            f"{name} is {why}: {NOT_REGULAR}. Only the notebook file itself is graded (links, "
                            "folders, pipes and devices are refused): submit your notebook file.")


def _listing(folder) -> list[os.DirEntry]:
    with os.scandir(folder) as entries:
        return sorted((e for e in entries if not e.name.startswith(_SKIP)), key=lambda e: e.name)


def find_submissions(submissions_dir, sources, notebooks=None):
    """``(tasks, problems)``: the ``(student, source name, path)`` to grade, and entries for what cannot be.

    ``sources`` maps ``NN_name.ipynb`` to its path; ``notebooks`` restricts to
    those source names. ``problems`` are :class:`SubmissionResult` entries for
    files that match no source, clash with another file of the same student, or
    are not regular files.
    """
    folder = Path(submissions_dir)
    if not folder.is_dir():
        raise GradeError(f"SUBMISSIONS_DIR: {folder} is not a folder")
    wanted = set(notebooks or sources)
    found: dict[tuple[str, str], list[str]] = {}
    problems = []
    top = _listing(folder)
    flat = [e for e in top if e.name.endswith(".ipynb") and not e.is_dir(follow_symlinks=False)]
    if flat:
        if len(wanted) != 1 or notebooks is None:
            names = ", ".join(e.name for e in flat[:3])
            raise GradeError(
                f"SUBMISSIONS_DIR: {folder} holds notebooks directly ({names}{'…' if len(flat) > 3 else ''}); "
                "that layout (<student>.ipynb) needs --notebook NN to say which assignment they are. "
                "Otherwise put each student's notebooks in a folder <student>/.")
        (only,) = wanted
        for entry in flat:
            student = entry.name[:-len(".ipynb")]
            why = _why_not_regular(entry)
            if why:
                problems.append(_refusal(student, only, entry.name, why))
            else:
                found.setdefault((student, only), []).append(entry.path)
    for entry in top:
        if entry.is_symlink() and not entry.name.endswith(".ipynb"):
            problems.append(_refusal(entry.name, LINKED_FOLDER, entry.name + "/", "a symbolic link"))
        elif entry.is_dir(follow_symlinks=False):
            _student_folder(entry, sources, wanted, found, problems)
    return _tasks(found, problems), problems


def _student_folder(student_dir, sources, wanted, found, problems):
    student = student_dir.name
    for entry in _listing(student_dir.path):
        if not entry.name.endswith(".ipynb"):
            continue
        source = match_source(entry.name, sources)
        if source is None:
            problems.append(SubmissionResult(
                student, entry.name, "unknown notebook",
                f"{entry.name} matches no assignment; name it like one of: {', '.join(sorted(sources))}."))
        elif source in wanted:
            why = _why_not_regular(entry)
            if why:
                problems.append(_refusal(student, source, entry.name, why))
            else:
                found.setdefault((student, source), []).append(entry.path)


def _tasks(found, problems):
    tasks = []
    for (student, source), paths in sorted(found.items()):
        exact = [p for p in paths if os.path.basename(p) == source]
        if len(paths) > 1 and not exact:
            problems.append(SubmissionResult(
                student, source, "malformed",
                f"several files could be {source} ({', '.join(os.path.basename(p) for p in paths)}): submit "
                "exactly one."))
            continue
        tasks.append((student, source, (exact or paths)[0]))
    return tasks
