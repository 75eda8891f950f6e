"""``gdcourse cheatsheet``: one Markdown page per topic and one escaped HTML file, written atomically."""

import os
import textwrap
from html.parser import HTMLParser

import gdcourse.cli
from gdcourse.bank import load
from gdcourse.practice import cli as practice_cli
from gdcourse.practice.cheatsheet import cheatsheet_html, topic_markdown, write_cheatsheet


def test_markdown_page_holds_key_points_formulas_and_mistakes(bank):
    page = topic_markdown(bank, "GD")
    assert page.startswith("# GD · Gradient descent basics\n")
    assert "## GD-01 · What is gradient descent? (easy)" in page
    assert "### follow-up GD-01a · Why does the update use the negative gradient? (medium)" in page
    gd01 = page.split("## GD-01 ·")[1].split("###")[0]
    assert gd01.count("\n- ") == 3 and "- steps against the gradient" in gd01
    assert "$$ \\theta_{t+1} = \\theta_t - \\eta \\nabla L(\\theta_t) $$" in gd01
    assert "> Avoid: Crediting the method to a 1964 physicist" in gd01
    assert "We want parameters" not in page  # key points, not the full answers
    assert page.count("\n## ") == 4          # GD-01..GD-04; the follow-up is a sub-heading


def test_write_cheatsheet_one_page_per_topic_and_one_html(bank, tmp_path):
    paths = write_cheatsheet(bank, tmp_path / "sheet")
    assert [p.name for p in paths] == ["gd.md", "opt.md", "dl.md", "cheatsheet.html"]
    assert sorted(os.listdir(tmp_path / "sheet")) == ["cheatsheet.html", "dl.md", "gd.md", "opt.md"]  # no temp files
    html = (tmp_path / "sheet" / "cheatsheet.html").read_text()
    assert html.count("<section ") == 3 and "break-after: page" in html
    assert html.count("<article ") == len(bank)


class _TextCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_escapes_every_text_and_keeps_latex_as_text(tmp_path):
    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "reg.toml").write_text(textwrap.dedent('''
        [[question]]
        id = "REG-01"
        topic = "REG"
        level = "easy"
        prompt = "Is <script>alert(1)</script> & co a risk?"
        answer = "No."
        key_points = ["a < b", "<b>not bold</b>", "x & y"]
        follow_ups = []
        notebook = ""
        sources = []
        formula = '\\lambda \\|w\\|_2^2 < C'
        common_mistake = "Thinking \\"quotes\\" & <tags> are safe."
        '''))
    html = cheatsheet_html(load(tmp_path / "bank", solutions_dir=tmp_path))
    assert "<script>" not in html and "<b>not bold</b>" not in html
    parser = _TextCollector()
    parser.feed(html)
    text = "".join(parser.text)
    for original in ("Is <script>alert(1)</script> & co a risk?", "a < b", "<b>not bold</b>", "x & y",
                     "\\lambda \\|w\\|_2^2 < C", 'Thinking "quotes" & <tags> are safe.'):
        assert original in text
    assert "script" not in parser.tags and parser.tags.count("li") == 3


def test_cheatsheet_command(bank, tmp_path, capsys):
    args = gdcourse.cli.build_parser().parse_args(["cheatsheet", "--out", str(tmp_path / "out")])
    assert practice_cli.run_cheatsheet(args, bank=bank) == 0
    assert "Wrote 3 Markdown page(s)" in capsys.readouterr().out
    assert (tmp_path / "out" / "gd.md").is_file() and (tmp_path / "out" / "cheatsheet.html").is_file()


def test_cheatsheet_command_reports_an_unwritable_directory(bank, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    args = gdcourse.cli.build_parser().parse_args(["cheatsheet", "--out", str(blocker / "sub")])
    assert practice_cli.run_cheatsheet(args, bank=bank) == 1
    assert "cannot write to" in capsys.readouterr().err
