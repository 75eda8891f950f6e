"""Learner-facing text never cites the course's source documents by their internal tags ("seed 000#1").

The solution notebooks (every cell's source) and the package's Python files are read as plain text, so
prose, code, printed strings and docstrings are all covered. The question bank (gdcourse/bank/*.toml) has
its own check.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE_TAG = re.compile(r"(?i)\bseeds? \d{3}")


def _notebook_cells():
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            yield f"{path.name}:{cell.get('id')}", "".join(cell["source"])


def _package_files():
    for path in sorted((ROOT / "gdcourse").rglob("*.py")):
        yield str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")


def _tagged(texts):
    return [f"{where}: {m.group(0)!r}" for where, text in texts for m in SOURCE_TAG.finditer(text)]


def test_the_pattern_catches_the_tag_forms_and_spares_ordinary_seeds():
    tagged = ["A widely copied answer (seed 000#1) says", "Seed 003's article", "Seeds 001#30 and 000#12"]
    plain = ["rng=seed", "the same seed", "several seeds", "default_rng(123)"]
    assert all(SOURCE_TAG.search(t) for t in tagged)
    assert not any(SOURCE_TAG.search(t) for t in plain)


@pytest.mark.parametrize("texts", [_notebook_cells, _package_files], ids=["solution notebooks", "gdcourse .py"])
def test_no_source_tags(texts):
    found = list(texts())
    assert found, "nothing was read: the paths are wrong"
    assert _tagged(found) == []
