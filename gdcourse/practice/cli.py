"""``gdcourse practice`` and ``gdcourse cheatsheet``.

::

    gdcourse practice [--mode flashcards|learn|test|match|mock] [--topic T ...] [--level L ...]
                      [-n N] [--seed S] [--until YYYY-MM-DD] [--stats] [--export FILE.csv]
    gdcourse cheatsheet [--out DIR] [--topic T ...] [--weak [GRADE]]

Bad arguments (unknown topic or level, N <= 0, a negative seed, a date that is not
YYYY-MM-DD) and flags that contradict each other (``--stats --mode mock``) exit with
status 2 and a message on stderr, before anything is opened or written.

``GDCOURSE_NOW=2025-03-02T09:00`` (an ISO date and time) sets the clock of the progress
store, to rehearse an exam-date plan day by day or to test; unset, the real clock is used.

Building the parsers imports only the bank's constants: the engines, the store and
the terminal (NumPy, SQLite) are imported when a command runs, so
``gdcourse practice --help`` answers at once.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import shutil
import sys
from pathlib import Path

from gdcourse import bank as bank_module
from gdcourse.bank import LEVELS, TOPICS, BankError

__all__ = ["add_command", "build_parser", "main", "run_cheatsheet", "run_practice"]

DEFAULT_N = {"flashcards": 20, "learn": 8, "test": 10, "match": 6, "mock": 5}
SEEDED = ("learn", "test", "match", "mock")
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


def _date(text: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from None


def configure_practice_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--mode", choices=tuple(DEFAULT_N),
                        help="flashcards (spaced repetition, default), learn (each card in changing forms until "
                             "right twice), test (scored items that need knowledge), match (terms and "
                             "definitions against the clock) or mock (timed mock interview)")
    parser.add_argument("--topic", nargs="+", action="extend", type=_topic, metavar="T",
                        help=f"only these topics ({', '.join(TOPICS)}); repeatable")
    parser.add_argument("--level", nargs="+", action="extend", type=_level, metavar="L",
                        help=f"only these levels ({', '.join(LEVELS)}); repeatable")
    parser.add_argument("-n", type=_positive_int, metavar="N",
                        help="cards (flashcards 20, learn 8), items (test 10), pairs (match 6) or main "
                             "questions (mock 5)")
    parser.add_argument("--seed", type=_seed, metavar="S",
                        help="seed of the learn, test, match or mock draw (default: a random one, shown so "
                             "the same draw can be replayed)")
    parser.add_argument("--until", type=_date, metavar="YYYY-MM-DD",
                        help="your interview date: flashcards follow a plan that fits due and new cards into "
                             "the days left and reviews ahead; with --stats, show the plan")
    parser.add_argument("--stats", action="store_true",
                        help="show cards due, results of every mode, retention by topic and the trend, then exit")
    parser.add_argument("--export", type=Path, metavar="FILE.csv",
                        help="write every answer so far (question, your answer, result) to a CSV file, then exit")
    parser.add_argument("--bank", type=Path, metavar="DIR", help=argparse.SUPPRESS)
    return parser


def add_command(subparsers) -> None:
    practice = subparsers.add_parser(
        "practice", help="drill interview questions: flashcards, learn, test, match, mock interview",
        description="Practise the course's interview questions in the terminal. Progress is saved in "
                    "$GDCOURSE_HOME (default: $XDG_DATA_HOME/gdcourse or ~/.local/share/gdcourse).")
    configure_practice_parser(practice).set_defaults(run=run_practice)
    cheatsheet = subparsers.add_parser(
        "cheatsheet", help="write a printable cheat sheet: one A4 page per topic, formulas rendered",
        description="Write cheatsheet.html (one printable A4 page per topic, math as MathML) and one Markdown "
                    "page per topic.")
    cheatsheet.add_argument("--out", type=Path, default=Path("cheatsheet"), metavar="DIR",
                            help="output directory (default: ./cheatsheet)")
    cheatsheet.add_argument("--topic", nargs="+", action="extend", type=_topic, metavar="T",
                            help="only these topics (default: all)")
    cheatsheet.add_argument("--weak", nargs="?", const=4, type=int, choices=range(1, 6), metavar="GRADE",
                            help="only cards whose last flashcard grade is below GRADE (default 4), or missed "
                                 "in a test or mock interview since")
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
    return Console(input_fn, out, width=max(40, min(WIDTH, columns - 2)), height=max(8, rows))


def _clock_from_environment(err):
    """A fixed clock from ``GDCOURSE_NOW``; None when unset; False (after a message) when unreadable."""
    import os

    text = os.environ.get("GDCOURSE_NOW", "").strip()
    if not text:
        return None
    try:
        moment = _dt.datetime.fromisoformat(text)
    except ValueError:
        print(f"gdcourse practice: error: GDCOURSE_NOW: expected an ISO date and time such as "
              f"2025-03-02T09:00, got {text!r}", file=err)
        return False
    return lambda: moment


def conflicts(args) -> str | None:
    """Why these flags cannot go together, or None."""
    report = [flag for flag, on in (("--stats", args.stats), ("--export", args.export)) if on]
    if report:
        extra = [flag for flag, on in (("--mode", args.mode), ("-n", args.n), ("--seed", args.seed is not None))
                 if on]
        if extra:
            return (f"{' and '.join(report)} report on every mode and exit; {', '.join(extra)} "
                    f"would be ignored: drop {' and '.join(extra)}")
        if args.until and not args.stats:
            return "--until with --export: the plan is shown by --stats, not exported"
        return None
    mode = args.mode or "flashcards"
    if args.seed is not None and mode not in SEEDED:
        return f"--seed changes only --mode {', '.join(SEEDED)}; flashcards follow your schedule"
    if args.until and mode != "flashcards":
        return f"--until plans flashcards (and --stats shows the plan); it does not apply to --mode {mode}"
    return None


def run_practice(args, *, bank=None, input_fn=None, out=None, err=None, now=None, clock=None,
                 console=None, material=None) -> int:
    """Run the sub-command; the keyword arguments let tests script the terminal, the clocks and the test material."""
    from gdcourse.practice.store import ProgressStore, StoreError

    out, err = out or sys.stdout, err or sys.stderr
    problem = conflicts(args)
    if problem:
        print(f"gdcourse practice: error: {problem}", file=err)
        return 2
    bank = bank if bank is not None else _load_bank(args, err)
    if bank is None:
        return 1
    now = now or _clock_from_environment(err)
    if now is False:
        return 2
    try:
        store = ProgressStore(now=now, on_message=lambda text: print(text, file=err))
    except (StoreError, OSError) as error:
        print(f"gdcourse: {error}", file=err)
        return 1
    if args.until and args.until < store.today():
        print(f"gdcourse practice: error: --until {args.until} is in the past (today is {store.today()})", file=err)
        return 2
    with store:
        if args.stats or args.export:
            return _report(args, bank, store, out, err, _console(input_fn, out) if console is None else console)
        if store.read_only:
            print(f"gdcourse practice: cannot practise: your answers could not be saved ({store.read_only}). "
                  f"--stats and --export still work; set GDCOURSE_HOME to a writable directory to practise.",
                  file=err)
            return 1
        if material is None and args.bank:
            from gdcourse.practice.items import load_material

            material = load_material(bank, args.bank / "distractors")
        return _practise(args, bank, store, console or _console(input_fn, out), err, clock, material)


def _practise(args, bank, store, console, err, clock, material) -> int:
    import secrets

    mode = args.mode or "flashcards"
    n = args.n or DEFAULT_N[mode]
    if mode == "flashcards":
        from gdcourse.practice.flashcards import FlashcardSession
        from gdcourse.practice.terminal import run_flashcards

        return run_flashcards(FlashcardSession(bank, store, topics=args.topic, levels=args.level, limit=n,
                                               until=args.until), console)
    from gdcourse.practice.empty import available, why_empty

    count = available(mode, bank, args.topic, args.level, material)
    if count == 0:
        print(f"gdcourse practice: error: {why_empty(mode, bank, args.topic, args.level, material)}", file=err)
        return 2
    if n > count and args.n is not None:
        print(f"gdcourse practice: only {count} match these filters; using {count} instead of {n}", file=err)
    n = min(n, count)
    seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
    filters = {"topics": args.topic, "levels": args.level, "rng": seed, "store": store}
    if mode == "mock":
        from gdcourse.practice.interview import MockInterview
        from gdcourse.practice.terminal import run_mock

        return run_mock(MockInterview(bank, n=n, clock=clock, report_dir=store.path.parent / "interviews",
                                      **filters), console)
    from gdcourse.practice import drills

    if mode == "test":
        from gdcourse.practice.quiz import TestSession

        return drills.run_test(TestSession(bank, n=n, material=material, **filters), console)
    if mode == "learn":
        from gdcourse.practice.learn import LearnSession

        return drills.run_learn(LearnSession(bank, n=n, material=material, **filters), console)
    from gdcourse.practice.match import MatchRound

    return drills.run_match(MatchRound(bank, size=n, clock=clock, **filters), console)


def _report(args, bank, store, out, err, console) -> int:
    from gdcourse.practice.drills import show_stats
    from gdcourse.practice.selection import select_entries

    entries = select_entries(bank, args.topic, args.level)
    if args.stats:
        plan = None
        if args.until:
            from gdcourse.practice.plan import make_plan

            plan = make_plan(entries, store.card_states(), store.today(), args.until,
                             again=store.failed_today(), missed=store.missed_since_review())
        topics = args.topic or [t for t in TOPICS if any(entry.topic == t for entry in bank)]
        show_stats(store.stats([entry.id for entry in entries]), console, store.path, topics=topics, plan=plan)
    if args.export:
        try:
            rows = store.export_csv(args.export, bank=bank, topics=args.topic)
        except (FileNotFoundError, IsADirectoryError) as error:
            print(f"gdcourse practice: cannot write {args.export}: {error}", file=err)
            return 1
        except OSError as error:
            print(f"gdcourse practice: cannot write {args.export}: {error.strerror or error}", file=err)
            return 1
        what = f" for {', '.join(args.topic)}" if args.topic else ""
        print(f"Wrote {rows} row(s){what} to {args.export}", file=out)
    return 0


def run_cheatsheet(args, *, bank=None, out=None, err=None, now=None) -> int:
    from gdcourse.practice.cheatsheet import weak_ids, write_cheatsheet

    out, err = out or sys.stdout, err or sys.stderr
    bank = bank if bank is not None else _load_bank(args, err)
    if bank is None:
        return 1
    topics = getattr(args, "topic", None)
    ids = None
    if getattr(args, "weak", None):
        from gdcourse.practice.store import ProgressStore, StoreError

        try:
            with ProgressStore(now=now, on_message=lambda text: print(text, file=err)) as store:
                ids = weak_ids(store, args.weak)
        except (StoreError, OSError) as error:
            print(f"gdcourse cheatsheet: {error}", file=err)
            return 1
        chosen = [entry for entry in bank if entry.id in ids and (not topics or entry.topic in topics)]
        if not chosen:
            print(f"gdcourse cheatsheet: no weak card (last flashcard grade below {args.weak}, or missed in a test "
                  f"or mock interview since){' in ' + ', '.join(topics) if topics else ''}: nothing to write",
                  file=err)
            return 1
    try:
        paths = write_cheatsheet(bank, args.out, topics=topics, ids=ids)
    except OSError as error:
        print(f"gdcourse cheatsheet: cannot write to {args.out}: {error}", file=err)
        return 1
    cards = "" if ids is None else f" ({len(ids)} weak card(s))"
    print(f"Wrote {paths[-1]} (one A4 page per topic{cards}) and {len(paths) - 1} Markdown page(s) in {args.out}",
          file=out)
    return 0


def main(argv=None, **io) -> int:
    """Parse ``argv`` as ``gdcourse practice`` would and run it (``io``: see :func:`run_practice`)."""
    args = build_parser().parse_args(argv)
    return run_practice(args, **io)
