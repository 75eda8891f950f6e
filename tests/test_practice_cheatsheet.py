"""``gdcourse cheatsheet``: one printable A4 page per topic (printed with Chromium), math rendered, filters."""

import os
import re
import shutil
import subprocess
import textwrap
from html.parser import HTMLParser

import pytest

import gdcourse.cli
from gdcourse.bank import TOPICS, load
from gdcourse.practice import cli as practice_cli
from gdcourse.practice.cheatsheet import cheatsheet_html, topic_markdown, weak_ids, write_cheatsheet
from gdcourse.practice.store import ProgressStore

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_markdown_page_holds_key_points_formulas_and_mistakes_with_math_as_text(bank):
    page = topic_markdown(bank, "GD")
    assert page.startswith("# GD · Gradient descent basics\n")
    assert "## GD-01 · What is gradient descent? (easy)" in page
    assert "### follow-up GD-01a · Why does the update use the negative gradient? (medium)" in page
    gd01 = page.split("## GD-01 ·")[1].split("###")[0]
    assert gd01.count("\n- ") == 3 and "- steps against the gradient" in gd01
    assert "    θₜ₊₁ = θₜ - η ∇ L(θₜ)" in gd01                     # \theta_{t+1} = \theta_t - \eta \nabla L(\theta_t)
    assert "> Avoid: Crediting the method to a 1964 physicist" in gd01
    assert "We want parameters" not in page  # key points, not the full answers
    assert page.count("\n## ") == 4          # GD-01..GD-04; the follow-up is a sub-heading
    assert "$" not in page and "\\" not in page and "gdcourse cheatsheet" not in page   # no maintainer note


def test_write_cheatsheet_one_section_per_topic_and_filters(bank, tmp_path):
    paths = write_cheatsheet(bank, tmp_path / "sheet")
    assert [p.name for p in paths] == ["gd.md", "opt.md", "dl.md", "cheatsheet.html"]
    assert sorted(os.listdir(tmp_path / "sheet")) == ["cheatsheet.html", "dl.md", "gd.md", "opt.md"]  # no temp files
    page = (tmp_path / "sheet" / "cheatsheet.html").read_text()
    assert page.count("<section ") == 3 and "break-after: page" in page and "size: A4" in page
    assert page.count("<article ") == len(bank.main_ids())  # follow-ups: one line per topic, full in the .md
    assert "Follow-ups in the bank: GD-01a" in page
    assert "### follow-up GD-01a" in (tmp_path / "sheet" / "gd.md").read_text()
    only = cheatsheet_html(bank, topics=["OPT"], ids={"OPT-02", "GD-01"})
    assert only.count("<section ") == 1 and only.count("<article ") == 1 and 'id="OPT-02"' in only


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_escapes_every_text_and_renders_math_as_mathml(tmp_path):
    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "reg.toml").write_text(textwrap.dedent('''
        [[question]]
        id = "REG-01"
        topic = "REG"
        level = "easy"
        prompt = "Is <script>alert(1)</script> & co a risk?"
        answer = "No."
        key_points = ["a < b", "<b>not bold</b>", "x & y with $\\\\frac{1}{2}$"]
        follow_ups = []
        notebook = ""
        sources = []
        formula = '\\lambda \\|w\\|_2^2 < C'
        common_mistake = "Thinking \\"quotes\\" & <tags> are safe."
        '''))
    page = cheatsheet_html(load(tmp_path / "bank", solutions_dir=tmp_path))
    assert "<script>" not in page and "<b>not bold</b>" not in page
    parser = _TextCollector()
    parser.feed(page)
    text = "".join(parser.text)
    for original in ("Is <script>alert(1)</script> & co a risk?", "a < b", "<b>not bold</b>", "x & y with ",
                     'Thinking "quotes" & <tags> are safe.'):
        assert original in text
    assert "script" not in parser.tags and parser.tags.count("li") == 3
    assert parser.tags.count("math") == 2 and "mfrac" in parser.tags and "λ" in text
    assert "\\frac" not in page and "\\lambda" not in page and "$" not in text


def _pdf_pages(html_path, tmp_path):
    pdf = tmp_path / "sheet.pdf"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", html_path.as_uri()], capture_output=True, timeout=180, check=False)
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs Chromium to print the page")
def test_the_real_cheat_sheet_prints_one_a4_page_per_topic(tmp_path):
    bank = load()
    paths = write_cheatsheet(bank, tmp_path / "sheet")
    topics = len(paths) - 1
    assert topics == len(TOPICS)
    assert _pdf_pages(paths[-1], tmp_path) == topics
    page = paths[-1].read_text()
    sizes = [float(size) for size in re.findall(r'<section id="topic-\w+" style="font-size: ([\d.]+)pt">', page)]
    assert len(sizes) == topics and min(sizes) >= 6.5, sizes  # readable when printed
    assert "$" not in re.sub(r"<[^>]+>", "", page) and "\\frac" not in page


def test_weak_cards_are_low_grades_and_misses(bank, tmp_path, clock):
    with ProgressStore(tmp_path / "p.sqlite3", now=clock) as store:
        store.record_review("GD-01", "GD", 5)
        store.record_review("GD-02", "GD", 2)
        store.record_review("GD-02", "GD", 5, scheduled=False)     # a same-day repeat does not count
        store.record_review("OPT-01", "OPT", 3)
        clock.advance(hours=1)
        test = store.start_session("test")
        store.record_test_answer(test, "GD-01", "GD", kind="true_false", chosen="True", correct=False)
        assert weak_ids(store) == {"GD-02", "OPT-01", "GD-01"}
        assert weak_ids(store, 3) == {"GD-02", "GD-01"}


def test_cheatsheet_command_with_topic_and_weak(bank, tmp_path, capsys, monkeypatch, clock):
    monkeypatch.setenv("GDCOURSE_HOME", str(tmp_path / "home"))
    args = gdcourse.cli.build_parser().parse_args(["cheatsheet", "--out", str(tmp_path / "out"), "--topic", "GD"])
    assert practice_cli.run_cheatsheet(args, bank=bank) == 0
    assert "one A4 page per topic) and 1 Markdown page(s)" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path / "out")) == ["cheatsheet.html", "gd.md"]
    args = gdcourse.cli.build_parser().parse_args(["cheatsheet", "--out", str(tmp_path / "weak"), "--weak"])
    assert practice_cli.run_cheatsheet(args, bank=bank, now=clock) == 1
    assert "no weak card (last flashcard grade below 4" in capsys.readouterr().err
    with ProgressStore(tmp_path / "home" / "progress.sqlite3", now=clock) as store:
        store.record_review("OPT-02", "OPT", 1)
    assert practice_cli.run_cheatsheet(args, bank=bank, now=clock) == 0
    page = (tmp_path / "weak" / "cheatsheet.html").read_text()
    assert page.count("<article ") == 1 and 'id="OPT-02"' in page and "(1 weak card(s))" in capsys.readouterr().out


def test_cheatsheet_command_reports_an_unwritable_directory(bank, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    args = gdcourse.cli.build_parser().parse_args(["cheatsheet", "--out", str(blocker / "sub")])
    assert practice_cli.run_cheatsheet(args, bank=bank) == 1
    assert "cannot write to" in capsys.readouterr().err
