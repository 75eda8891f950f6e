"""Plain-text views of a judged answer for the terminal: side by side, key points marked, typed input.

Free of any terminal state: each function returns lines (or reads through the
``ask`` callable it is given), so :mod:`gdcourse.practice.terminal` composes them
into screens and tests call them directly.
"""

from __future__ import annotations

import re
import textwrap

from gdcourse.bank import TOPICS
from gdcourse.practice.mathtext import to_unicode
from gdcourse.practice.selection import format_seconds

__all__ = ["GAP", "MARKS", "TYPE_HELP", "column_width", "marked_points", "parse_covered", "proposal_lines",
           "read_typed", "side_by_side", "summary_lines", "typed_lines"]

GAP = " | "
MARKS = {"covered": "[x]", "hint": "[h]", "missing": "[ ]"}
TYPE_HELP = ("Type your answer; an empty line ends it. Alone on a line: h hint, t time, q quit. "
             "Enter right away shows the model answer without typing (you then tick the key points).")


def _wrap(text: str, width: int, indent: str = "", hang: str | None = None, math: bool = True) -> list[str]:
    """``text`` wrapped to ``width``; its ``$…$`` math as Unicode unless ``math`` is False (typed text)."""
    return textwrap.wrap(to_unicode(text) if math else text, width, initial_indent=indent,
                         subsequent_indent=indent if hang is None else hang,
                         break_long_words=True, break_on_hyphens=False) or [indent.rstrip()]


def side_by_side(left: list[str], right: list[str], width: int, titles=("Your answer", "Model answer")) -> list[str]:
    """Two columns (already wrapped to ``column_width(width)``) under their titles, or stacked if narrow.

    ``left`` and ``right`` are lists of lines; below 60 columns the right one
    follows the left one instead.
    """
    column = column_width(width)
    if width < 60:
        return [titles[0] + ":", *left, "", titles[1] + ":", *right]
    rows = [f"{titles[0]:<{column}}{GAP}{titles[1]}", f"{'-' * column}{GAP}{'-' * column}"]
    for i in range(max(len(left), len(right))):
        a = left[i] if i < len(left) else ""
        b = right[i] if i < len(right) else ""
        rows.append(f"{a:<{column}}{GAP}{b}".rstrip())
    return rows


def column_width(width: int) -> int:
    """Width of one column of :func:`side_by_side` (the whole width when stacked)."""
    return width if width < 60 else (width - len(GAP)) // 2


def typed_lines(text: str, width: int) -> list[str]:
    """The typed answer wrapped to ``width``, keeping the candidate's line breaks."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        lines += _wrap(paragraph, width, math=False) if paragraph.strip() else [""]
    return lines


def marked_points(key_points, points, covered, hinted, width: int) -> list[str]:
    """The asked key points, numbered as in the bank, each marked covered, covered with a hint, or missing."""
    lines = [f"Key points ({MARKS['covered']} covered, {MARKS['hint']} with hint, {MARKS['missing']} missing):"]
    for i in points:
        state = "missing" if i not in covered else "hint" if i in hinted else "covered"
        lines += _wrap(key_points[i], width, indent=f"{MARKS[state]} {i + 1}. ", hang="       ")
    return lines


def proposal_lines(verdict, points, width: int) -> list[str]:
    """What the judge found and proposes, what is missing and what was said wrongly."""
    if not verdict.judged:
        return _wrap(f"Not judged: {verdict.note}.", width)
    found = [i for i in verdict.covered if i in points]
    missing = [i for i in points if i not in found]
    grade = verdict.grade_for(points)
    text = (f"The judge found {len(found)} of {len(points)} key point(s)"
            + (f" ({' '.join(str(i + 1) for i in found)})" if found else "")
            + f": proposed grade {grade}/5, {'pass' if grade >= 4 else 'fail'}.")
    lines = _wrap(text, width)
    if missing:
        lines += _wrap("Missing: " + "; ".join(f"{i + 1}. {verdict.points[i].key_point}" for i in missing), width,
                       hang="  ")
    for wrong in verdict.misconceptions:
        lines += _wrap(f"Said wrongly: {wrong}", width, hang="  ")
    return lines


def read_typed(ask, first: str, on_command) -> str:
    """Collect a multi-line typed answer starting with ``first`` (the reply already read).

    ``ask(prompt)`` reads the next line; a line that is exactly ``h``, ``t`` or
    ``q`` is passed to ``on_command(letter, text_so_far)`` instead of being kept
    (it may raise to stop). An empty line ends the answer; an empty first line
    means no typed answer (returns ``""``).
    """
    lines: list[str] = []
    reply = first
    while True:
        if reply.lower() in {"h", "t", "q"}:
            on_command(reply.lower(), "\n".join(lines))
        elif not reply:
            return "\n".join(lines)
        else:
            lines.append(reply)
        reply = ask("| " if lines else "> ")


def parse_covered(reply: str, allowed) -> list[int] | None:
    """'1 3', '1,3', 'a' (all asked) or 'n' (none) -> 0-based indices; None if not understood.

    ``allowed`` holds the 0-based indices asked (or their count, for all points).
    """
    allowed = list(range(allowed)) if isinstance(allowed, int) else list(allowed)
    reply = reply.strip().lower()
    if reply in {"a", "all"}:
        return allowed
    if not reply or reply in {"n", "none", "-"}:
        return []
    parts = re.split(r"[\s,]+", reply)
    if not all(part.isdigit() and int(part) - 1 in allowed for part in parts):
        return None
    return sorted({int(part) - 1 for part in parts})


def summary_lines(summary, width: int = 78, report_path=None) -> list[str]:
    """The end-of-interview summary as wrapped lines."""
    overall = "no answers" if summary.score is None else f"overall {summary.score:.0%}"
    lines = _wrap(f"Summary: {summary.answered} answer(s) ({summary.planned} main question(s) planned), "
                  f"{overall}, time {format_seconds(summary.seconds)}, {summary.hints_used} hint(s) used.", width)
    if summary.questions:
        lines += ["", "Answers (score, time / suggested, hints):"]
        for number, q in enumerate(summary.questions, start=1):
            kind = "" if q["kind"] == "main" else f" ({q['kind']})"
            lines += _wrap(f"{number}. {q['id']}{kind}: {q['score']:.0%}, {format_seconds(q['seconds'])} / "
                           f"{format_seconds(q['suggested'])}, {len(q['hints'])} hint(s)", width, "  ", "     ")
            lines += [w for hint in q["hints"] for w in _wrap(f"hint: {hint['text']}", width, "     ", "       ")]
            if q["hinted_points"]:
                lines += _wrap("with hint: " + "; ".join(q["hinted_points"]), width, "     ", "       ")
    if summary.by_topic:
        lines += ["", "Score by topic:"]
        lines += [f"  {topic:<5} {score:>4.0%}  ({count} answer{'s' if count != 1 else ''})"
                  for topic, (score, count) in summary.by_topic.items()]
    if summary.weakest:
        lines += [""] + _wrap("Weakest: " + "; ".join(f"{t} ({TOPICS.get(t, t)})" for t in summary.weakest),
                              width)
    if summary.review:
        lines += ["", "What to review:"]
        for item in summary.review:
            lines += _wrap(f"{item['id']} ({item['score']:.0%}): {item['prompt']}", width, "  ", "    ")
            if item["notebook"]:
                lines += _wrap(f"see {item['notebook']}", width, "    ", "      ")
            lines += _wrap("missed: " + "; ".join(item["missed"]), width, "    ", "      ")
    elif summary.answered:
        lines += ["", "Nothing to review: every answer covered at least 70% of its key points."]
    if report_path is not None:
        path = str(report_path)
        lines += ["", "Saved (with your typed answers) to:"] + [path[i:i + width] for i in range(0, len(path), width)]
    return lines
