"""The feedback file a student gets: each exercise, its points, and what the visible tests said.

It is built from the gradebook rows only, whose messages come from the visible
part of each test cell (see :mod:`gdcourse.course.testcell`): nothing of the
hidden tests is in it. Every text is HTML-escaped (messages quote the
student's own values).
"""

from __future__ import annotations

import hashlib
import html

__all__ = ["render_feedback", "feedback_filename"]

_STATUS_COLORS = {"passed": "#1a7f37", "not done": "#9a6700"}

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #1f2328; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: .4rem .6rem; text-align: left; vertical-align: top; }
td.points { white-space: nowrap; }
pre { white-space: pre-wrap; margin: 0; font-size: .9em; }
.note { color: #57606a; }
"""


_LITERAL = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")
MAX_NAME_CHARS = 200


def feedback_filename(student) -> str:
    """The feedback file of ``student``: one name per student, never shared (an injective mapping).

    Lower-case ASCII letters, digits, ``-``, ``_`` and ``.`` (not first) stay
    as they are; every other byte of the UTF-8 name, ``%`` and capitals
    included, is written ``%XX``, so the name can be decoded back and two
    students differing only in case get different files on a case-insensitive
    disk too. A name longer than 200 characters keeps its first 160 and adds
    ``~`` and the SHA-256 of the exact name (``~`` never appears otherwise).
    """
    encoded = "".join(chr(b) if chr(b) in _LITERAL and not (i == 0 and b == ord(".")) else f"%{b:02X}"
                      for i, b in enumerate(student.encode("utf-8", "surrogatepass")))
    if not encoded:
        encoded = "%"  # the empty name: no other name encodes to a lone "%"
    if len(encoded) > MAX_NAME_CHARS:
        encoded = encoded[:160] + "~" + hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{encoded}.html"


def _g(value) -> str:
    return f"{value:g}"


def _exercise_rows(rows) -> str:
    out = []
    for row in rows:
        color = _STATUS_COLORS.get(row["status"], "#cf222e")
        message = html.escape(row["message"] or "")
        out.append(
            f"<tr><td>{html.escape(row['grade_id'])}</td>"
            f"<td class='points'>{_g(row['points'])} / {_g(row['max_points'])}</td>"
            f"<td style='color:{color}'>{html.escape(row['status'])}</td>"
            f"<td><pre>{message}</pre></td></tr>")
    return "\n".join(out)


def _notebook_section(submission, rows) -> str:
    name = html.escape(submission["notebook"])
    head = (f"<h2>{name}: {_g(submission['points'])} / {_g(submission['max_points'])} points</h2>"
            f"<p class='note'>graded {html.escape(submission['graded_at'])}</p>")
    parts = [head]
    if submission["status"] != "graded":
        parts.append(f"<p><b>{html.escape(submission['status'])}</b>: {html.escape(submission['error'])}</p>")
    for note in filter(None, submission.get("notes", "").split("\n")):
        parts.append(f"<p class='note'>Note: {html.escape(note)}</p>")
    if rows:
        header = "<tr><th>exercise</th><th>points</th><th>result</th><th>what the tests said</th></tr>"
        parts.append(f"<table>{header}\n{_exercise_rows(rows)}</table>")
    return "\n".join(parts)


def render_feedback(student, submissions, grades) -> str:
    """HTML for ``student``: ``submissions`` rows (dicts) and ``grades`` (notebook → list of row dicts)."""
    total = sum(s["points"] for s in submissions)
    max_total = sum(s["max_points"] for s in submissions)
    sections = "\n".join(_notebook_section(s, grades.get(s["notebook"], [])) for s in submissions)
    who = html.escape(student)
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>Feedback: {who}</title>"
            f"<style>{_STYLE}</style></head>\n<body>\n<h1>Feedback for {who}</h1>\n"
            f"<p>Total: <b>{_g(total)} / {_g(max_total)}</b> points.</p>\n{sections}\n</body></html>\n")
