"""The ``gdcourse`` command.

Each sub-command lives in the module that implements it and registers itself
through a function ``add_command(subparsers)``; this file only lists them.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from gdcourse import __version__

# Modules that provide sub-commands, in the order ``gdcourse --help`` lists them.
COMMAND_MODULES = [
    "gdcourse.bench",
    "gdcourse.course.cli",
    "gdcourse.practice.cli",
    "gdcourse.diagnose",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gdcourse",
        description="Gradient descent and neural-network training: the course's command line.",
    )
    parser.add_argument("--version", action="version", version=f"gdcourse {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_command(subparsers)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
