"""``gdcourse practice`` in a real terminal, driven through tmux: small screens, Learn, Match, Ctrl-C and a
two-day exam plan (the store's clock set with ``GDCOURSE_NOW``)."""

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from practice_helpers import BANK_FIXTURE

from gdcourse.bank import load
from gdcourse.practice.items import load_material
from gdcourse.practice.learn import LearnSession
from gdcourse.practice.match import MatchRound
from gdcourse.practice.store import ProgressStore

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


class Tmux:
    """One detached tmux session of a given size running one command; read its screen, type into it."""

    def __init__(self, command, env, width=80, height=24):
        self.name = f"gdp-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{key}={value}" for key, value in env.items())
        # the terminal's own size, not COLUMNS/LINES inherited from whoever started the tmux server
        shell = f"cd {REPO} && env -u COLUMNS -u LINES {exports} {' '.join(command)}; echo EXIT=$?; sleep 30"
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), shell],
                       check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def wait_for(self, text, timeout=60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not on screen:\n{self.screen()}")

    def type(self, *keys):
        for key in keys:
            subprocess.run(["tmux", "send-keys", "-t", self.name, key, "Enter"], check=True)
            time.sleep(0.15)

    def interrupt(self):
        subprocess.run(["tmux", "send-keys", "-t", self.name, "C-c"], check=True)

    def close(self):
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def bank_dir(tmp_path):
    """The fixture bank (without notebook links) and its test material, as a folder for ``--bank``."""
    folder = tmp_path / "bank"
    folder.mkdir()
    for source in BANK_FIXTURE.glob("*.toml"):
        text = "\n".join('notebook = ""' if line.startswith("notebook = ") else line
                         for line in source.read_text().splitlines())
        (folder / source.name).write_text(text)
    shutil.copytree(BANK_FIXTURE / "distractors", folder / "distractors")
    return folder


@pytest.fixture
def run(tmp_path, bank_dir):
    sessions = []

    def start(*argv, width=80, height=24, now="2025-03-01T09:00"):
        env = {"GDCOURSE_HOME": tmp_path / "home", "PYTHONPATH": REPO, "GDCOURSE_NOW": now}
        command = [sys.executable, "-m", "gdcourse.cli", "practice", "--bank", str(bank_dir), *argv]
        sessions.append(Tmux(command, env, width, height))
        return sessions[-1]

    yield start
    for session in sessions:
        session.close()


def test_a_40_by_10_terminal_keeps_the_question_number_in_the_header(run):
    term = run("--mode", "mock", "--topic", "OPT", "--seed", "1", "-n", "2", width=40, height=10)
    assert "-- more (1/3): Enter, s end, q quit --" in term.wait_for("-- more")     # fits 40 columns
    term.type("s")
    term.wait_for("Enter: start")
    term.type("")
    screen = term.wait_for("Q1/2")  # the question, paged at 10 rows    (tmux drops trailing spaces)
    header = screen.splitlines()[0]
    assert "Q1/2" in header and len(header) <= 40, screen
    term.interrupt()
    term.wait_for("EXIT=130")


def test_ctrl_c_then_a_new_session_brings_the_failed_card_back(run):
    term = run("--topic", "DL")
    term.wait_for("Enter: show the answer")
    term.type("", "1")
    term.wait_for("until you grade it 4 or more")
    term.interrupt()
    term.wait_for("EXIT=130")
    again = run("--topic", "DL")
    screen = again.wait_for("Enter: show the answer")
    assert "Flashcards | DL-01 | DL | easy | repeat" in screen


def test_learn_round_in_a_terminal(run, bank_dir, tmp_path):
    bank = load(bank_dir, solutions_dir=bank_dir)
    twin = LearnSession(bank, n=2, topics=["DL"], rng=5, material=load_material(bank, bank_dir / "distractors"))
    term = run("--mode", "learn", "--topic", "DL", "-n", "2", "--seed", "5")
    while not twin.finished:
        step = twin.current
        if step.item is None:
            term.wait_for("Say your answer")
            term.type("")
            term.wait_for("y/n")
            term.type("y")
            twin.answer(True)
        else:
            term.wait_for("Answer a-b")
            term.type("ab"[step.item.correct])
            twin.answer(step.item.correct)
    screen = term.wait_for("EXIT=0")
    assert "Done: 2/2 card(s) learned in 4 answer(s), 4 right." in screen
    with ProgressStore(tmp_path / "home" / "progress.sqlite3") as store:
        assert len(store.test_answers(1)) == 4


def test_match_round_in_a_terminal(bank_dir):
    # the fixture bank has few 'Term: definition' points: Match runs on the real bank
    real = load()
    twin = MatchRound(real, size=4, topics=["VAR"], rng=2)
    session = Tmux([sys.executable, "-m", "gdcourse.cli", "practice", "--mode", "match", "--topic", "VAR", "-n",
                    "4", "--seed", "2"], {"GDCOURSE_HOME": bank_dir.parent / "home2", "PYTHONPATH": REPO})
    try:
        session.wait_for("Pair (q quit)")
        first = twin.definitions.index(twin.pairs[0].definition)
        wrong = (first + 1) % 4
        session.type(f"1{'abcd'[wrong]}")
        session.wait_for("No: +5 s.")
        for i, pair in enumerate(twin.pairs):
            session.type(f"{i + 1}{'abcd'[twin.definitions.index(pair.definition)]}")
        screen = session.wait_for("EXIT=0")
        assert "All 4 pairs in" in screen and "(1 miss(es), 5 s each). Saved." in screen
    finally:
        session.close()


def test_a_two_day_plan_day_by_day(run):
    day1 = run("--until", "2025-03-03", "-n", "30", now="2025-03-01T09:00")
    for _ in range(11):
        day1.wait_for("Enter: show the answer")
        day1.type("")
        day1.wait_for("Grade 0-5")
        day1.type("4")
    screen = day1.wait_for("EXIT=0")
    assert "Done: 11 card(s) graded, 11 passed" in screen
    stats = run("--stats", "--until", "2025-03-03", now="2025-03-02T08:00")
    screen = stats.wait_for("EXIT=0")
    assert "2025-03-02 today   11 review(s) +    0 new =   11 card(s)" in screen
    day2 = run("--until", "2025-03-03", now="2025-03-02T08:00")
    screen = day2.wait_for("Enter: show the answer")
    assert "| due" in screen.splitlines()[0] and "11 due and 0 new card(s)" in screen
