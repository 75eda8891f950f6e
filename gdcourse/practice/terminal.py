"""The terminal interface of ``gdcourse practice``: line-based, keyboard-driven, 80×24.

Every screen (header, text, prompt) fits 24 rows of 78 columns: text is wrapped
with :mod:`textwrap` and long answers are shown page by page. Math is shown as Unicode
text (:func:`~gdcourse.practice.mathtext.to_unicode`), never as raw LaTeX. The test,
Learn and Match screens and ``--stats`` are in :mod:`~gdcourse.practice.drills`. Input is read one
line at a time (``input()``), so it works in any terminal, over ssh, in tmux and
from a script. Each grade or answer is committed to the store as soon as it is
given, so Ctrl-C (exit status 130) or end of input (status 0) loses nothing.

On a real terminal the screen is cleared between cards and the mock interview's
clock ticks live in the top-right corner (a thread rewrites it once a second,
saving and restoring the cursor); elsewhere the elapsed time is printed with each
prompt instead.
"""

from __future__ import annotations

import builtins
import re
import sys
import textwrap
import threading

from gdcourse.practice import answer_view as view
from gdcourse.practice.answer_view import summary_lines  # noqa: F401  (its former home)
from gdcourse.practice.flashcards import REPEAT_BELOW, FlashcardSession
from gdcourse.practice.interview import FOLLOW_UP_THRESHOLD, MockInterview
from gdcourse.practice.mathtext import to_unicode
from gdcourse.practice.selection import format_seconds
from gdcourse.practice.sm2 import GRADE_MEANINGS

__all__ = [
    "Console",
    "QuitSession",
    "run_flashcards",
    "run_mock",
    "paginate",
    "wrap_markdown",
]

WIDTH = 78
HEIGHT = 24
EXIT_INTERRUPTED = 130
TIMER_COLUMNS = 19  # "12:34 / 4:00 (over)"


class QuitSession(Exception):
    """The user typed q."""


# ---------------------------------------------------------------------- text layout
_LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+")
_FENCE = re.compile(r"^\s*(```|~~~)")
_EMPHASIS = re.compile(r"(?<![\w*])(\*\*|__)(\S(?:.*?\S)?)\1(?![\w*])")


def _hard_wrap(line: str, width: int) -> list[str]:
    return [line[i:i + width] for i in range(0, len(line), width)] or [""]


def wrap_markdown(text: str, width: int = WIDTH) -> list[str]:
    """Wrap Markdown text to ``width`` columns, keeping its structure readable.

    Paragraphs are re-flowed, list items keep a hanging indent, fenced code is
    kept as it is (cut at ``width``), blank lines separate blocks (never two in a row).
    """
    lines: list[str] = []
    block: list[str] = []  # lines of the current paragraph or list item
    indent = ""            # hanging indent of the current list item
    in_code = False

    def flush():
        nonlocal block, indent
        if block:
            first = block[0]
            match = _LIST_ITEM.match(first)
            joined = " ".join(part.strip() for part in block)
            if match:
                hang = " " * len(match.group(0))
                lines.extend(textwrap.wrap(joined, width, initial_indent=match.group(1),
                                           subsequent_indent=hang, break_on_hyphens=False) or [""])
            else:
                lines.extend(textwrap.wrap(joined, width, break_on_hyphens=False) or [""])
        block, indent = [], ""

    for raw in to_unicode(text).strip("\n").splitlines():
        line = raw.rstrip()
        if not in_code and not _FENCE.match(line):
            line = _EMPHASIS.sub(r"\2", line)  # **bold** and __bold__ read as plain text here
        if _FENCE.match(line):
            flush()
            in_code = not in_code
            lines.extend(_hard_wrap(line, width))
            continue
        if in_code:
            lines.extend(_hard_wrap(line, width))
            continue
        if not line.strip():
            flush()
            if lines and lines[-1] != "":
                lines.append("")
            continue
        if _LIST_ITEM.match(line) or line.lstrip().startswith("#"):
            flush()
            block = [line]
            if line.lstrip().startswith("#"):
                flush()
            continue
        block.append(line)
    flush()
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def _wrap(text: str, width: int, indent: str = "", hang: str | None = None) -> list[str]:
    """``text`` (its math as Unicode) wrapped to ``width`` with an indent and a hanging indent."""
    text = to_unicode(text)
    return textwrap.wrap(text, width, initial_indent=indent,
                         subsequent_indent=indent if hang is None else hang, break_on_hyphens=False) or [""]


# ---------------------------------------------------------------------- console
class Console:
    """Line-based terminal I/O with paging.

    Parameters
    ----------
    input_fn : callable() -> str, optional
        Reads one line (default: the built-in ``input``). Tests pass a function
        that returns scripted lines and raises ``EOFError``/``KeyboardInterrupt``.
    out : text stream, optional
        Where screens go (default ``sys.stdout``).
    width, height : int
        Usable columns (78 leaves a margin on an 80-column terminal) and rows.
    live : bool, optional
        Clear between screens and tick the interview clock in place; default:
        whether ``out`` is a terminal.
    """

    def __init__(self, input_fn=None, out=None, *, width: int = WIDTH, height: int = HEIGHT, live=None):
        self.out = out or sys.stdout
        self._input = input_fn
        self.width, self.height = width, height
        if live is None:
            live = bool(getattr(self.out, "isatty", lambda: False)())
        self.live = live
        self.lock = threading.Lock()

    def write(self, text: str = "") -> None:
        with self.lock:
            self.out.write(text + "\n")
            self.out.flush()

    def lines(self, lines) -> None:
        with self.lock:
            self.out.write("".join(line + "\n" for line in lines))
            self.out.flush()

    def ask(self, prompt: str) -> str:
        """Show ``prompt``, read a line; EOFError and KeyboardInterrupt propagate.

        The prompt is written to ``out`` by us, not passed to ``input()``, which
        would send it to stderr when the readline module is not loaded.
        """
        with self.lock:
            self.out.write(prompt)
            self.out.flush()
        reader = self._input or builtins.input
        return reader().strip()

    def clear(self) -> None:
        if self.live:
            with self.lock:
                self.out.write("\033[H\033[2J")
                self.out.flush()

    def rule(self) -> str:
        return "-" * self.width

    def screen(self, header: str, body: list[str], prompt: str, tail=()) -> str:
        """Show a header, a body (paged when needed) and a prompt; return the answer.

        A page holds ``height - 4`` lines: the header, the rule and the prompt take
        three rows and one stays free for a message, so nothing scrolls off a
        24-row terminal. ``tail`` lines (what the prompt asks about, such as the key
        points to tick) are kept together on the last page, beside the prompt.
        Between pages: Enter for the next page, ``s`` to skip to the last page,
        ``q`` to quit.
        """
        per_page = max(3, self.height - 4)
        tail = list(tail)
        pages = paginate(body, per_page)
        if tail and len(pages[-1]) + len(tail) > per_page:
            while tail and tail[0] == "":
                tail.pop(0)
            pages += paginate(tail, per_page)
        else:
            pages[-1] = pages[-1] + tail
        number = 0
        while number < len(pages) - 1:
            self.clear()
            self.lines([_fit(header, self.width), self.rule(), *pages[number]])
            keys = "Enter next page, s skip to the end, q quit" if self.width >= 70 else "Enter, s end, q quit"
            reply = self.ask(f"-- more ({number + 1}/{len(pages)}): {keys} -- ").lower()
            if reply == "q":
                raise QuitSession
            number = len(pages) - 1 if reply == "s" else number + 1
        self.clear()
        self.lines([_fit(header, self.width), self.rule(), *pages[-1]])
        return self.ask(prompt)


def paginate(lines: list[str], per_page: int) -> list[list[str]]:
    """Split ``lines`` into pages of at most ``per_page`` lines.

    A page ends after a blank line when one falls in its second half, so a
    heading is not cut from its text; blank lines at the top of a page are dropped.
    """
    pages, rest = [], list(lines)
    while len(rest) > per_page:
        cut = per_page
        blanks = [i for i in range(per_page // 2, per_page) if rest[i] == ""]
        if blanks:
            cut = blanks[-1] + 1
        pages.append(rest[:cut])
        rest = rest[cut:]
        while rest and rest[0] == "":
            rest.pop(0)
    pages.append(rest)
    return pages


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def _header(left: str, right: str, width: int) -> str:
    left = _fit(left, width - len(right) - 1)
    return left + " " * (width - len(left) - len(right)) + right


# ---------------------------------------------------------------------- flashcards
def _card_header(session: FlashcardSession, card, width: int) -> str:
    graded = {card_id for card_id, _, _ in session.graded}
    total = len(graded | {c.entry.id for c in session._queue})
    number = len(graded | {card.entry.id})
    entry = card.entry
    return _header(f"Flashcards | {entry.id} | {entry.topic} | {entry.level} | {card.reason}",
                   f"card {number}/{total}", width)


def _answer_lines(entry, width: int) -> list[str]:
    """The model answer, its formula and the common mistake (the key points come separately)."""
    lines = ["Answer:"] + wrap_markdown(entry.answer, width)
    if entry.formula:
        lines += ["", "Formula:"] + _wrap(f"${entry.formula}$", width, indent="  ")
    if entry.common_mistake:
        lines += ["", "Common mistake:"] + _wrap(entry.common_mistake, width, indent="  ")
    return lines


def _key_point_lines(entry, width: int) -> list[str]:
    lines = ["Key points:"]
    for number, point in enumerate(entry.key_points, start=1):
        lines += _wrap(point, width, indent=f"  {number}. ", hang="     ")
    return lines


GRADE_PROMPT = "Grade 0-5 (0 blank .. 3 hard .. 5 perfect; ? help, q quit): "


def run_flashcards(session: FlashcardSession, console: Console) -> int:
    """Show each card, reveal, read a grade; return the exit status."""
    if session.finished:
        when = f"; next review on {session.next_due}" if session.next_due else ""
        console.write(f"Nothing to review: no card is due and there are no new cards for these filters{when}.")
        return 0
    status = [f"{session.due_count} due and {session.new_count} new card(s); each grade is saved at once.", ""]
    try:
        while not session.finished:
            card = session.current
            header = _card_header(session, card, console.width)
            prompt_lines = status + _wrap(card.entry.prompt, console.width)
            help_lines = ["Enter: show the answer | or type your answer, an empty line ends it | q: quit"]
            first = console.screen(header, prompt_lines + [""] + help_lines, "> ")
            typed = view.read_typed(console.ask, first, _flashcard_command)
            if typed:
                verdict = session.answer(typed)
                body, tail = _judged_screen(card.entry, verdict, range(len(card.entry.key_points)), (), console)
                grade = _read_grade(console, header, body, tail, default=verdict.proposed_grade
                                    if verdict.judged else None)
            else:
                session.reveal()
                body = _wrap(card.entry.prompt, console.width) + [""] + _answer_lines(card.entry, console.width)
                tail = [""] + _key_point_lines(card.entry, console.width) + [""]
                grade = _read_grade(console, header, body, tail)
            state = session.grade(grade)
            status = _graded_lines(card, grade, state, console.width)
    except QuitSession:
        return _end_flashcards(session, console, "quit", 0)
    except EOFError:
        return _end_flashcards(session, console, "interrupted", 0)
    except KeyboardInterrupt:
        return _end_flashcards(session, console, "interrupted", EXIT_INTERRUPTED)
    return _end_flashcards(session, console, "finished", 0)


def _graded_lines(card, grade: int, state, width: int) -> list[str]:
    if card.reason == "repeat":
        text = f"Saved {card.entry.id}: repeat graded {grade} (the schedule keeps today's first grade)"
    else:
        text = f"Saved {card.entry.id}: grade {grade}; next review {state.due} (in {state.interval} d)"
    if grade < REPEAT_BELOW:
        text += (f"; it comes back at the end of this session until you grade it {REPEAT_BELOW} or more "
                 f"(and in your next session today if you stop first)")
    return _wrap(text + ".", width) + [""]


def _flashcard_command(letter: str, _text: str) -> None:
    if letter == "q":
        raise QuitSession


def _judged_screen(entry, verdict, points, hinted, console: Console) -> tuple[list[str], list[str]]:
    """Body (typed answer beside the model answer) and tail (key points marked, the judge's proposal)."""
    column = view.column_width(console.width)
    body = _wrap(entry.prompt, console.width) + [""] + view.side_by_side(
        view.typed_lines(verdict.text, column), _answer_lines(entry, column)[1:], console.width)
    covered = set(verdict.covered) if verdict.judged else set()
    tail = [""] + view.marked_points(entry.key_points, list(points), covered, set(hinted), console.width)
    return body, tail + [""] + view.proposal_lines(verdict, list(points), console.width) + [""]


def _read_grade(console: Console, header: str, body: list[str], tail: list[str], default=None) -> int:
    prompt = GRADE_PROMPT if default is None else f"Grade 0-5, Enter accepts {default} (? help, q quit): "
    reply = console.screen(header, body, prompt, tail)
    while True:
        if reply.lower() == "q":
            raise QuitSession
        if reply == "" and default is not None:
            return default
        if reply in {"0", "1", "2", "3", "4", "5"}:
            return int(reply)
        if reply == "?":
            console.lines(f"  {grade}: {meaning}" for grade, meaning in GRADE_MEANINGS.items())
        else:
            console.write("Please type a grade from 0 to 5 (or ? for help, q to quit).")
        reply = console.ask(prompt)


def _end_flashcards(session: FlashcardSession, console: Console, status: str, code: int) -> int:
    session.close(status)
    summary = session.summary()
    console.write("")
    verb = "Done" if status == "finished" else "Stopped"
    console.lines(_wrap(f"{verb}: {summary['cards']} card(s) graded, {summary['passed']} passed; "
                        f"{len(session.graded)} grade(s) saved.", console.width))
    return code


# ---------------------------------------------------------------------- mock interview
class _LiveClock:
    """Rewrite the interview clock in the top-right corner once a second (terminals only)."""

    def __init__(self, console: Console, interview: MockInterview, interval: float = 1.0):
        self.console, self.interview, self.interval = console, interview, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gdcourse-clock", daemon=True)

    def start(self) -> _LiveClock:
        if self.console.live:
            self._thread.start()
        return self

    def _run(self):
        while not self._stop.wait(self.interval):
            text = f"{self.interview.timer_text():>{TIMER_COLUMNS}}"
            column = self.console.width - len(text) + 1
            with self.console.lock:
                self.console.out.write(f"\0337\033[1;{column}H{text}\0338")
                self.console.out.flush()

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def _question_header(interview: MockInterview, width: int) -> str:
    q = interview.current
    kind = q.kind if q.kind != "main" else f"Q{interview.main_number}/{interview.planned}"
    left = f"Mock interview | {q.entry.id} | {q.entry.topic} | {q.entry.level}"
    # the number stays when the left is cut; the live clock rewrites only the last TIMER_COLUMNS
    return _header(left, f"{kind} {interview.timer_text():>{TIMER_COLUMNS}}", width)


def run_mock(interview: MockInterview, console: Console) -> int:
    """Run a mock interview to its summary; return the exit status."""
    seed = f", seed {interview.seed}" if interview.seed is not None else ""
    intro = _wrap(f"Mock interview: {interview.planned} question(s){seed}. Type each answer as you would say "
                  f"it (several lines; an empty line ends it), or answer out loud and press Enter. The clock "
                  f"starts when the question appears (suggested: easy 1 min, medium 2, hard 4). Hints come as a "
                  f"ladder: a nudge, then key words, then the point, which then counts half. The judge marks the "
                  f"key points your typed answer covers; you may correct it. {FOLLOW_UP_THRESHOLD:.0%} or more "
                  f"earns a follow-up question, less a probe on what you missed.", console.width)
    status: list[str] = []
    clock = None
    try:
        if console.screen("Mock interview", intro, "Enter: start | q: quit > ").lower() == "q":
            raise QuitSession
        interview.current.started = interview.clock()  # the clock starts now, not at construction
        while not interview.finished:
            clock = _LiveClock(console, interview).start()
            typed = _ask_question(interview, console, status)
            clock.stop()
            covered = _read_covered(interview, console, typed)
            answered = interview.submit(covered)
            status = _result_lines(interview, answered, console.width)
    except QuitSession:
        return _end_mock(interview, console, clock, status, "interrupted", 0)
    except EOFError:
        return _end_mock(interview, console, clock, status, "interrupted", 0)
    except KeyboardInterrupt:
        return _end_mock(interview, console, clock, status, "interrupted", EXIT_INTERRUPTED)
    return _end_mock(interview, console, clock, status, "finished", 0)


def _ask_question(interview: MockInterview, console: Console, status: list[str]) -> str:
    """Show the question; return the typed answer ('' when the candidate answered out loud)."""
    q = interview.current

    def command(letter: str, text: str) -> None:
        if letter == "q":
            raise QuitSession
        if letter == "t":
            console.write(f"[{interview.timer_text()}]")
        else:
            console.lines(_wrap(f"Hint {len(q.hints) + 1}: {interview.hint(text)}", console.width, hang="  "))

    body = status + _wrap(q.prompt, console.width) + [""] + _wrap(view.TYPE_HELP, console.width)
    first = console.screen(_question_header(interview, console.width), body, f"[{interview.timer_text()}] > ")
    return view.read_typed(console.ask, first, command)


def _read_covered(interview: MockInterview, console: Console, typed: str):
    """Judge the typed answer (or reveal) and read the covered points; None accepts the judge's proposal."""
    q = interview.current
    header = _question_header(interview, console.width)
    if typed:
        verdict = interview.answer(typed)
        body, tail = _judged_screen(q.entry, verdict, q.points, q.hinted, console)
        how = "Enter accepts the judge's points; or type the numbers you covered (e.g. 1 3), a for all, n for none"
    else:
        entry = interview.reveal()
        verdict = None
        body = _wrap(q.prompt, console.width) + [""] + _answer_lines(entry, console.width)
        tail = [""] + view.marked_points(entry.key_points, q.points, set(), set(q.hinted), console.width) + [""]
        how = "Which key points did your answer cover? Type their numbers (e.g. 1 3), a for all, Enter for none"
    tail += _wrap(f"{how}, q to quit.", console.width)
    reply = console.screen(header, body, "covered> ", tail)
    while True:
        if reply.lower() == "q":
            raise QuitSession
        if reply == "" and verdict is not None:
            return None
        covered = view.parse_covered(reply, q.points)
        if covered is not None:
            return covered
        numbers = " ".join(str(i + 1) for i in q.points)
        console.write(f"Please type numbers among {numbers}, a, or n for none.")
        reply = console.ask("covered> ")


def _result_lines(interview: MockInterview, q, width: int) -> list[str]:
    hinted = f", {len(q.with_hint)} with hint" if q.with_hint else ""
    text = (f"{q.entry.id}: {len(q.covered)}/{len(q.points)} key points{hinted} ({q.score:.0%}) in "
            f"{format_seconds(q.seconds)} (suggested {format_seconds(q.suggested_seconds)}). Saved.")
    current = interview.current
    if current is not None and current.follow_up_of == q.entry.id:
        text += (" Good answer: here is a follow-up." if current.kind == "follow-up"
                 else " Some key points are missing: one more question on them.")
    return _wrap(text, width) + [""]


def _end_mock(interview: MockInterview, console: Console, clock, last: list[str], status: str, code: int) -> int:
    if clock is not None:
        clock.stop()
    summary = interview.close(status)
    if summary.answered == 0:
        console.write("")
        console.write("Stopped before any answer: nothing saved.")
        return code
    lines = last + view.summary_lines(summary, console.width, interview.report_path)
    try:
        console.screen("Mock interview: summary", lines, "Enter: finish > ")
    except (EOFError, KeyboardInterrupt, QuitSession):
        console.write("")
    return code
