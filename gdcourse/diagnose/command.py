"""``gdcourse diagnose``: play cases in a terminal, one screen of symptoms and one of the verdict each.

:func:`configure_parser` adds the options to a parser, :func:`run_diagnose` plays with parsed
arguments, :func:`add_command` registers the sub-command, :func:`main` runs it on its own.
"""

from __future__ import annotations

import argparse
import secrets
import sys

from gdcourse.diagnose.case import Case, generate
from gdcourse.diagnose.faults import FAULTS
from gdcourse.diagnose.render import ASCII_LEVELS, BLOCKS, choice_lines, outcome_lines, symptom_lines
from gdcourse.validate import whole_number

__all__ = ["configure_parser", "add_command", "run_diagnose", "main"]

DESCRIPTION = ("Train a small network with one injected fault, show what an engineer would see "
               "(loss curves, gradient norms, activation statistics) and ask for the cause. "
               "Answer with a number; q quits.")


def _fault_arg(text: str) -> str:
    name = text.strip().lower().replace("-", "_")
    if name not in FAULTS:
        raise argparse.ArgumentTypeError(f"unknown fault {text!r}; choose from {', '.join(FAULTS)}")
    return name


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the options of ``gdcourse diagnose`` to ``parser`` and return it."""
    parser.add_argument("--seed", type=whole_number, metavar="S",
                        help="case to start with (default: a random one, shown); Enter moves to S+1")
    parser.add_argument("--fault", type=_fault_arg, metavar="NAME",
                        help="only this fault (see --list); the seed still varies the runs")
    parser.add_argument("--list", action="store_true", help="list the faults and exit")
    return parser


def add_command(subparsers) -> None:
    parser = subparsers.add_parser("diagnose", help="diagnose a training run with one injected fault",
                                   description=DESCRIPTION)
    configure_parser(parser).set_defaults(run=run_diagnose)


def _charset(out) -> str:
    encoding = (getattr(out, "encoding", None) or "").lower().replace("-", "")
    return BLOCKS if encoding.startswith("utf") else ASCII_LEVELS


def _ask_choice(input_fn, out, count) -> int | None:
    """A number in 1…count from the learner; None for q. EOF and Ctrl-C propagate."""
    while True:
        text = input_fn(f"Your diagnosis (1-{count}, q to quit): ").strip().lower()
        if text in ("q", "quit", "exit"):
            return None
        if text.isdigit() and 1 <= int(text) <= count:
            return int(text)
        print(f"  Please type a number from 1 to {count}, or q.", file=out)


def _play(case: Case, input_fn, out, charset) -> bool:
    """Show one case and its outcome; False when the learner quits."""
    for line in symptom_lines(case.broken, case.seed, charset) + ["", "What is the most likely cause?"]:
        print(line, file=out)
    for line in choice_lines():
        print(line, file=out)
    choice = _ask_choice(input_fn, out, len(case.choices))
    if choice is None:
        return False
    print("", file=out)
    for line in outcome_lines(case, case.choices[choice - 1], charset):
        print(line, file=out)
    again = input_fn(f"Enter: next case (seed {case.seed + 1}) · q: quit ").strip().lower()
    return again not in ("q", "quit", "exit")


def run_diagnose(args, *, input_fn=None, out=None, err=None) -> int:
    """Run ``gdcourse diagnose``; ``input_fn``/``out``/``err`` let tests script the terminal.

    Exit status: 0 after q or end of input, 130 after Ctrl-C.
    """
    input_fn = input_fn or input
    out, err = out or sys.stdout, err or sys.stderr
    if args.list:
        for i, (name, fault) in enumerate(FAULTS.items(), 1):
            print(f"{i:>2}. {name:20} {fault.title}", file=out)
        return 0
    seed = args.seed if args.seed is not None else secrets.randbelow(10_000)
    charset = _charset(out)
    try:
        while True:
            print(f"Training case {seed}…", file=out, flush=True)
            if not _play(generate(seed, args.fault), input_fn, out, charset):
                return 0
            seed += 1
    except EOFError:
        print("", file=out)
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted", file=err)
        return 130


def main(argv=None, **io) -> int:
    """Parse ``argv`` as ``gdcourse diagnose`` would and run it (``io``: see :func:`run_diagnose`)."""
    parser = configure_parser(argparse.ArgumentParser(prog="gdcourse diagnose", description=DESCRIPTION))
    return run_diagnose(parser.parse_args(argv), **io)
