"""``gdcourse practice`` driven end to end with scripted input, and its bad-argument handling."""

import csv
import io
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from practice_helpers import BANK_FIXTURE, Clock

import gdcourse.cli
from gdcourse.bank import BankError, load
from gdcourse.practice import cli as practice_cli
from gdcourse.practice.items import load_material
from gdcourse.practice.quiz import make_test_items
from gdcourse.practice.session import MockInterview
from gdcourse.practice.store import ProgressStore
from gdcourse.practice.terminal import Console, _LiveClock, paginate, wrap_markdown

REPO = Path(__file__).resolve().parents[1]


class Terminal:
    """Scripted keyboard and screen: each call to the input function returns the next line.

    ``KeyboardInterrupt`` in the script raises it (Ctrl-C); the end of the script raises
    EOFError (Ctrl-D). ``screens`` holds what was printed between two reads.
    """

    def __init__(self, *lines):
        self.lines = list(lines)
        self.out = io.StringIO()
        self.err = io.StringIO()
        self.screens = []
        self._mark = 0

    def __call__(self):
        text = self.out.getvalue()
        self.screens.append(text[self._mark:])
        self._mark = len(text)
        if not self.lines:
            raise EOFError
        line = self.lines.pop(0)
        if line is KeyboardInterrupt:
            raise KeyboardInterrupt
        return line

    @property
    def text(self):
        return self.out.getvalue()

    @property
    def flat(self):
        """The transcript with every run of whitespace made one space (wrapping undone)."""
        return " ".join(self.out.getvalue().split())

    def run(self, argv, bank, now=None):
        # the small test bank comes with its own test material; the real bank uses the real one
        material = load_material(bank, BANK_FIXTURE / "distractors") if len(bank) < 50 else None
        return practice_cli.main(argv, bank=bank, input_fn=self, out=self.out, err=self.err, now=now or Clock(),
                                 material=material)


class AutoTerminal(Terminal):
    """Replies by reading the prompt on screen (for banks whose answers may need paging)."""

    def __init__(self, replies, limit=300):
        super().__init__()
        self.replies, self.limit = replies, limit
        self.prompts = []

    def __call__(self):
        text = self.out.getvalue()
        self.screens.append(text[self._mark:])
        self._mark = len(text)
        prompt = text.rsplit("\n", 1)[-1]
        self.prompts.append(prompt)
        if len(self.prompts) > self.limit:
            raise EOFError
        for start, reply in self.replies.items():
            if prompt.startswith(start):
                return reply
        raise AssertionError(f"unexpected prompt {prompt!r}")


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GDCOURSE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    return tmp_path / "home"


def _store(home):
    return ProgressStore(home / "progress.sqlite3")


def assert_fits_80x24(terminal):
    for screen in terminal.screens + [terminal.text[terminal._mark:]]:
        lines = screen.split("\n")
        assert len(lines) <= 24, f"screen of {len(lines)} rows:\n{screen}"
        assert max(map(len, lines)) <= 78, f"line longer than 78:\n{screen}"


# ---------------------------------------------------------------- layout helpers
def test_wrap_markdown_keeps_structure_within_the_width():
    text = ("Why: " + "words " * 40 + "\n\n- a list item " + "long " * 30 + "\n  continued\n"
            "1. numbered\n\n```\n" + "x" * 100 + "\n```\n")
    lines = wrap_markdown(text, 40)
    assert max(map(len, lines)) <= 40
    bullet = lines.index(next(line for line in lines if line.startswith("- a list item")))
    assert lines[bullet + 1].startswith("  long")  # hanging indent under the text
    assert "continued" in " ".join(lines) and "1. numbered" in lines
    assert lines.count("x" * 40) == 2 and "x" * 20 in lines and lines.count("```") == 2


def test_bold_markers_are_dropped_but_not_from_code_or_powers():
    lines = wrap_markdown("- **Features**: (__b__) 2**3 and x**2\n\n```\n**kept**\n```")
    assert lines == ["- Features: (b) 2**3 and x**2", "", "```", "**kept**", "```"]


def test_paginate_breaks_at_blank_lines_and_keeps_every_line():
    lines = [f"line {i}" for i in range(12)] + [""] + [f"more {i}" for i in range(12)]
    pages = paginate(lines, 20)
    assert [len(p) for p in pages] == [13, 12]      # broke after the blank line (row 13), not at 20
    assert [line for page in pages for line in page if line] == [line for line in lines if line]
    assert paginate(["a"] * 45, 20) == [["a"] * 20, ["a"] * 20, ["a"] * 5]


# ---------------------------------------------------------------- flashcards
def test_flashcards_end_to_end(bank, home):
    term = Terminal("", "4", "", "5")
    assert term.run(["--topic", "dl"], bank) == 0
    assert "Done: 2 card(s) graded, 2 passed" in term.text
    assert "Saved DL-01: grade 4; next review 2025-03-02 (in 1 d)." in term.text
    assert "Answer:" in term.screens[1] and "Key points:" in term.screens[1]
    assert_fits_80x24(term)
    with _store(home) as store:
        assert [(r["card_id"], r["grade"]) for r in store.reviews()] == [("DL-01", 4), ("DL-02", 5)]


def test_flashcards_reprompt_on_bad_grade_and_help(bank, home):
    term = Terminal("", "9", "x", "?", "4")
    assert term.run(["--topic", "DL", "-n", "1"], bank) == 0
    assert term.text.count("Please type a grade from 0 to 5") == 2
    assert "5: perfect" in term.text
    with _store(home) as store:
        assert [r["grade"] for r in store.reviews()] == [4]


def test_ctrl_c_mid_session_keeps_the_grades_given(bank, home):
    term = Terminal("", "3", "", "5", "", KeyboardInterrupt)
    assert term.run(["--topic", "GD"], bank) == 130
    assert "Stopped: 2 card(s) graded" in term.text
    with _store(home) as store:
        assert [(r["card_id"], r["grade"]) for r in store.reviews()] == [("GD-01", 3), ("GD-01a", 5)]
        assert store.session(1)["status"] == "interrupted"


def test_end_of_input_mid_card_keeps_the_grades_given(bank, home):
    term = Terminal("", "2", "")  # then EOF while the answer of the second card is on screen
    assert term.run(["--topic", "OPT"], bank) == 0
    with _store(home) as store:
        assert [(r["card_id"], r["grade"]) for r in store.reviews()] == [("OPT-01", 2)]


def test_quit_key(bank, home):
    term = Terminal("", "5", "q")
    assert term.run(["--topic", "OPT"], bank) == 0
    assert "Stopped: 1 card(s) graded" in term.text


def test_long_answers_are_paged_to_fit_24_rows(tmp_path, home):
    answer = "\n\n".join(f"Paragraph {i}. " + "This sentence is long enough to wrap. " * 4 for i in range(12))
    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "gd.toml").write_text(textwrap.dedent(f'''
        [[question]]
        id = "GD-01"
        topic = "GD"
        level = "easy"
        prompt = "A question with a long answer?"
        answer = """{answer}"""
        key_points = ["one", "two", "three"]
        follow_ups = []
        notebook = ""
        sources = []
        '''))
    long_bank = load(tmp_path / "bank", solutions_dir=tmp_path)
    term = Terminal("", "", "s", "4")
    assert term.run([], long_bank) == 0
    assert "-- more (1/" in term.screens[1] and "-- more (2/" in term.screens[2]
    # 's' jumped to the last page, which holds the key points beside the grade prompt
    assert "Key points:" in term.screens[3] and "Key points:" not in term.screens[2]
    assert_fits_80x24(term)


def test_nothing_to_review(bank, home):
    term = Terminal("", "5", "", "5")
    term.run(["--topic", "DL"], bank)
    again = Terminal()
    assert again.run(["--topic", "DL"], bank) == 0
    assert "Nothing to review" in again.text and "next review on 2025-03-02" in again.text


# ---------------------------------------------------------------- mock interview
def test_mock_interview_end_to_end_with_a_follow_up(bank, home):
    # OPT easy has one main question (OPT-01); a weak answer gets a probe, a full one the follow-up OPT-01a
    term = Terminal("", "h", "", "2 3", "", "a", "")
    assert term.run(["--mode", "mock", "--topic", "OPT", "--level", "easy", "--seed", "3"], bank) == 0
    assert "seed 3" in term.screens[0]
    assert "Hint 1: Your answer still misses key point 1 of 3." in term.flat  # a nudge, not the point
    assert "velocity accumulates gradients" not in term.screens[2]
    # 2/3 < 70 %: no follow-up but a probe on the missed point, answered in full
    assert "OPT-01: 2/3 key points (67%)" in term.flat and "one more question on them" in term.flat
    assert "Mock interview | OPT-01 | OPT | easy                 probe         0:00 / 1:00" in term.text
    assert "OPT-01a" not in term.text
    assert "Summary: 2 answer(s)" in term.flat and "1 hint(s) used" in term.flat
    assert "What to review:" in term.text and "see solutions/03_optimizers.ipynb, section OPT-02" in term.text
    assert_fits_80x24(term)
    reports = list((home / "interviews").glob("mock-*.md"))
    assert len(reports) == 1 and "OPT-01 (67%)" in reports[0].read_text()

    term = Terminal("", "", "a", "", "a", "")
    assert term.run(["--mode", "mock", "--topic", "OPT", "--level", "easy", "--seed", "3"], bank) == 0
    assert "Good answer: here is a follow-up." in term.flat
    assert "Mock interview | OPT-01a | OPT" in term.text and "follow-up         0:00 / 4:00" in term.text
    assert "Nothing to review" in term.text
    with _store(home) as store:
        assert [(a["card_id"], a["follow_up"]) for a in store.interview_answers(2)] == [("OPT-01", 0),
                                                                                         ("OPT-01a", 1)]


def test_mock_interview_rejects_bad_key_point_input(bank, home):
    term = Terminal("", "", "7", "1 x", "2")
    assert term.run(["--mode", "mock", "--topic", "OPT", "--level", "easy", "--seed", "0"], bank) == 0
    assert term.text.count("Please type numbers among 1 2 3, a, or n for none.") == 2
    with _store(home) as store:
        assert store.interview_answers(1)[0]["covered"] == 1


def test_ctrl_c_during_a_mock_interview_saves_answers_and_a_partial_report(bank, home):
    term = Terminal("", "", "1", KeyboardInterrupt)
    assert term.run(["--mode", "mock", "--topic", "DL", "-n", "2", "--seed", "1"], bank) == 130
    with _store(home) as store:
        assert len(store.interview_answers(1)) == 1
        assert store.session(1)["status"] == "interrupted"
    report = next((home / "interviews").glob("mock-*.md")).read_text()
    assert report.startswith("# Mock interview (interrupted)")


def test_eof_before_any_answer_writes_nothing(bank, home):
    term = Terminal("")
    assert term.run(["--mode", "mock", "--seed", "1"], bank) == 0
    assert "nothing saved" in term.text
    assert not (home / "interviews").exists()


def test_live_clock_ticks_in_place_and_stops(bank):
    out = io.StringIO()
    console = Console(lambda: "", out, live=True)
    interview = MockInterview(bank, n=1, rng=0)
    clock = _LiveClock(console, interview, interval=0.01).start()
    time.sleep(0.1)
    clock.stop()
    assert not clock._thread.is_alive()
    written = out.getvalue()
    assert "\0337\033[1;" in written and "/ " in written and written.endswith("\0338")
    size = len(out.getvalue())
    time.sleep(0.05)
    assert len(out.getvalue()) == size  # nothing written after stop


def test_more_questions_than_match_is_clamped_with_a_note(bank, home):
    term = Terminal("", "", "a")
    assert term.run(["--mode", "mock", "--topic", "DL", "-n", "5", "--seed", "0"], bank) == 0
    assert "only 2 match these filters; using 2 instead of 5" in term.err.getvalue()


# ---------------------------------------------------------------- test mode
def test_test_mode_end_to_end(bank, home):
    # DL has two true/false items (DL-01, DL-02); the seed is shown for replay
    term = Terminal("z", "a", "b")
    assert term.run(["--mode", "test", "--topic", "DL", "-n", "2", "--seed", "0"], bank) == 0
    assert "Test of 2 item(s), seed 0: replay it with --seed 0." in term.screens[0]
    assert "Please type one letter from a to b." in term.text
    with _store(home) as store:
        rows = store.test_answers(1)
        assert [row["chosen"] for row in rows] == ["True", "False"]
        right = sum(row["correct"] for row in rows)
        assert f"Score: {right}/2 answered (2 items), seed 0." in term.text
        assert store.session(1)["status"] == "finished"
    assert_fits_80x24(term)


def _first_seed(bank, kind, n):
    """The first seed whose test of ``n`` items starts with an item of ``kind``."""
    material = load_material(bank, BANK_FIXTURE / "distractors")
    return next(seed for seed in range(100) if make_test_items(bank, n, rng=seed, material=material)[0].kind == kind)


def test_test_mode_reads_a_typed_number_and_asks_again_when_unreadable(bank, home):
    seed = _first_seed(bank, "number", 7)                              # GD-02: 2 / 4 = 0.5
    term = Terminal("half", "0.5", "q")
    assert term.run(["--mode", "test", "-n", "7", "--seed", str(seed)], bank) == 0
    assert "Please try again: expected a number such as 0.25 or 1e-3, got 'half'" in term.text
    assert "Right." in term.text
    with _store(home) as store:
        assert [(r["kind"], r["chosen"], r["correct"]) for r in store.test_answers(1)] == [("number", "0.5", 1)]


def test_test_mode_reads_an_order(bank, home):
    seed = _first_seed(bank, "order", 7)                               # OPT-01: three steps, shown shuffled
    item = make_test_items(bank, 7, rng=seed, material=load_material(bank, BANK_FIXTURE / "distractors"))[0]
    right = " ".join(str(i + 1) for i in item.correct)
    term = Terminal("1 1 2", right, "q")
    assert term.run(["--mode", "test", "-n", "7", "--seed", str(seed)], bank) == 0
    assert "Please try again: expected the numbers 1 to 3, each once" in term.text and "Right." in term.text
    assert "  1. " in term.text and "Order, e.g. 3 2 1 (q quit): " in term.text


@pytest.mark.parametrize("reply, option", [("t", "True"), ("f", "False"), ("TRUE", "True")])
def test_test_mode_accepts_t_and_f_for_true_false_items(bank, home, reply, option):
    term = AutoTerminal({"Answer a-b": reply, "Answer a-d": "a", "Your number": "0.5", "Order, e.g.": "1 2 3"})
    assert term.run(["--mode", "test", "-n", "7", "--seed", "0"], bank) == 0
    assert "Please type one letter" not in term.text
    with _store(home) as store:
        chosen = [row["chosen"] for row in store.test_answers(1) if row["kind"] == "true_false"]
    assert chosen and set(chosen) == {option}


def test_test_mode_ctrl_c_ends_with_the_score_so_far(bank, home):
    term = Terminal(KeyboardInterrupt)
    assert term.run(["--mode", "test", "--topic", "GD", "-n", "3", "--seed", "0"], bank) == 130
    assert "Score: 0/0 answered (3 items), seed 0." in term.text


# ---------------------------------------------------------------- stats and export
def test_stats_and_export(bank, home, tmp_path):
    Terminal("", "5", "", "1", "", "4").run(["--topic", "GD", "-n", "2"], bank)
    # grades: GD-01 5, GD-01a 1 (scheduled), then GD-01a repeat 4 (not counted in retention)
    term = Terminal()
    target = tmp_path / "export.csv"
    assert term.run(["--stats", "--export", str(target), "--topic", "GD"], bank) == 0
    assert "streak 1 day" in term.text
    assert "Flashcards: 0 due now, 0 missed in tests or mock interviews (due now), 3 new, 2 scheduled later, " \
           "next on 2025-03-02" in term.flat
    assert "  flashcards    1/2     50%" in term.text
    assert "  GD        1/2     50%" in term.text and "2025-03-01     1/2     50%  ##########" in term.text
    assert "OPT" not in term.text  # only the topics asked for
    assert "Wrote 3 row(s) for GD" in term.text
    rows = list(csv.DictReader(target.open()))
    assert [(r["card_id"], r["result"], r["question"]) for r in rows] == [
        ("GD-01", "5", "What is gradient descent?"), ("GD-01a", "1", "Why does the update use the negative gradient?"),
        ("GD-01a", "4", "Why does the update use the negative gradient?")]


def test_corrupt_store_is_reported_and_practice_goes_on(bank, home):
    home.mkdir(parents=True)
    (home / "progress.sqlite3").write_bytes(b"\x00garbage" * 500)
    term = Terminal("", "4")
    assert term.run(["--topic", "DL", "-n", "1"], bank) == 0
    assert "moved it to" in term.err.getvalue() and "corrupt-20250301T090000" in term.err.getvalue()
    assert (home / "progress.sqlite3.corrupt-20250301T090000").exists()


# ---------------------------------------------------------------- bad arguments
@pytest.mark.parametrize(("argv", "message"), [
    (["--topic", "XX"], "argument --topic: unknown topic 'XX'; choose from GD, VAR"),
    (["--topic", "GD", "nope"], "argument --topic: unknown topic 'nope'"),
    (["--level", "expert"], "argument --level: unknown level 'expert'; choose from easy, medium, hard"),
    (["-n", "0"], "argument -n: expected a number >= 1, got 0"),
    (["-n", "-3"], "argument -n: expected a number >= 1, got -3"),
    (["-n", "many"], "argument -n: expected a whole number, got 'many'"),
    (["--seed", "-1"], "argument --seed: expected a whole number >= 0, got -1"),
    (["--mode", "quiz"], "argument --mode: invalid choice: 'quiz'"),
])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys, home):
    with pytest.raises(SystemExit) as exit_info:
        gdcourse.cli.main(["practice", *argv])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not home.exists()  # nothing opened or created


def test_bad_arguments_in_a_real_process(home):
    result = subprocess.run([sys.executable, "-m", "gdcourse.cli", "practice", "--topic", "XX"],
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 2
    assert "unknown topic 'XX'" in result.stderr and result.stdout == ""


def _unlinked_fixture(tmp_path):
    """The fixture bank without notebook links, so a real process can load it wherever the notebooks are."""
    folder = tmp_path / "bank"
    folder.mkdir()
    for source in BANK_FIXTURE.glob("*.toml"):
        text = "\n".join('notebook = ""' if line.startswith("notebook = ") else line
                         for line in source.read_text().splitlines())
        (folder / source.name).write_text(text)
    return folder


def test_real_process_with_piped_input(home, tmp_path):
    bank_dir = _unlinked_fixture(tmp_path)
    result = subprocess.run([sys.executable, "-m", "gdcourse.cli", "practice", "--bank", str(bank_dir),
                             "--topic", "DL"], input="\n4\n\n5\n", capture_output=True, text=True, cwd=REPO,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Done: 2 card(s) graded, 2 passed" in result.stdout
    assert "Grade 0-5" in result.stdout  # prompts go to stdout, not stderr
    with _store(home) as store:
        assert [r["grade"] for r in store.reviews()] == [4, 5]


def test_real_ctrl_c_exits_130_and_keeps_the_grades(home, tmp_path):
    bank_dir = _unlinked_fixture(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "gdcourse.cli", "practice", "--bank", str(bank_dir),
                             "--topic", "DL"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO,
                            # pytest-xdist workers ignore SIGINT and children inherit that; a terminal does not
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: proc.stdout.read(1), "")), daemon=True)
    reader.start()
    proc.stdin.write("\n3\n")
    proc.stdin.flush()
    # Wait until the second card's prompt is on screen, so the process is blocked reading stdin.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "".join(chunks).count("Enter: show the answer") < 2:
        time.sleep(0.05)
    assert "".join(chunks).count("Enter: show the answer") >= 2, "".join(chunks)[-500:]
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    returncode = proc.wait(timeout=60)  # stdin stays open: only the signal can end the session
    proc.stdin.close()
    reader.join(timeout=10)
    out, err = "".join(chunks), proc.stderr.read()
    assert returncode == 130, err
    assert "Stopped: 1 card(s) graded" in out and "Traceback" not in err
    with _store(home) as store:
        assert [(r["card_id"], r["grade"]) for r in store.reviews()] == [("DL-01", 3)]


def test_no_matching_question_exits_2(bank, home):
    term = Terminal()
    assert term.run(["--mode", "test", "--topic", "NORM"], bank) == 2
    assert "no NORM question exists; these topics have no questions" in term.err.getvalue()


def test_practice_and_cheatsheet_are_registered_commands():
    parser = gdcourse.cli.build_parser()
    assert parser.parse_args(["practice", "--mode", "mock"]).run is practice_cli.run_practice
    assert parser.parse_args(["cheatsheet"]).run is practice_cli.run_cheatsheet


# ---------------------------------------------------------------- the real bank
def _real_bank():
    try:
        return load()
    except BankError as error:
        if "no <topic>.toml files" in str(error):
            pytest.skip("the course bank has no files yet")
        raise


def test_real_bank_mock_interview(home):
    bank = _real_bank()
    term = AutoTerminal({"-- more (": "s", "Enter: start": "", "[": "", "covered> ": "a", "Enter: finish": ""})
    assert term.run(["--mode", "mock", "-n", "3", "--seed", "11"], bank) == 0
    with _store(home) as store:
        answers = store.interview_answers(1)
    # every answer covered all its points, so every main question with a follow-up earned one
    mains = [a["card_id"] for a in answers if not a["follow_up"]]
    assert len(mains) == 3 and len(set(mains)) == 3
    expected_follow_ups = sum(1 for card_id in mains if bank.get(card_id).follow_ups)
    assert len(answers) == 3 + expected_follow_ups
    assert all(a["covered"] == a["total"] for a in answers)
    assert_fits_80x24(term)
    assert list((home / "interviews").glob("mock-*.md"))


def test_real_bank_test_mode(home):
    bank = _real_bank()
    term = AutoTerminal({"-- more (": "s", "Answer a-": "a", "Your number": "1", "Your formula": "1",
                         "Order, e.g.": "1 2 3 4"})
    assert term.run(["--mode", "test", "-n", "10", "--seed", "11"], bank) == 0
    with _store(home) as store:
        rows = store.test_answers(1)
    assert len(rows) == 10 and len({row["card_id"] for row in rows}) == 10
    assert f"Score: {sum(row['correct'] for row in rows)}/10 answered" in term.text
    assert_fits_80x24(term)


def test_real_bank_flashcards_fit_the_screen(home):
    bank = _real_bank()
    term = AutoTerminal({"-- more (": "", "> ": "", "Grade 0-5": "4"})
    assert term.run(["-n", "15"], bank) == 0
    with _store(home) as store:
        assert len(store.reviews()) == 15
    assert_fits_80x24(term)
