"""``gdcourse practice`` and ``gdcourse cheatsheet``.

::

    gdcourse practice [--mode flashcards|mock|test] [--topic T ...] [--level L ...]
                      [-n N] [--seed S] [--stats] [--export FILE.csv]
    gdcourse cheatsheet [--out DIR]

Bad arguments (unknown topic or level, N <= 0, a negative seed) exit with status 2
and a message on stderr, before anything is opened or written.

Building the parsers imports only the bank's constants: the engines, the store and
the terminal (NumPy, SQLite) are imported when a command runs, so
``gdcourse practice --help`` answers at once.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
from pathlib import Path

from gdcourse import bank as bank_module
from gdcourse.bank import LEVELS, TOPICS, BankError

__all__ = ["add_command", "build_parser", "main", "run_cheatsheet", "run_practice"]

DEFAULT_N = {"flashcards": 20, "mock": 5, "test": 10}


def _topic(text: str) -> str:
    code = text.strip().upper()
    if code not in TOPICS:
        raise argparse.ArgumentTypeError(f"unknown topic {text!r}; choose from {', '.join(TOPICS)}")
    return code


def _level(text: str) -> str:
    name = text.strip().lower()
    if name not in LEVELS:
        raise argparse.ArgumentTypeError(f"unknown level {text!r}; choose from {', '.join(LEVELS)}")
    return name


def _seed(text: str) -> int:
    from gdcourse.validate import whole_number  # validate imports NumPy: only once a seed is given

    return whole_number(text)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def configure_practice_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--mode", choices=tuple(DEFAULT_N), default="flashcards",
                        help="flashcards (spaced repetition, default), mock (timed mock interview) or test "
                             "(multiple choice, scored automatically)")
    parser.add_argument("--topic", nargs="+", action="extend", type=_topic, metavar="T",
                        help=f"only these topics ({', '.join(TOPICS)}); repeatable")
    parser.add_argument("--level", nargs="+", action="extend", type=_level, metavar="L",
                        help=f"only these levels ({', '.join(LEVELS)}); repeatable")
    parser.add_argument("-n", type=_positive_int, metavar="N",
                        help="cards (flashcards, default 20), main questions (mock, default 5) or items "
                             "(test, default 10)")
    parser.add_argument("--seed", type=_seed, metavar="S",
                        help="seed of the mock-interview or test draw (default: a random one, shown)")
    parser.add_argument("--stats", action="store_true",
                        help="show cards due, retention by topic and your streak, then exit")
    parser.add_argument("--export", type=Path, metavar="FILE.csv",
                        help="write every answer so far to a CSV file, then exit")
    parser.add_argument("--bank", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    return parser


def add_command(subparsers) -> None:
    practice = subparsers.add_parser(
        "practice", help="drill the interview questions: flashcards, mock interview, test",
        description="Practise the course's interview questions in the terminal. Progress is saved in "
                    "$GDCOURSE_HOME (default: $XDG_DATA_HOME/gdcourse or ~/.local/share/gdcourse).")
    configure_practice_parser(practice).set_defaults(run=run_practice)
    cheatsheet = subparsers.add_parser(
        "cheatsheet", help="write a cheat sheet of the key points and formulas (Markdown and HTML)",
        description="Write one Markdown page per topic and one HTML file with every topic.")
    cheatsheet.add_argument("--out", type=Path, default=Path("cheatsheet"), metavar="DIR",
                            help="output directory (default: ./cheatsheet)")
    cheatsheet.add_argument("--bank", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    cheatsheet.set_defaults(run=run_cheatsheet)


def build_parser() -> argparse.ArgumentParser:
    """A stand-alone ``practice`` parser (tests and ``python -m gdcourse.practice``)."""
    return configure_practice_parser(argparse.ArgumentParser(prog="gdcourse practice"))


def _load_bank(args, err):
    try:
        return bank_module.load(args.bank) if args.bank else bank_module.load()
    except BankError as error:
        print(f"gdcourse: {error}", file=err)
        return None


def _console(input_fn, out):
    from gdcourse.practice.terminal import HEIGHT, WIDTH, Console

    columns, rows = shutil.get_terminal_size((WIDTH + 2, HEIGHT))
    return Console(input_fn, out, width=max(40, min(WIDTH, columns - 2)), height=max(12, rows))


def run_practice(args, *, bank=None, input_fn=None, out=None, err=None, now=None, clock=None,
                 console=None) -> int:
    """Run the sub-command; the keyword arguments let tests script the terminal and the clocks."""
    from gdcourse.practice.flashcards import FlashcardSession
    from gdcourse.practice.interview import MockInterview
    from gdcourse.practice.quiz import TestSession
    from gdcourse.practice.store import ProgressStore, StoreError
    from gdcourse.practice.terminal import run_flashcards, run_mock, run_test

    out, err = out or sys.stdout, err or sys.stderr
    bank = bank if bank is not None else _load_bank(args, err)
    if bank is None:
        return 1
    try:
        store = ProgressStore(now=now, on_message=lambda text: print(text, file=err))
    except (StoreError, OSError) as error:
        print(f"gdcourse: {error}", file=err)
        return 1
    console = console or _console(input_fn, out)
    with store:
        if args.stats or args.export:
            return _report(args, bank, store, console, out, err)
        n = args.n or DEFAULT_N[args.mode]
        if args.mode == "flashcards":
            if args.seed is not None:
                print("gdcourse practice: note: --seed only changes --mode mock and --mode test", file=err)
            return run_flashcards(FlashcardSession(bank, store, topics=args.topic, levels=args.level, limit=n),
                                  console)
        seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
        n = _clamp(args, bank, n, err)
        if n == 0:
            return 2
        if args.mode == "mock":
            interview = MockInterview(bank, n=n, topics=args.topic, levels=args.level, rng=seed, store=store,
                                      clock=clock, report_dir=store.path.parent / "interviews")
            return run_mock(interview, console)
        return run_test(TestSession(bank, n=n, topics=args.topic, levels=args.level, rng=seed, store=store),
                        console)


def _clamp(args, bank, n: int, err) -> int:
    """Fewer questions match than asked: say so and use what there is (0 if nothing matches)."""
    from gdcourse.practice.quiz import count_test_items
    from gdcourse.practice.selection import select_entries

    if args.mode == "mock":
        available = len(select_entries(bank, args.topic, args.level, follow_ups=False))
    else:
        available = count_test_items(bank, args.topic, args.level)
    if available == 0:
        print("gdcourse practice: error: no question matches these --topic/--level filters", file=err)
        return 0
    if n > available and args.n is not None:
        print(f"gdcourse practice: only {available} match these filters; using {available} instead of {n}",
              file=err)
    return min(n, available)


def _report(args, bank, store, console, out, err) -> int:
    from gdcourse.practice.selection import select_entries
    from gdcourse.practice.terminal import show_stats

    entries = select_entries(bank, args.topic, args.level)
    if args.stats:
        topics = args.topic or sorted({entry.topic for entry in bank}, key=list(TOPICS).index)
        show_stats(store.stats([entry.id for entry in entries]), console, store.path, topics=topics)
    if args.export:
        try:
            rows = store.export_csv(args.export)
        except OSError as error:
            print(f"gdcourse practice: cannot write {args.export}: {error}", file=err)
            return 1
        print(f"Wrote {rows} row(s) to {args.export}", file=out)
    return 0


def run_cheatsheet(args, *, bank=None, out=None, err=None) -> int:
    from gdcourse.practice.cheatsheet import write_cheatsheet

    out, err = out or sys.stdout, err or sys.stderr
    bank = bank if bank is not None else _load_bank(args, err)
    if bank is None:
        return 1
    try:
        paths = write_cheatsheet(bank, args.out)
    except OSError as error:
        print(f"gdcourse cheatsheet: cannot write to {args.out}: {error}", file=err)
        return 1
    print(f"Wrote {len(paths) - 1} Markdown page(s) and {paths[-1]} in {args.out}", file=out)
    return 0


def main(argv=None, **io) -> int:
    """Parse ``argv`` as ``gdcourse practice`` would and run it (``io``: see :func:`run_practice`)."""
    args = build_parser().parse_args(argv)
    return run_practice(args, **io)
