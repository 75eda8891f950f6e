"""Cheat sheet: one printable A4 page per topic with every main question's key points and formula.

``gdcourse cheatsheet --out DIR`` writes ``DIR/cheatsheet.html`` (every topic, one A4 page
each when printed, math as MathML so any browser renders it offline) and ``DIR/<topic>.md``
(the same content as Markdown, math as Unicode text). ``--topic`` keeps some topics,
``--weak`` only the cards the learner is weak on (:func:`weak_ids`). Each file is
written atomically; all text is HTML-escaped.

One page per topic: the page is set in two columns and holds the topic's main questions in
full (key points, formula, the mistake to avoid); its follow-ups are named in one closing
line, so the page stays readable (at least 6.5 pt). With ``--weak`` the page holds exactly
the weak cards, follow-ups included. The font size of each topic is chosen from its amount
of text (:func:`font_points`) so it fits one A4 page; ``tests/test_practice_cheatsheet.py``
prints the HTML with Chromium, counts the pages and checks the smallest size. The Markdown
files hold every card.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from gdcourse.atomic import atomic_write
from gdcourse.bank import TOPICS
from gdcourse.practice.mathtext import latex_to_mathml, to_html, to_unicode

__all__ = ["cheatsheet_html", "font_points", "topic_markdown", "weak_ids", "write_cheatsheet"]

# The largest font that fits a topic on one A4 page is about FIT / sqrt(characters of sheet text)
# points (text area grows with the square of the size); FIT was measured with Chromium on the
# bank's topics (615-650) and is kept below with a margin.
BASE_POINTS = 8.0
FIT = 580.0

_CSS = """
@page { size: A4; margin: 8mm; }
body { font-family: system-ui, "DejaVu Sans", sans-serif; margin: 0; line-height: 1.18; color: #111; }
section { break-after: page; page-break-after: always; column-count: 2; column-gap: 5mm; }
section:last-of-type { break-after: auto; page-break-after: auto; }
h1 { column-span: all; font-size: 1.5em; margin: 0 0 0.3em; }
article { break-inside: avoid; margin: 0 0 0.45em; }
h2 { font-size: 1em; margin: 0; }
.follow-up { margin-left: 0.9em; }
.level { font-weight: normal; color: #555; }
ul { margin: 0.05em 0 0; padding-left: 1.1em; }
.formula { margin: 0.1em 0 0 1.1em; }
.mistake { color: #8a1c1c; margin: 0.1em 0 0 1.1em; }
.follow-ups { column-span: all; color: #555; margin: 0.3em 0 0; }
math { font-size: 1.05em; }
@media screen { body { max-width: 60em; margin: 1em auto; } section { margin-bottom: 3em; } }
"""


def _entries(bank, topic: str, ids=None) -> list:
    return [entry for entry in bank.by_topic(topic) if ids is None or entry.id in ids]


def _page_entries(bank, topic: str, ids=None) -> list:
    """What a printed page holds: the chosen cards, or by default the topic's main questions."""
    entries = _entries(bank, topic, ids)
    return entries if ids is not None else [entry for entry in entries if not entry.is_follow_up]


def _follow_up_line(bank, topic: str) -> str:
    ids = [entry.id for entry in bank.by_topic(topic) if entry.is_follow_up]
    if not ids:
        return ""
    return (f'<p class="follow-ups">Follow-ups in the bank: {html.escape(", ".join(ids))}. '
            "<code>gdcourse cheatsheet --weak</code> prints the ones you miss in full.</p>")


def _topics(bank, topics=None, ids=None) -> list[str]:
    return [t for t in TOPICS if (topics is None or t in topics) and _entries(bank, t, ids)]


def weak_ids(store, below: int = 4) -> set[str]:
    """Cards whose last scheduled flashcard grade is below ``below``, or missed in a test or mock since."""
    last = {}
    for review in store.reviews():
        if review["scheduled"]:
            last[review["card_id"]] = review["grade"]
    return {card for card, grade in last.items() if grade < below} | set(store.missed_since_review())


def _one_line(text: str) -> str:
    return " ".join(text.split())


def font_points(chars: int) -> float:
    """The font size (points, tenths) that fits ``chars`` characters of sheet text on one A4 page."""
    return min(BASE_POINTS, math.floor(FIT / math.sqrt(max(chars, 1)) * 10) / 10)


def _mistake(entry) -> str:
    """The first sentence of a main question's common mistake ('' for follow-ups, to save room)."""
    if entry.is_follow_up or not entry.common_mistake:
        return ""
    return _one_line(entry.common_mistake).split(". ")[0].rstrip(".") + "."


def _text_size(entries) -> int:
    """Characters of sheet text, a formula counted at half its LaTeX length."""
    return sum(len(e.prompt) + sum(len(p) + 6 for p in e.key_points) + len(e.formula) // 2
               + len(_mistake(e)) + 40 for e in entries)


def topic_markdown(bank, topic: str, ids=None) -> str:
    """One Markdown page: each question's key points, formula and common mistake (math as Unicode)."""
    entries = _entries(bank, topic, ids)
    lines = [f"# {topic} · {TOPICS[topic]}", ""]
    for entry in entries:
        mark = "###" if entry.is_follow_up else "##"
        follow = "follow-up " if entry.is_follow_up else ""
        lines += [f"{mark} {follow}{entry.id} · {to_unicode(entry.prompt)} ({entry.level})", ""]
        lines += [f"- {to_unicode(point)}" for point in entry.key_points]
        if entry.formula:
            lines += ["", f"    {to_unicode('$' + entry.formula + '$')}"]
        if entry.common_mistake:
            lines += ["", "> Avoid: " + to_unicode(_one_line(entry.common_mistake))]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _inline(text: str) -> str:
    """Escaped text with `code` as <code> and math as MathML."""
    parts = _one_line(text).split("`")
    return "".join(f"<code>{html.escape(part)}</code>" if i % 2 else to_html(part) for i, part in enumerate(parts))


def _entry_html(entry) -> str:
    css = "follow-up" if entry.is_follow_up else "main"
    parts = [f'<article class="{css}" id="{html.escape(entry.id)}">',
             f'<h2>{html.escape(entry.id)} · {_inline(entry.prompt)} <span class="level">{entry.level}</span></h2>',
             "<ul>" + "".join(f"<li>{_inline(point)}</li>" for point in entry.key_points) + "</ul>"]
    if entry.formula:
        parts.append(f'<div class="formula">{latex_to_mathml(entry.formula)}</div>')
    if _mistake(entry):
        parts.append(f'<p class="mistake">Avoid: {_inline(_mistake(entry))}</p>')
    parts.append("</article>")
    return "\n".join(parts)


def cheatsheet_html(bank, topics=None, ids=None) -> str:
    """The chosen topics (default all), one A4 page each when printed; only ``ids`` if given."""
    sections = []
    for topic in _topics(bank, topics, ids):
        entries = _page_entries(bank, topic, ids)
        follow_ups = _follow_up_line(bank, topic) if ids is None else ""
        size = font_points(_text_size(entries) + len(follow_ups) // 2)
        body = "\n".join(_entry_html(entry) for entry in entries) + ("\n" + follow_ups if follow_ups else "")
        sections.append(f'<section id="topic-{topic}" style="font-size: {size}pt">\n<h1>{html.escape(topic)} · '
                        f"{html.escape(TOPICS[topic])}</h1>\n{body}\n</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>Cheat sheet</title>\n<style>" + _CSS + "</style>\n</head>\n<body>\n"
            + "\n".join(sections) + "\n</body>\n</html>\n")


def write_cheatsheet(bank, out_dir, topics=None, ids=None) -> list[Path]:
    """Write ``<topic>.md`` per topic and ``cheatsheet.html`` into ``out_dir``; return the paths."""
    out_dir = Path(out_dir)
    written = [atomic_write(out_dir / f"{topic.lower()}.md", topic_markdown(bank, topic, ids))
               for topic in _topics(bank, topics, ids)]
    written.append(atomic_write(out_dir / "cheatsheet.html", cheatsheet_html(bank, topics, ids)))
    return written
