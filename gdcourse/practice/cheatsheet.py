"""Cheat sheet: the bank's key points and formulas, one page per topic.

``gdcourse cheatsheet --out DIR`` writes ``DIR/<topic>.md`` (one Markdown page per
topic) and ``DIR/cheatsheet.html`` (every topic in one self-contained file, one
printed page break per topic). Each file is written atomically. Text is HTML-escaped;
formulas stay as LaTeX source (no MathJax needed to read them).
"""

from __future__ import annotations

import html
from pathlib import Path

from gdcourse.atomic import atomic_write
from gdcourse.bank import TOPICS

__all__ = ["topic_markdown", "cheatsheet_html", "write_cheatsheet"]

_NOTE = "Generated from the question bank by `gdcourse cheatsheet`; edit the bank, not this file."

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; line-height: 1.4; }
nav a { margin-right: 1em; }
section { break-after: page; page-break-after: always; }
article { margin: 0.8em 0; }
h2 { font-size: 1.05em; margin: 0.8em 0 0.2em; }
.follow-up { margin-left: 1.5em; }
.level { font-size: 0.8em; color: #555; font-weight: normal; }
.formula code { background: #f3f3f3; padding: 0.1em 0.3em; }
.mistake { color: #8a1c1c; }
ul { margin: 0.2em 0; }
"""


def _topics_present(bank) -> list[str]:
    return [topic for topic in TOPICS if bank.by_topic(topic)]


def topic_markdown(bank, topic: str) -> str:
    """One Markdown page: each question's key points, formula and common mistake."""
    entries = bank.by_topic(topic)
    lines = [f"# {topic} · {TOPICS[topic]}", "", f"{len(entries)} questions. {_NOTE}", ""]
    for entry in entries:
        mark = "###" if entry.is_follow_up else "##"
        follow = "follow-up " if entry.is_follow_up else ""
        lines += [f"{mark} {follow}{entry.id} · {entry.prompt} ({entry.level})", ""]
        lines += [f"- {point}" for point in entry.key_points]
        if entry.formula:
            lines += ["", f"$$ {entry.formula} $$"]
        if entry.common_mistake:
            lines += ["", "> Avoid: " + " ".join(entry.common_mistake.split())]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _entry_html(entry) -> str:
    esc = html.escape
    css = "follow-up" if entry.is_follow_up else "main"
    parts = [f'<article class="{css}" id="{esc(entry.id)}">',
             f'<h2>{esc(entry.id)} · {esc(entry.prompt)} <span class="level">{esc(entry.level)}</span></h2>',
             "<ul>" + "".join(f"<li>{esc(point)}</li>" for point in entry.key_points) + "</ul>"]
    if entry.formula:
        parts.append(f'<p class="formula"><code>{esc(entry.formula)}</code></p>')
    if entry.common_mistake:
        parts.append(f'<p class="mistake">Avoid: {esc(entry.common_mistake)}</p>')
    parts.append("</article>")
    return "\n".join(parts)


def cheatsheet_html(bank) -> str:
    """Every topic in one HTML page (a print page break after each topic)."""
    topics = _topics_present(bank)
    nav = " ".join(f'<a href="#topic-{t}">{html.escape(t)}</a>' for t in topics)
    sections = []
    for topic in topics:
        body = "\n".join(_entry_html(entry) for entry in bank.by_topic(topic))
        sections.append(f'<section id="topic-{topic}">\n<h1>{html.escape(topic)} · '
                        f"{html.escape(TOPICS[topic])}</h1>\n{body}\n</section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>gdcourse cheat sheet</title>\n<style>" + _CSS + "</style>\n</head>\n<body>\n"
            f"<p>{html.escape(_NOTE)}</p>\n<nav>{nav}</nav>\n" + "\n".join(sections) + "\n</body>\n</html>\n")


def write_cheatsheet(bank, out_dir) -> list[Path]:
    """Write ``<topic>.md`` per topic and ``cheatsheet.html`` into ``out_dir``; return the paths."""
    out_dir = Path(out_dir)
    written = [atomic_write(out_dir / f"{topic.lower()}.md", topic_markdown(bank, topic))
               for topic in _topics_present(bank)]
    written.append(atomic_write(out_dir / "cheatsheet.html", cheatsheet_html(bank)))
    return written
