"""``gdcourse release`` (write or check the student notebooks) and ``gdcourse grade`` (grade submissions)."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path


def printable(text) -> str:
    """``text`` safe for a terminal: control and format characters (escape sequences, bidi overrides)
    written as ``\\x1b``, ``\\u202e``…; what a student named a file cannot clear or recolour the screen."""
    out = []
    for ch in str(text):
        if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(ch.encode("unicode_escape").decode("ascii"))
        else:
            out.append(ch)
    return "".join(out)


def add_command(subparsers):
    parser = subparsers.add_parser(
        "release",
        help="write the student notebooks in notebooks/ from solutions/",
        description="Write student versions of the solutions notebooks: solution regions stubbed, "
        "hidden tests removed, outputs cleared.",
    )
    parser.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help="names like 01 or 01_gd_basics (default: all)")
    parser.add_argument("--check", action="store_true", help="fail if notebooks/ is not a fresh release")
    parser.add_argument("--list", action="store_true", help="list the exercises and their points")
    parser.add_argument("--root", type=Path, default=None, help="course folder holding solutions/ and notebooks/")
    parser.set_defaults(run=run)
    _add_grade(subparsers)


def _add_grade(subparsers):
    parser = subparsers.add_parser(
        "grade",
        help="grade submitted notebooks against solutions/ (sandboxed, in parallel)",
        description="Grade SUBMISSIONS_DIR/<student>/<NN_name>.ipynb (or SUBMISSIONS_DIR/<student>.ipynb "
        "with --notebook NN) against solutions/, each submission in its own sandboxed kernel. Writes "
        "gradebook.sqlite, grades.csv, summary.json and feedback/<student>.html to --out.",
    )
    parser.add_argument("submissions", type=Path, metavar="SUBMISSIONS_DIR")
    parser.add_argument("--out", type=Path, required=True, metavar="RESULTS_DIR",
                        help="where results are written")
    parser.add_argument("--notebook", action="append", default=None, metavar="NN",
                        help="grade only this notebook (repeatable; names like 01 or 01_gd_basics)")
    parser.add_argument("--workers", type=int, default=2, help="submissions graded in parallel (default 2)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per cell (default 30)")
    parser.add_argument("--memory", type=int, default=2048, metavar="MB",
                        help="memory of each submission in MB: its whole process tree where cgroups are available, "
                        "else each process's address space (default 2048)")
    parser.add_argument("--scratch", type=int, default=64, metavar="MB",
                        help="size of each isolated kernel's only writable space (home, /tmp), in MB (default 64)")
    parser.add_argument("--output-limit", type=float, default=10.0, metavar="MB",
                        help="output a cell may print before it is stopped, in MB (default 10)")
    parser.add_argument("--isolation", choices=("auto", "require", "off"), default="auto",
                        help="the allow-list sandbox (Linux namespaces) for the kernels: use when available and "
                        "say loudly when not (auto), fail without it (require), or do not use (off)")
    parser.add_argument("--hide", action="append", default=[], type=Path, metavar="DIR",
                        help="another folder the kernels must not see (repeatable)")
    parser.add_argument("--root", type=Path, default=None, help="course folder holding solutions/")
    parser.set_defaults(run=run_grade)


def run_grade(args) -> int:
    from gdcourse.course import grade as G
    from gdcourse.course import release as R

    root = args.root or R.default_root()
    try:
        report = G.grade(args.submissions, args.out, root=root, notebooks=args.notebook, workers=args.workers,
                         timeout=args.timeout, memory_mb=args.memory, output_limit_mb=args.output_limit,
                         isolation=args.isolation, hide=args.hide, scratch_mb=args.scratch)
    except G.GradeError as err:
        print(f"gdcourse grade: {printable(err)}", file=sys.stderr)
        return 2
    for warning in report.problems:
        print(f"gdcourse grade: warning: {printable(warning)}", file=sys.stderr)
    if not report.isolation.startswith("on"):
        print("gdcourse grade: WARNING: " + "!" * 60 + f"\ngdcourse grade: WARNING: kernel isolation "
              f"{printable(report.isolation)}\ngdcourse grade: WARNING: " + "!" * 60, file=sys.stderr)
    print(f"graded {report.submissions} notebooks of {report.students} students in {report.seconds:.1f} s "
          f"({report.per_minute:.1f} per minute, {report.workers} workers); isolation {report.isolation}; "
          f"limits {report.limits}")
    print(f"results in {printable(report.out)}: gradebook.sqlite, grades.csv, summary.json, feedback/")
    if report.interrupted:
        print(f"gdcourse grade: stopped by {report.interrupted}", file=sys.stderr)
        return 130 if report.interrupted == "SIGINT" else 143
    return 0


def run(args) -> int:
    from gdcourse.course import release as R  # nbformat is slow to import: only when used

    root = args.root or R.default_root()
    solutions, notebooks = root / "solutions", root / "notebooks"
    try:
        if args.list:
            return _list(solutions, args.notebooks)
        if args.check:
            problems = R.stale_notebooks(solutions, notebooks, args.notebooks)
            for problem in problems:
                print(problem, file=sys.stderr)
            if problems:
                print("run `gdcourse release` to regenerate notebooks/", file=sys.stderr)
                return 1
            print("notebooks/ is up to date")
            return 0
        changed = R.release(solutions, notebooks, args.notebooks)
    except R.ReleaseError as err:
        print(f"gdcourse release: {err}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"wrote {path}")
    if not changed:
        print("notebooks/ already up to date")
    return 0


def _list(solutions, names) -> int:
    from gdcourse.course import release as R

    rows = R.list_exercises(solutions, names)
    total = 0.0
    for ex in rows:
        print(f"{ex.notebook:32s} {ex.grade_id:32s} {ex.kind:8s} {ex.points:g}")
        total += ex.points
    print(f"{len(rows)} cells, {total:g} points")
    return 0
