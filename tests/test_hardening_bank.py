"""The bank loader on malformed files in a temporary directory: every problem names the file, the entry
id and the field, and nothing escapes as an OSError, a TypeError or a silently merged entry."""

import re

import pytest

from gdcourse import bank

pytestmark = pytest.mark.filterwarnings("error")

GOOD = '''[[question]]
id = "GD-01"
topic = "GD"
level = "easy"
prompt = "p"
answer = "a"
key_points = ["a", "b", "c"]
follow_ups = []
notebook = ""
sources = ["s"]
'''


def _problems(directory):
    with pytest.raises(bank.BankError) as info:
        bank.load(directory, solutions_dir=directory)
    return info.value.problems


@pytest.mark.parametrize(("text", "problem"), [
    (GOOD + GOOD.replace('"GD-01"', '" GD-01 "', 1), "gd.toml: GD-01: duplicate id (first defined in gd.toml)"),
    (GOOD.replace("follow_ups = []", 'follow_ups = ["GD-01"]'), "gd.toml: GD-01: follow_ups names the question itself"),
    (GOOD.replace('id = "GD-01"', "id = 1"), "gd.toml: question #1 (no id): field 'id' must be a string, got int"),
    (GOOD.replace('prompt = "p"', "prompt = 1979-05-27"), "gd.toml: GD-01: field 'prompt' must be a string, got date"),
    (GOOD.replace('"easy"', '"trivial"'), "gd.toml: GD-01: level must be one of easy, medium, hard, got 'trivial'"),
    ("[[question]\nid=", "gd.toml: not valid TOML: Expected ']]' at the end of an array declaration"),
])
def test_malformed_entries_are_reported_with_file_id_and_field(tmp_path, text, problem):
    (tmp_path / "gd.toml").write_text(text)
    problems = _problems(tmp_path)
    assert any(p.startswith(problem) for p in problems), problems


def test_unreadable_files_and_notebooks_are_problems_not_crashes(tmp_path):
    (tmp_path / "gd.toml").mkdir()
    assert _problems(tmp_path) == ["gd.toml: cannot be read: Is a directory"]


def test_a_notebook_whose_cells_are_not_a_list_is_reported(tmp_path):
    (tmp_path / "gd.toml").write_text(GOOD.replace('notebook = ""', 'notebook = "01_gd_basics.ipynb#GD-01"'))
    (tmp_path / "01_gd_basics.ipynb").write_text('{"cells": 5}')
    assert _problems(tmp_path) == [f"{tmp_path / '01_gd_basics.ipynb'}: not a readable notebook (invalid JSON or "
                                   "no cells)"]


def test_a_directory_argument_that_is_not_a_path_or_is_a_file(tmp_path):
    with pytest.raises(TypeError, match=re.escape("directory: expected a path (str or os.PathLike), got int")):
        bank.load(5)
    (tmp_path / "gd.toml").write_text(GOOD)
    with pytest.raises(bank.BankError, match="expected a directory of <topic>.toml files; it is a file"):
        bank.load(tmp_path / "gd.toml")


def test_a_stripped_id_still_loads(tmp_path):
    (tmp_path / "gd.toml").write_text(GOOD.replace('"GD-01"', '" GD-01 "', 1))
    assert [entry.id for entry in bank.load(tmp_path, solutions_dir=tmp_path)] == ["GD-01"]
