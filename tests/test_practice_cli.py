"""``gdcourse practice`` flags: conflicts, the plan, export rules, a read-only store, empty filters,
Learn and Match engines and the lazy ``--help``."""

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from practice_helpers import BANK_FIXTURE, Clock, Stopwatch

from gdcourse.bank import load
from gdcourse.practice import cli as practice_cli
from gdcourse.practice.items import load_material
from gdcourse.practice.learn import GOAL, LearnSession
from gdcourse.practice.match import PENALTY_S, MatchRound, term_pairs
from gdcourse.practice.store import ProgressStore
from gdcourse.practice.terminal import Console, _header

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GDCOURSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("GDCOURSE_NOW", raising=False)
    return tmp_path / "home"


@pytest.fixture
def material(bank):
    return load_material(bank, BANK_FIXTURE / "distractors")


def _run(argv, bank, lines=(), now=None, material=None):
    out, err, script = io.StringIO(), io.StringIO(), list(lines)

    def read():
        if not script:
            raise EOFError
        return script.pop(0)

    code = practice_cli.main(argv, bank=bank, input_fn=read, out=out, err=err, now=now or Clock(),
                             material=material)
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- conflicting flags
@pytest.mark.parametrize("argv, message", [
    (["--stats", "--mode", "mock"], "--stats report on every mode and exit; --mode would be ignored: drop --mode"),
    (["--export", "x.csv", "-n", "3", "--seed", "2"], "--export report on every mode and exit; -n, --seed would be"),
    (["--seed", "3"], "--seed changes only --mode learn, test, match, mock; flashcards follow your schedule"),
    (["--mode", "test", "--until", "2025-03-05"], "--until plans flashcards (and --stats shows the plan); it does "
                                                   "not apply to --mode test"),
    (["--until", "2025-02-01"], "--until 2025-02-01 is in the past (today is 2025-03-01)"),
])
def test_conflicting_flags_are_a_clear_error(bank, home, argv, message):
    code, out, err = _run(argv, bank)
    assert code == 2 and f"gdcourse practice: error: {message}" in err and out == ""


def test_an_unreadable_clock_variable_is_reported(bank, monkeypatch):
    monkeypatch.setenv("GDCOURSE_NOW", "tomorrow")
    out, err = io.StringIO(), io.StringIO()
    assert practice_cli.main(["--stats"], bank=bank, out=out, err=err) == 2
    assert "GDCOURSE_NOW: expected an ISO date and time such as 2025-03-02T09:00, got 'tomorrow'" in err.getvalue()


# ---------------------------------------------------------------- plan in the terminal
def test_until_plans_today_and_stats_shows_the_plan(bank, home):
    code, out, _ = _run(["--until", "2025-03-03", "-n", "3"], bank, ["", "4", "", "4", "", "4"])
    assert code == 0 and "Flashcards | GD-01 | GD | easy | new" in out and "| OPT-01 |" in out
    code, out, _ = _run(["--stats", "--until", "2025-03-03"], bank)
    assert "Plan until the interview on 2025-03-03: 2 study days" in " ".join(out.split())
    assert "  2025-03-01 today    0 review(s) +    8 new =    8 card(s), about 0 h 06 min" in out   # 8 x 45 s
    assert "  2025-03-02 Sun     11 review(s) +    0 new =   11 card(s), about 0 h 04 min" in out   # 11 x 20 s
    assert "lighten" not in out                                                   # no day above 100 cards


# ---------------------------------------------------------------- export
def test_export_refuses_a_missing_directory_and_a_directory_path(bank, home, tmp_path):
    _run(["-n", "1"], bank, ["", "5"])
    code, _, err = _run(["--export", str(tmp_path / "nonexist" / "x.csv")], bank)
    assert code == 1 and f"the directory {tmp_path / 'nonexist'} does not exist; create it first" in err
    assert not (tmp_path / "nonexist").exists()
    code, _, err = _run(["--export", str(tmp_path)], bank)
    assert code == 1 and f"{tmp_path} is a directory; give a file name such as {tmp_path / 'progress.csv'}" in err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_export_uses_the_umask_and_keeps_question_and_answer(bank, home, tmp_path, material, umask, mode):
    _run(["--mode", "test", "--topic", "DL", "-n", "1", "--seed", "0"], bank, ["b"], material=material)
    old = os.umask(umask)
    try:
        code, out, _ = _run(["--export", str(tmp_path / "p.csv"), "--topic", "DL"], bank)
    finally:
        os.umask(old)
    assert code == 0 and "Wrote 1 row(s) for DL" in out
    assert (tmp_path / "p.csv").stat().st_mode & 0o777 == mode
    row = next(csv.DictReader((tmp_path / "p.csv").open()))
    assert row["mode"] == "test" and row["answer"] == "False" and row["question"].startswith("What is ")


# ---------------------------------------------------------------- read-only store
def _unshare_works():
    if not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-m", "-r", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not _unshare_works(), reason="needs user namespaces to mount a read-only directory")
def test_a_read_only_store_still_gives_stats_and_export_and_practice_says_why(tmp_path):
    home = tmp_path / "home"
    with ProgressStore(home / "progress.sqlite3", now=Clock()) as store:
        store.record_review("GD-01", "GD", 5)
    before = sorted(p.name for p in home.iterdir())
    env = {**os.environ, "GDCOURSE_HOME": str(home), "PYTHONPATH": str(REPO), "COLUMNS": "80",
           "GDCOURSE_NOW": "2025-03-01T10:00"}

    def readonly(*argv):
        command = " ".join([sys.executable, "-m", "gdcourse.cli", "practice", *argv])
        script = f"mount --bind {home} {home} && mount -o remount,bind,ro {home} && {command}"
        return subprocess.run(["unshare", "-m", "-r", "sh", "-c", script], env=env, capture_output=True, text=True,
                              input="", timeout=120)

    stats = readonly("--stats", "--topic", "GD")
    assert stats.returncode == 0, stats.stderr
    assert "flashcards    1/1    100%" in stats.stdout and "Read-only" not in stats.stderr
    export = readonly("--export", str(tmp_path / "out.csv"))
    assert export.returncode == 0 and (tmp_path / "out.csv").read_text().count("\n") == 2
    practice = readonly("-n", "1")
    assert practice.returncode == 1
    assert "cannot practise: your answers could not be saved (the directory" in practice.stderr
    assert "is read-only). --stats and --export still work" in practice.stderr
    assert sorted(p.name for p in home.iterdir()) == before                      # nothing written


# ---------------------------------------------------------------- empty filters
def test_an_empty_filter_says_why(bank):
    real = load()
    hard = [e for e in real.by_topic("INIT") if e.level == "hard"]
    mains = [e for e in real.by_topic("INIT") if not e.is_follow_up]
    assert hard and all(e.is_follow_up for e in hard) and {e.level for e in mains} <= {"easy", "medium"}
    code, _, err = _run(["--mode", "mock", "--topic", "INIT", "--level", "hard"], real)
    assert code == 2
    assert (f"the {len(hard)} hard INIT question(s) are all follow-ups, which mock mode skips (it asks a follow-up "
            f"only after its main question); try --level easy medium ({len(mains)} main question(s))"
            ) in " ".join(err.split())
    code, _, err = _run(["--mode", "test", "--topic", "OPT", "--level", "hard"], bank,
                        material=load_material(bank, BANK_FIXTURE / "distractors"))
    assert code == 2 and "none of the 2 hard OPT question(s) has test items yet" in err
    assert "without --level, these topics give 2 item(s)" in err


# ---------------------------------------------------------------- headers on a small screen
def test_headers_keep_the_number_at_40_columns():
    assert _header("Mock interview | OPT-01a | OPT | hard", "Q2/5    0:42 / 2:00", 40).endswith("Q2/5    0:42 / 2:00")
    assert len(_header("Flashcards | GD-01 | GD | easy | new", "card 3/20", 40)) == 40


def test_a_10_row_screen_pages_without_losing_the_header(bank, home):
    out = io.StringIO()
    lines = iter(["", "", "", "", "", "", "", "3", "q"])
    console = Console(lambda: next(lines), out, width=40, height=10)
    code = practice_cli.main(["--topic", "GD", "-n", "2"], bank=bank, out=out, err=io.StringIO(), now=Clock(),
                             console=console)
    assert code == 0
    for screen in out.getvalue().split("Flashcards |")[1:]:
        assert "card 1/2" in screen.split("\n")[0] or "card 2/2" in screen.split("\n")[0]


# ---------------------------------------------------------------- learn and match engines
def test_learn_asks_each_card_until_right_twice_in_changing_kinds(bank, store, material):
    learn = LearnSession(bank, n=3, topics=["GD"], rng=4, store=store, material=material)
    assert len(learn.cards) == 3
    seen, answers = [], 0
    while not learn.finished and answers < 40:
        step = learn.current
        seen.append((step.entry.id, step.kind))
        right = answers != 0                                                  # only the first answer is wrong
        if step.item is None:
            reply = right
        elif step.kind == "number":
            reply = step.item.right_answer() if right else "999"
        elif step.kind == "order":
            order = list(step.item.correct) if right else list(step.item.correct)[1:] + [step.item.correct[0]]
            reply = " ".join(str(i + 1) for i in order)
        else:
            reply = (step.item.correct + (not right)) % len(step.item.options)
        assert learn.answer(reply) is right
        answers += 1
    assert learn.finished and learn.learned == 3 and answers == 3 * GOAL + 1
    for card in {card for card, _ in seen}:
        kinds = [kind for c, kind in seen if c == card]
        assert all(a != b for a, b in zip(kinds, kinds[1:], strict=False)) or len(set(kinds)) == 1
    first = seen[0][0]
    assert [c for c, _ in seen].index(first, 1) <= 3                          # a miss comes back soon
    summary = learn.close()
    assert summary["missed_once"] == [first]
    rows = store.test_answers(learn.session_id or 1)
    assert len(rows) == answers and all(row["kind"].startswith("learn:") for row in rows)
    assert store.missed_since_review() == [first]


def test_match_pairs_terms_with_definitions_and_times_with_penalties(bank, store):
    pairs = term_pairs(list(bank))
    assert all(": " not in pair.term for pair in pairs)
    watch = Stopwatch()
    real = load()
    round_ = MatchRound(real, size=4, topics=["VAR"], rng=1, store=store, clock=watch)
    assert len(round_.terms) == 4 and sorted(round_.definitions) == sorted(p.definition for p in round_.pairs)
    right = {i: round_.definitions.index(pair.definition) for i, pair in enumerate(round_.pairs)}
    wrong = (right[0] + 1) % 4
    assert round_.pair(0, wrong) is False
    watch.t = 20.0
    for term, definition in right.items():
        assert round_.pair(term, definition) is True
    assert round_.finished and round_.elapsed == 20.0 + PENALTY_S
    with pytest.raises(ValueError, match="already matched"):
        round_.pair(0, right[0])
    rows = store.test_answers(1)
    assert [row["correct"] for row in rows] == [0, 1, 1, 1] and store.session(1)["summary"]["seconds"] == 25.0


# ---------------------------------------------------------------- --help stays light
def test_help_imports_no_engine_store_or_converter():
    code = ("import sys, contextlib, io\nfrom gdcourse.cli import main\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['practice', '--help'])\n"
            "heavy = ('numpy', 'sqlite3', 'pylatexenc', 'latex2mathml', 'gdcourse.practice.store', 'secrets',\n"
            "         'gdcourse.practice.terminal')\n"
            "print(sorted(m for m in sys.modules if m.startswith(heavy)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
