"""The terminal screens of the test, Learn and Match modes, and of ``--stats`` with the plan.

Same conventions as :mod:`~gdcourse.practice.terminal` (line input, 78×24 screens, every
answer saved as it is given, q to quit, Ctrl-C exits 130 with what was answered kept).
Math in the bank is shown as Unicode text (:mod:`~gdcourse.practice.mathtext`).
"""

from __future__ import annotations

from gdcourse.bank import TOPICS
from gdcourse.practice.learn import GOAL, LearnSession
from gdcourse.practice.match import PENALTY_S, MatchRound
from gdcourse.practice.mathtext import to_unicode
from gdcourse.practice.quiz import KIND_NAMES, TYPED, TestSession
from gdcourse.practice.terminal import EXIT_INTERRUPTED, Console, QuitSession, _header, _wrap

__all__ = ["plan_lines", "run_learn", "run_match", "run_test", "show_stats", "stats_lines"]

_LETTERS = "abcdefgh"
NEW_SECONDS, REVIEW_SECONDS, HEAVY_DAY = 45, 20, 100  # rough pace of a flashcard session, for the plan's hint


def _text(text: str, width: int) -> list[str]:
    return [line for part in to_unicode(text).split("\n") for line in _wrap(part, width)]


def _item_body(item, width: int) -> tuple[list[str], str]:
    """The item's lines and the prompt asking for its answer."""
    body = _text(item.question, width) + [""]
    if item.kind == "number":
        return body, "Your number (q quit): "
    if item.kind == "formula":
        return body, "Your formula (q quit): "
    if item.kind == "order":
        body += [line for i, step in enumerate(item.options, start=1)
                 for line in _wrap(to_unicode(step), width, f"  {i}. ", "     ")]
        return body, f"Order, e.g. {' '.join(str(i) for i in range(len(item.options), 0, -1))} (q quit): "
    letters = _LETTERS[: len(item.options)]
    for letter, option in zip(letters, item.options, strict=True):
        body += _wrap(to_unicode(option), width, f"  {letter}) ", "     ")
    return body, f"Answer {letters[0]}-{letters[-1]} (q quit): "


def _read_reply(console: Console, item, reply: str, prompt: str):
    """The reply as the item's check wants it (option index, number or order text); asks again if unreadable."""
    while True:
        if reply.lower() == "q":
            raise QuitSession
        if item.kind in TYPED:
            try:
                item.check(reply)
                return reply
            except ValueError as error:
                console.write(f"Please try again: {str(error).split(': ', 1)[-1]}")
        else:
            letters = _LETTERS[: len(item.options)]
            lowered = reply.lower()
            if item.options == ("True", "False") and lowered in {"t", "f", "true", "false"}:
                return 0 if lowered.startswith("t") else 1
            if lowered and lowered in letters:
                return letters.index(lowered)
            console.write(f"Please type one letter from {letters[0]} to {letters[-1]}.")
        reply = console.ask(prompt)


def _verdict(item, right: bool, width: int) -> list[str]:
    if right:
        return ["Right.", ""]
    if item.kind in TYPED:
        text = f"Wrong: the answer is {item.right_answer()}. {item.explanation}"
    else:
        text = f"Wrong: the answer is {_LETTERS[item.correct]}) {item.options[item.correct]}. {item.explanation}"
    return _text(text, width) + [""]


def _interrupted(run):
    """Run ``run()``; map q / end of input / Ctrl-C to (how, exit status)."""
    try:
        run()
    except QuitSession:
        return "interrupted", 0
    except EOFError:
        return "interrupted", 0
    except KeyboardInterrupt:
        return "interrupted", EXIT_INTERRUPTED
    return "finished", 0


# ---------------------------------------------------------------------- test
def run_test(test: TestSession, console: Console) -> int:
    """Ask every item, score it at once; return the exit status."""
    status = _wrap(f"Test of {len(test.items)} item(s), seed {test.seed}: replay it with --seed {test.seed}.",
                   console.width) + [""] if test.seed is not None else []

    def loop():
        nonlocal status
        while not test.finished:
            item = test.current
            number = len(test.answers) + 1
            header = _header(f"Test | {item.topic} | {KIND_NAMES[item.kind]}",
                             f"item {number}/{len(test.items)} score {test.score}", console.width)
            body, prompt = _item_body(item, console.width)
            reply = _read_reply(console, item, console.screen(header, status + body, prompt), prompt)
            status = _verdict(item, test.answer(reply), console.width)

    how, code = _interrupted(loop)
    summary = test.close(how)
    lines = list(status)
    lines.append(f"Score: {summary['score']}/{summary['answered']} answered ({summary['items']} items), "
                 f"seed {summary['seed']}.")
    for topic, (right, total) in summary["by_topic"].items():
        lines.append(f"  {topic:<5} {right}/{total}")
    if summary["wrong"]:
        lines += _wrap("Review: " + ", ".join(summary["wrong"]) + " (now due in your flashcards)", console.width)
    console.write("")
    console.lines(lines)
    return code


# ---------------------------------------------------------------------- learn
def run_learn(learn: LearnSession, console: Console) -> int:
    """Ask each card in changing forms until every card has been answered right twice."""
    status = _wrap(f"Learn: {len(learn.cards)} card(s); each must be answered right {GOAL} times, asked in "
                   f"changing forms. Seed {learn.seed}.", console.width) + [""]

    def loop():
        nonlocal status
        while not learn.finished:
            step = learn.current
            header = _header(f"Learn | {step.entry.id} | {step.kind.replace('_', ' ')}",
                             f"{learn.learned}/{len(learn.cards)} learned", console.width)
            if step.item is None:
                body = _text(step.entry.prompt, console.width) + ["", "Say your answer, then press Enter."]
                if console.screen(header, status + body, "> ").lower() == "q":
                    raise QuitSession
                points = [line for i, p in enumerate(step.entry.key_points, start=1)
                          for line in _wrap(to_unicode(p), console.width, f"  {i}. ", "     ")]
                reply = console.screen(header, _text(step.entry.prompt, console.width) + ["", "Key points:"] + points,
                                       "Did your answer have them? y/n (q quit): ").lower()
                while reply not in {"y", "n", "yes", "no"}:
                    if reply == "q":
                        raise QuitSession
                    reply = console.ask("Please type y or n: ").lower()
                right = learn.answer(reply.startswith("y"))
                status = ["Right." if right else "Not yet: it comes back soon.", ""]
            else:
                body, prompt = _item_body(step.item, console.width)
                reply = _read_reply(console, step.item, console.screen(header, status + body, prompt), prompt)
                item = step.item
                status = _verdict(item, learn.answer(reply), console.width)

    how, code = _interrupted(loop)
    summary = learn.close(how)
    console.write("")
    console.lines(_wrap(f"{'Done' if how == 'finished' else 'Stopped'}: {summary['learned']}/{summary['cards']} "
                        f"card(s) learned in {summary['answers']} answer(s), {summary['right']} right.",
                        console.width))
    if summary["missed_once"]:
        console.lines(_wrap("Missed at least once (now due in your flashcards): "
                            + ", ".join(summary["missed_once"]), console.width))
    return code


# ---------------------------------------------------------------------- match
def run_match(match: MatchRound, console: Console) -> int:
    """Pair terms (1, 2, …) with definitions (a, b, …) until all are matched; show the time."""
    note = f"Type a pair such as 1c. Each wrong pair adds {PENALTY_S:.0f} s. Seed {match.seed}."
    message = ""

    def loop():
        nonlocal message
        while not match.finished:
            body = _wrap(note, console.width) + [""]
            for i, term in enumerate(match.terms):
                if i not in match.matched:
                    body += _wrap(to_unicode(term), console.width, f"  {i + 1}. ", "     ")
            body.append("")
            taken = set(match.matched.values())
            for j, definition in enumerate(match.definitions):
                if j not in taken:
                    body += _wrap(to_unicode(definition), console.width, f"  {_LETTERS[j]}) ", "     ")
            if message:
                body += ["", message]
            header = _header("Match", f"{len(match.matched)}/{len(match.pairs)} {match.elapsed:5.1f} s",
                             console.width)
            reply = console.screen(header, body, "Pair (q quit): ").lower().replace(" ", "")
            if reply == "q":
                raise QuitSession
            if len(reply) < 2 or not reply[:-1].isdigit() or reply[-1] not in _LETTERS[: len(match.terms)]:
                message = "Type a term number and a definition letter, e.g. 2b."
                continue
            term, definition = int(reply[:-1]) - 1, _LETTERS.index(reply[-1])
            try:
                right = match.pair(term, definition)
            except ValueError as error:
                message = str(error)
                continue
            message = "Right." if right else f"No: +{PENALTY_S:.0f} s."

    how, code = _interrupted(loop)
    console.write("")
    if match.finished:
        summary = match.summary()
        console.lines(_wrap(f"All {summary['pairs']} pairs in {summary['seconds']:.1f} s "
                            f"({summary['misses']} miss(es), {PENALTY_S:.0f} s each). Saved.", console.width))
    else:
        console.write(f"Stopped with {len(match.matched)}/{len(match.pairs)} pairs: nothing saved.")
    return code


# ---------------------------------------------------------------------- stats and plan
def _rate(passed: int, total: int) -> str:
    """``'  3/4   75%'`` in 14 columns, or a dash."""
    return f"{passed:>4}/{total:<4}{passed / total:>5.0%}" if total else f"{'-':>9}{'':5}"


def stats_lines(stats, store_path, width: int, topics=None) -> list[str]:
    """``--stats``: cards due, results of every mode, retention by topic and mode, trend by day."""
    lines = [f"Progress store: {store_path}"[:width]]
    last = stats.last_active.isoformat() if stats.last_active else "never"
    lines.append(f"Today {stats.today} | streak {stats.streak} day(s) | last practice {last}")
    later = f", next on {stats.next_due}" if stats.next_due else ""
    lines += _wrap(f"Flashcards: {len(stats.due)} due now, {len(stats.missed)} missed in tests or mock "
                   f"interviews (due now), {len(stats.new)} new, {stats.scheduled_later} scheduled later{later}",
                   width)
    modes = ("flashcards", "learn", "test", "mock", "match")
    lines += ["", "Results by mode (right or passed / answered):"]
    lines += [f"  {mode:<10} {_rate(*stats.by_mode.get(mode, (0, 0)))}" for mode in modes]
    lines += ["", "Retention by topic and mode (right or passed / answered):", f"{'':7}"
              + "".join(f"{mode:>16}" for mode in modes[:4])]
    for topic in (t for t in TOPICS if topics is None or t in topics):
        row = stats.by_topic.get(topic, {})
        lines.append(f"  {topic:<5}" + "".join(f"{_rate(*row.get(m, (0, 0))):>16}" for m in modes[:4]))
    if stats.trend:
        lines += ["", "Trend (share right or passed, by day):"]
        for day, passed, total in stats.trend[-10:]:
            lines.append(f"  {day}  {_rate(passed, total)}  {'#' * round(20 * passed / total)}")
    return [line[:width].rstrip() for line in lines]


def plan_lines(plan, width: int) -> list[str]:
    """The exam-date plan: per day, reviews and new cards."""
    days = "day" if plan.days_left == 1 else "days"
    lines = ["", *_wrap(f"Plan until the interview on {plan.until}: {plan.days_left} study {days}; "
                        f"{len(plan.ahead)} card(s) reviewed ahead of their SM-2 date so they are seen once "
                        f"more before it.", width)]
    for day in plan.days:
        label = "today" if day.day == plan.today else day.day.strftime("%a")
        minutes = round((REVIEW_SECONDS * len(day.reviews) + NEW_SECONDS * len(day.new)) / 60)
        lines.append(f"  {day.day} {label:<5} {len(day.reviews):>4} review(s) + {len(day.new):>4} new "
                     f"= {day.total:>4} card(s), about {minutes // 60} h {minutes % 60:02d} min")
    busiest = max(plan.days, key=lambda day: day.total)
    if busiest.total > HEAVY_DAY:
        lines += _wrap(f"(Time at {NEW_SECONDS} s a new card and {REVIEW_SECONDS} s a review.) That is more than "
                       f"{HEAVY_DAY} cards on {busiest.day}: to lighten the plan, focus it with --topic or --level, "
                       f"or start earlier.", width)
    return lines


def show_stats(stats, console: Console, store_path, topics=None, plan=None) -> int:
    """Print :func:`stats_lines` (and :func:`plan_lines` when there is a plan)."""
    lines = stats_lines(stats, store_path, console.width, topics)
    if plan is not None:
        lines += plan_lines(plan, console.width)
    console.lines(lines)
    return 0
