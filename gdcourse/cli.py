"""The ``gdcourse`` command.

Each sub-command lives in the module that implements it, which registers it with a
function ``add_command(subparsers)`` (its arguments, description and ``run``).
This file only lists the commands with their one-line help, and imports a
command's module when that command is chosen: ``gdcourse --help`` imports none of
them (no NumPy, no Matplotlib), ``gdcourse practice --help`` only the practice
command's.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from gdcourse import __version__

# name -> (module whose add_command registers it, the line ``gdcourse --help`` shows), in listing order.
COMMANDS = {
    "bench": ("gdcourse.bench", "time one training step against the GEMM bound, plain NumPy and PyTorch"),
    "release": ("gdcourse.course.cli", "write the student notebooks in notebooks/ from solutions/"),
    "grade": ("gdcourse.course.cli", "grade submitted notebooks against solutions/ (sandboxed, in parallel)"),
    "practice": ("gdcourse.practice.cli", "drill interview questions: flashcards, learn, test, match, mock interview"),
    "cheatsheet": ("gdcourse.practice.cli", "write a printable cheat sheet: one A4 page per topic, formulas rendered"),
    "diagnose": ("gdcourse.diagnose", "diagnose a training run with one injected fault"),
    "cache": ("gdcourse.memo", "show, fill or empty the store of the notebooks' multi-seed experiments"),
    "lab": ("gdcourse.lab", "copy the student notebooks into a folder and open JupyterLab there"),
}
COMMAND_MODULES = list(dict.fromkeys(module for module, _ in COMMANDS.values()))


class _ChosenCommand(argparse._SubParsersAction):
    """Sub-parsers whose arguments are added when one of them is chosen, by its module's ``add_command``.

    argparse calls this action with ``[command, *its arguments]`` once it has read
    the command's name: that is the moment to import the command's module.
    (``_SubParsersAction`` is the class ``add_subparsers`` uses; subclassing it is the
    documented ``action=`` hook.)
    """

    def __call__(self, parser, namespace, values, option_string=None):
        if values and values[0] in COMMANDS:
            register(values[0], self._name_parser_map)
        super().__call__(parser, namespace, values, option_string)


class _Registered:
    """Stands in for the sub-parsers in a module's ``add_command``: hands back the parser already listed."""

    SETTINGS = ("description", "epilog", "formatter_class", "usage")

    def __init__(self, parsers):
        self.parsers = parsers

    def add_parser(self, name, **settings):
        if name not in self.parsers:
            raise KeyError(f"command {name!r} is registered by its module but not listed in gdcourse.cli.COMMANDS")
        parser = self.parsers[name]
        for key, value in settings.items():
            if key in self.SETTINGS:
                setattr(parser, key, value)
            elif key != "help":  # the help line is the one in COMMANDS (tests keep them equal)
                raise TypeError(f"add_parser: {key}= is not supported for lazily registered commands")
        return parser


def register(name: str, parsers) -> None:
    """Import the module of command ``name`` and let it add its arguments to ``parsers[name]`` (once)."""
    parser = parsers[name]
    if parser.get_default("run") is None:
        importlib.import_module(COMMANDS[name][0]).add_command(_Registered(parsers))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gdcourse",
        description="Gradient descent and neural-network training: the course's command line.",
    )
    parser.add_argument("--version", action="version", version=f"gdcourse {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", action=_ChosenCommand)
    for name, (_, help_line) in COMMANDS.items():
        subparsers.add_parser(name, help=help_line)
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
