"""Tests of the question bank: the loader's validation, the bank's coverage and links, and its content.

The question ids come from ``../shared/questions.md`` when it exists beside the
repository (and a committed copy, ``tests/data/question_ids.txt``, must match it);
in a clean clone the copy is used. The last group of tests re-derives, with code
written here, numbers the bank states, so a wrong claim in an answer fails a test.
"""

from __future__ import annotations

import json
import re
from dataclasses import FrozenInstanceError
from dataclasses import fields as dataclass_fields
from pathlib import Path

import numpy as np
import pytest

from gdcourse.bank import LEVELS, TOPICS, Bank, BankError, load

TESTS = Path(__file__).resolve().parent
SHARED_QUESTIONS = TESTS.parents[1] / "shared" / "questions.md"
ID_COPY = TESTS / "data" / "question_ids.txt"
TABLE_ROW = re.compile(r"^\|\s*(?P<id>[A-Z]+-\d{2})\s*\|(?P<cells>.*)\|\s*$")
NOTEBOOK_OF_COLUMN = {
    "01": "01_gd_basics.ipynb", "02": "02_gd_variants.ipynb", "03": "03_optimizers.ipynb",
    "04": "04_backprop.ipynb", "05": "05_activations.ipynb", "06": "06_normalization.ipynb",
    "07": "07_regularization.ipynb", "08": "08_initialization.ipynb", "09": "09_training_playbook.ipynb",
    "bank": "",
}
NOTEBOOK_OF_TOPIC = {
    "GD": "01_gd_basics.ipynb", "VAR": "02_gd_variants.ipynb", "OPT": "03_optimizers.ipynb",
    "BP": "04_backprop.ipynb", "ACT": "05_activations.ipynb", "NORM": "06_normalization.ipynb",
    "REG": "07_regularization.ipynb", "INIT": "08_initialization.ipynb", "PRAC": "09_training_playbook.ipynb",
    "DL": "", "SCALE": "11_training_at_scale.ipynb",
}
COURSE_TOPICS = {"SCALE"}
"""Topics the course adds beyond the question list of questions.md: their ids are the course's own."""


def parse_question_tables(text: str) -> dict[str, dict]:
    """Rows of the id tables in questions.md: id -> {"seeds": [...], "notebook": "01" | "bank"}."""
    rows = {}
    for line in text.splitlines():
        match = TABLE_ROW.match(line.strip())
        if match is None:
            continue
        cells = [cell.strip() for cell in match["cells"].split("|")]
        seeds = [] if cells[1] == "(beyond seeds)" else [seed.strip() for seed in cells[1].split(",")]
        rows[match["id"]] = {"seeds": seeds, "notebook": cells[2]}
    return rows


def shared_rows() -> dict[str, dict] | None:
    if not SHARED_QUESTIONS.is_file():
        return None
    return parse_question_tables(SHARED_QUESTIONS.read_text(encoding="utf-8"))


def question_ids() -> list[str]:
    """Ids from the shared questions.md if present, else the committed copy."""
    rows = shared_rows()
    if rows is not None:
        return list(rows)
    return ID_COPY.read_text(encoding="utf-8").split()


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture(scope="module")
def bank() -> Bank:
    return load()


# ---------------------------------------------------------------- coverage and consistency


def test_id_copy_matches_shared_questions():
    rows = shared_rows()
    if rows is None:
        pytest.skip("../shared/questions.md is not beside this checkout; the committed copy is used")
    assert ID_COPY.read_text(encoding="utf-8").split() == list(rows)


def test_questions_md_notebook_column_matches_topic_notebooks():
    rows = shared_rows()
    if rows is None:
        pytest.skip("../shared/questions.md is not beside this checkout")
    for entry_id, row in rows.items():
        topic = entry_id.split("-")[0]
        assert NOTEBOOK_OF_COLUMN[row["notebook"]] == NOTEBOOK_OF_TOPIC[topic], entry_id


@pytest.mark.parametrize("topic", [topic for topic in TOPICS if topic not in COURSE_TOPICS])
def test_every_question_id_has_an_entry(bank, topic):
    wanted = [entry_id for entry_id in question_ids() if entry_id.startswith(topic + "-")]
    assert wanted, f"questions.md lists no ids for topic {topic}"
    missing = [entry_id for entry_id in wanted if entry_id not in bank]
    assert not missing, f"{topic}: no bank entry for {missing}"


def test_every_main_entry_is_a_question_id(bank):
    listed = {entry_id for entry_id in bank.main_ids() if bank.get(entry_id).topic not in COURSE_TOPICS}
    assert listed <= set(question_ids())


@pytest.mark.parametrize("topic", sorted(COURSE_TOPICS))
def test_course_topics_have_main_questions_and_no_seed_sources(bank, topic):
    entries = bank.by_topic(topic)
    assert [e for e in entries if not e.is_follow_up], f"{topic} has no main question"
    assert all(not e.sources for e in entries), f"{topic} entries are the course's own: sources must be []"
    assert not set(e.id for e in entries) & set(question_ids())


def test_follow_ups_exist_and_are_listed_by_their_parent(bank):
    for entry in bank:
        for other in entry.follow_ups:
            assert other in bank, f"{entry.id} lists unknown follow-up {other}"
        if entry.is_follow_up:
            assert entry.id in bank.get(entry.parent).follow_ups, f"{entry.parent} does not list {entry.id}"


def test_links_point_at_the_notebook_and_section_of_questions_md(bank):
    for entry in bank:
        main_id = entry.parent if entry.is_follow_up else entry.id
        notebook = NOTEBOOK_OF_TOPIC[entry.topic]
        expected = f"{notebook}#{main_id}" if notebook else ""
        allowed = {expected, ""} if entry.is_follow_up else {expected}
        assert entry.notebook in allowed, f"{entry.id}: link {entry.notebook!r}, expected {expected!r}"


def test_main_entries_cite_the_seeds_of_questions_md(bank):
    rows = shared_rows()
    if rows is None:
        pytest.skip("../shared/questions.md is not beside this checkout")
    for entry_id in bank.main_ids():
        if bank.get(entry_id).topic in COURSE_TOPICS:
            continue
        assert list(bank.get(entry_id).sources) == rows[entry_id]["seeds"], entry_id


SOURCE_TAG = re.compile(r"(?i)\bseeds? \d{3}|\b\d{3}#\d")


def test_learner_text_never_shows_source_tags():
    # The seed ids ("seed 004#4", "seeds 000#14 and 000#15", "001#30") belong in `sources` only.
    tagged = []
    for entry in load():
        for field in dataclass_fields(entry):
            value = getattr(entry, field.name)
            texts = [value] if isinstance(value, str) else list(value)
            if field.name != "sources":
                tagged += [(entry.id, field.name, m.group()) for text in texts for m in SOURCE_TAG.finditer(text)]
    assert not tagged, f"source tags in learner-facing text: {tagged}"


@pytest.mark.parametrize("topic", list(TOPICS))
def test_answers_are_interview_length(bank, topic):
    # gdcourse/bank/README.md asks for roughly 80-250 words; allow a margin for short follow-ups and formulas.
    wrong = {e.id: words(e.answer) for e in bank.by_topic(topic) if not 60 <= words(e.answer) <= 300}
    assert not wrong, f"answers outside 60-300 words: {wrong}"


def test_every_level_is_used_by_the_bank(bank):
    assert {entry.level for entry in bank} == set(LEVELS)


# ---------------------------------------------------------------- the loader's API


def test_entry_is_frozen_and_knows_its_parent(bank):
    main, follow_up = bank.get("GD-03"), bank.get("GD-03a")
    assert (main.is_follow_up, main.parent) == (False, None)
    assert (follow_up.is_follow_up, follow_up.parent) == (True, "GD-03")
    assert isinstance(main.key_points, tuple) and isinstance(main.sources, tuple)
    with pytest.raises(FrozenInstanceError):
        main.level = "hard"


def test_bank_lookups(bank):
    gd = bank.by_topic("GD")
    assert gd and all(entry.topic == "GD" for entry in gd)
    assert "GD-03a" not in bank.main_ids() and "GD-03" in bank.main_ids()
    with pytest.raises(KeyError, match="GD-99"):
        bank.get("GD-99")
    with pytest.raises(ValueError, match="topic"):
        bank.by_topic("XYZ")


def test_the_format_readme_documents_every_field_as_the_loader_checks_it():
    from gdcourse import bank as B

    readme = (B.BANK_DIR / "README.md").read_text(encoding="utf-8")
    rows = {m["name"]: m["required"] for m in re.finditer(
        r"^\| `(?P<name>\w+)` \| [^|]+ \| (?P<required>[^|]+) \|", readme, re.MULTILINE)}
    assert set(rows) == set(B.FIELD_NAMES)
    assert {name for name, required in rows.items() if required.strip() == "no"} == set(B.OPTIONAL_FIELDS)
    low, high = B.KEY_POINTS_RANGE
    assert f"{low} to {high} non-empty strings" in readme
    assert all(f"`{level}`" in readme for level in LEVELS)
    assert all(f"`{code.lower()}.toml`" in readme for code in TOPICS)


def test_every_bank_file_points_to_the_format_readme_in_its_header():
    from gdcourse import bank as B

    for path in sorted(B.BANK_DIR.glob("*.toml")):
        header = path.read_text(encoding="utf-8").split("[[question]]", 1)[0]
        assert "Format: gdcourse/bank/README.md" in header, path.name
        assert "Schema:" not in header and ".md" not in header.replace("gdcourse/bank/README.md", ""), \
            path.name  # the only document it points to is inside the repository


def test_missing_directory_is_reported(tmp_path):
    with pytest.raises(BankError, match="does not exist"):
        load(tmp_path / "nowhere")


# ---------------------------------------------------------------- validation on hand-made banks


def valid_fields(entry_id: str, **overrides) -> dict:
    topic = entry_id.split("-")[0]
    fields = {
        "id": entry_id, "topic": topic, "level": "easy", "prompt": f"Question {entry_id}?",
        "answer": "An answer.", "key_points": ["one", "two", "three"], "follow_ups": [],
        "notebook": "", "sources": [],
    }
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not None}


def toml_entry(fields: dict) -> str:
    # JSON strings and string arrays are valid TOML basic strings and arrays.
    lines = ["[[question]]"] + [f"{name} = {json.dumps(value)}" for name, value in fields.items()]
    return "\n".join(lines) + "\n\n"


def write_bank(directory: Path, files: dict[str, list[dict]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, entries in files.items():
        (directory / name).write_text("".join(toml_entry(fields) for fields in entries), encoding="utf-8")
    return directory


def write_notebook(path: Path, cells: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    notebook = {"cells": [{"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True)}
                          for kind, text in cells],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook), encoding="utf-8")


def test_links_are_checked_against_existing_notebooks_only(tmp_path):
    bank_dir = write_bank(tmp_path / "bank", {"gd.toml": [
        valid_fields("GD-01", notebook="01_gd_basics.ipynb#GD-01"),
        valid_fields("GD-02", notebook="01_gd_basics.ipynb#GD-02"),
    ], "var.toml": [valid_fields("VAR-01", notebook="02_gd_variants.ipynb#VAR-01")]})
    notebook = tmp_path / "solutions" / "01_gd_basics.ipynb"
    # GD-02 appears only in a code cell and under a level-3 heading: neither is a section.
    write_notebook(notebook, [("markdown", "# Basics\n\n## GD-01 · What gradient descent is\n"),
                              ("code", "## GD-02 · not a heading\n"),
                              ("markdown", "### GD-02 · wrong heading level\n")])
    with pytest.raises(BankError) as caught:
        load(bank_dir, solutions_dir=tmp_path / "solutions")
    assert caught.value.problems == [
        "gd.toml: GD-02: notebook link '01_gd_basics.ipynb#GD-02': 01_gd_basics.ipynb has no heading "
        "'## GD-02 · ...'"]

    write_notebook(notebook, [("markdown", "## GD-01 · What gradient descent is"),
                              ("markdown", "Text.\n## GD-02 · The update rule\nMore text.")])
    loaded = load(bank_dir, solutions_dir=tmp_path / "solutions")  # 02_gd_variants is absent: unchecked
    assert list(loaded.entries) == ["GD-01", "GD-02", "VAR-01"]


def test_broken_bank_reports_every_problem_at_once(tmp_path):
    files = {
        "gd.toml": [
            valid_fields("GD-01", answer=None),                                  # missing field
            valid_fields("GD-02"),
            valid_fields("GD-02", prompt="Again?"),                              # duplicate id
            valid_fields("GD-03", level="trivial"),                              # bad level
            valid_fields("GD-04", follow_ups=["GD-04b"]),                        # unknown follow-up
            valid_fields("GD-05", topic="OPT"),                                  # wrong topic
            valid_fields("GD-06", notebook="01_gd_basics.ipynb#GD-60"),          # bad link
            valid_fields("GD-07", key_points=["only", "two"]),                   # too few key points
            valid_fields("GD-08", sources="000#1"),                              # wrong type
            valid_fields("GD-09a"),                                              # parent GD-09 missing
            valid_fields("GD-10", hint="unknown field"),                         # unknown field
            valid_fields("GD-11", notebook="99_nowhere.ipynb#GD-11"),            # unknown notebook
        ],
        "opt.toml": [],
        "misc.toml": [valid_fields("GD-12")],                                   # not a topic file
    }
    bank_dir = write_bank(tmp_path / "bank", files)
    (bank_dir / "opt.toml").write_text("[[question]]\nid = 'OPT-01\n", encoding="utf-8")  # invalid TOML
    write_notebook(tmp_path / "solutions" / "01_gd_basics.ipynb", [("markdown", "## GD-06 · Real heading")])

    with pytest.raises(BankError) as caught:
        load(bank_dir, solutions_dir=tmp_path / "solutions")
    message = str(caught.value)
    expected = [
        "gd.toml: GD-01: missing field 'answer'",
        "gd.toml: GD-02: duplicate id (first defined in gd.toml)",
        "gd.toml: GD-03: level must be one of easy, medium, hard, got 'trivial'",
        "gd.toml: GD-04: follow_ups names unknown id 'GD-04b'",
        "gd.toml: GD-05: id prefix 'GD' does not match topic 'OPT'",
        "gd.toml: GD-05: topic 'OPT' does not match the file (expected 'GD')",
        "gd.toml: GD-06: notebook link '01_gd_basics.ipynb#GD-60'",
        "gd.toml: GD-07: key_points must have 3 to 6 items, got 2",
        "gd.toml: GD-08: field 'sources' must be a list of non-empty strings",
        "gd.toml: GD-09a: follow-up of 'GD-09', which does not exist",
        "gd.toml: GD-10: unknown field 'hint'",
        "gd.toml: GD-11: notebook link '99_nowhere.ipynb#GD-11' must be",
        "opt.toml: not valid TOML",
        "misc.toml: file name must be a topic code",
    ]
    for fragment in expected:
        assert fragment in message
    assert len(caught.value.problems) == len(expected), message


def test_malformed_entry_is_reported_once_not_again_as_unknown_follow_up(tmp_path):
    bank_dir = write_bank(tmp_path / "bank", {"gd.toml": [
        valid_fields("GD-01", follow_ups=["GD-01a"]),
        valid_fields("GD-01a", level=2),
    ]})
    with pytest.raises(BankError) as caught:
        load(bank_dir, solutions_dir=tmp_path)
    assert caught.value.problems == ["gd.toml: GD-01a: field 'level' must be a string, got int"]


# ---------------------------------------------------------------- known seed errors are not repeated


def test_history_credits_cauchy_not_a_1964_physicist(bank):
    history = bank.get("GD-01a")
    assert "Cauchy" in history.answer and "1847" in history.answer
    assert "Molnar" in history.common_mistake
    assert not [entry.id for entry in bank if "Molnar" in entry.answer]


def test_rmsprop_averages_the_squared_gradient_with_eps_outside_the_root(bank):
    for entry_id in ("OPT-06", "OPT-04"):
        assert re.search(r"\(1 - \\alpha\)\\?,?\s*g_t\^2", bank.get(entry_id).formula), entry_id
    assert r"\sqrt{v_t} + \epsilon" in bank.get("OPT-06").formula
    assert "squared" in bank.get("OPT-06").common_mistake


def test_clipping_is_not_offered_as_a_vanishing_gradient_remedy(bank):
    remedies = bank.get("BP-09")
    assert all("clip" not in point.lower() or "not" in point.lower() for point in remedies.key_points)
    assert re.search(r"nothing\*?\*? for vanishing gradients", bank.get("OPT-12").answer)
    for entry_id in ("OPT-12", "BP-06", "BP-09"):
        assert "vanishing" in bank.get(entry_id).common_mistake, entry_id


def test_momentum_forms_are_presented_as_one_method(bank):
    momentum = bank.get("OPT-02")
    assert r"b_t = \mu\, b_{t-1} + g_t" in momentum.formula  # PyTorch's form
    assert r"\eta = \alpha(1 - \beta)" in momentum.answer
    assert "same method" in momentum.common_mistake


def test_batch_size_speaks_of_variance_not_bias(bank):
    batch = bank.get("VAR-08")
    assert "high variance" in batch.answer and "bias lower" not in batch.answer
    assert "unbiased at every batch size" in batch.common_mistake
    assert r"\mathrm{Var}[g_B] = \frac{\sigma^2}{B}" in batch.formula


def test_learning_rate_scaling_separates_linear_and_square_root_rules(bank):
    scaling = bank.get("VAR-09")
    assert "Goyal et al., 2017" in scaling.answer
    assert r"\eta \to k\eta" in scaling.answer and r"\eta \to \sqrt k\,\eta" in scaling.answer
    assert r"states the $\sqrt k$ rule" in scaling.common_mistake


def test_worked_example_does_not_start_at_the_minimum(bank):
    example = bank.get("GD-05a")
    assert "$x_0 = 3$" in example.answer and "x = 0" in example.common_mistake


# ---------------------------------------------------------------- numbers the bank states, re-derived


def test_quadratic_step_limit_is_two_over_L(bank):
    assert "$0 < \\eta < 2/L$" in bank.get("GD-03a").answer
    curvature = 4.0

    def final_x(lr, steps=200):
        x = 1.0
        for _ in range(steps):
            x -= lr * curvature * x
        return x

    assert final_x(1 / curvature, steps=1) == 0.0
    assert abs(final_x(1.9 / curvature)) < 1e-8
    assert abs(final_x(2.0 / curvature)) == 1.0
    assert abs(final_x(2.1 / curvature)) > 1e6


def test_gd_on_x_squared_plus_5_matches_the_worked_example(bank):
    assert "0.035" in bank.get("GD-05a").answer and "4.3\\cdot10^{-5}" in bank.get("GD-05a").answer
    x = 3.0
    trajectory = []
    for _ in range(50):
        x -= 0.1 * 2 * x
        trajectory.append(x)
    assert trajectory[:2] == pytest.approx([2.4, 1.92])
    assert trajectory[19] == pytest.approx(0.035, abs=5e-4)
    assert trajectory[49] == pytest.approx(4.3e-5, abs=1e-6)


def test_momentum_forms_give_identical_iterates(bank):
    rng = np.random.default_rng(0)
    curvatures, start = np.array([1.0, 10.0, 50.0]), rng.normal(size=3)
    alpha, beta = 0.02, 0.9

    ema_theta, ema_v = start.copy(), np.zeros(3)             # v = beta v + (1 - beta) g; theta -= alpha v
    torch_theta, torch_b = start.copy(), np.zeros(3)         # b = mu b + g; theta -= lr b
    velocity_theta, velocity = start.copy(), np.zeros(3)     # v = mu v - lr g; theta += v
    lr = alpha * (1 - beta)
    for _ in range(100):
        ema_v = beta * ema_v + (1 - beta) * curvatures * ema_theta
        ema_theta = ema_theta - alpha * ema_v
        torch_b = beta * torch_b + curvatures * torch_theta
        torch_theta = torch_theta - lr * torch_b
        velocity = beta * velocity - lr * curvatures * velocity_theta
        velocity_theta = velocity_theta + velocity
    np.testing.assert_allclose(torch_theta, ema_theta, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(velocity_theta, ema_theta, rtol=1e-10, atol=1e-14)


def test_pytorch_nesterov_stores_the_look_ahead_point():
    rng = np.random.default_rng(1)
    curvatures, start = np.array([0.5, 4.0]), rng.normal(size=2)
    lr, mu = 0.1, 0.9
    theta, v = start.copy(), np.zeros(2)       # textbook: gradient at theta + mu v
    phi, b = start.copy(), np.zeros(2)         # PyTorch: b = mu b + g; phi -= lr (g + mu b)
    for _ in range(60):
        v = mu * v - lr * curvatures * (theta + mu * v)
        theta = theta + v
        g = curvatures * phi
        b = mu * b + g
        phi = phi - lr * (g + mu * b)
        np.testing.assert_allclose(phi, theta + mu * v, rtol=1e-10, atol=1e-14)


def test_adam_bias_correction_numbers(bank):
    answer = bank.get("OPT-07a").answer
    assert "3.16" in answer and "6.6" in answer and "1.26" in answer
    beta1, beta2, grad = 0.9, 0.999, 0.7
    m = v = 0.0
    ratios = []
    for t in range(1, 5001):  # constant gradient: uncorrected vs corrected step, by running the recursions
        m = beta1 * m + (1 - beta1) * grad
        v = beta2 * v + (1 - beta2) * grad**2
        uncorrected = m / np.sqrt(v)
        corrected = (m / (1 - beta1**t)) / np.sqrt(v / (1 - beta2**t))
        ratios.append(uncorrected / corrected)
    assert ratios[0] == pytest.approx(3.16, abs=0.01)
    assert max(ratios) == pytest.approx(6.6, abs=0.05) and 10 <= int(np.argmax(ratios)) + 1 <= 14
    assert ratios[999] == pytest.approx(1.26, abs=0.01)
    assert ratios[-1] == pytest.approx(1.0, abs=0.01)


def test_with_replacement_misses_about_37_percent(bank):
    assert "0.366" in bank.get("VAR-06a").answer and "37\\%" in bank.get("VAR-06").answer
    assert (1 - 1 / 100) ** 100 == pytest.approx(0.366, abs=5e-4)
    rng = np.random.default_rng(2)
    n, trials = 1000, 200
    draws = rng.integers(0, n, size=(trials, n))
    seen = np.zeros((trials, n), dtype=bool)
    seen[np.arange(trials)[:, None], draws] = True
    assert 1 - seen.mean() == pytest.approx(np.exp(-1), abs=0.005)


def test_sigmoid_derivative_bound_after_ten_layers(bank):
    assert "9.5\\cdot10^{-7}" in bank.get("BP-06a").answer
    z = np.linspace(-10, 10, 200001)
    sigmoid = 1 / (1 + np.exp(-z))
    assert (sigmoid * (1 - sigmoid)).max() == pytest.approx(0.25)
    assert 0.25**10 == pytest.approx(9.5e-7, rel=0.01)


def test_newton_lands_on_the_saddle_and_gradient_descent_escapes(bank):
    assert "lands exactly on the saddle" in bank.get("OPT-11a").answer
    hessian = np.diag([2.0, -2.0])  # f(x, y) = x^2 - y^2
    point = np.random.default_rng(3).normal(size=2)
    gradient = hessian @ point
    np.testing.assert_allclose(point - np.linalg.solve(hessian, gradient), 0.0, atol=1e-15)
    gd_point = point.copy()
    for _ in range(100):
        gd_point = gd_point - 0.1 * hessian @ gd_point
    assert abs(gd_point[0]) < 1e-8 and abs(gd_point[1]) > 1e6


def test_condition_number_step_count(bank):
    assert "1,150 steps" in bank.get("OPT-11b").answer
    eigenvalues = np.array([1.0, 100.0])
    lr = 2 / (eigenvalues.min() + eigenvalues.max())
    x, steps = np.ones(2), 0
    while np.linalg.norm(x) > 1e-10 * np.sqrt(2):
        x = x - lr * eigenvalues * x
        steps += 1
    assert steps == pytest.approx(1150, rel=0.01)


def test_central_differences_in_float64(bank):
    assert "6\\cdot10^{-6}" in bank.get("BP-12a").answer
    x, h = 1.0, 6e-6
    central = (np.sin(x + h) - np.sin(x - h)) / (2 * h)
    forward = (np.sin(x + h) - np.sin(x)) / h
    assert abs(central - np.cos(x)) < 1e-10
    assert abs(forward - np.cos(x)) > 1e-6
    assert np.finfo(np.float64).eps ** (1 / 3) == pytest.approx(6e-6, rel=0.02)
