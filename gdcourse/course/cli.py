"""``gdcourse release``: write (or check) the student notebooks."""

from __future__ import annotations

import sys
from pathlib import Path


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
