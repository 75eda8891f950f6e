"""The disk memo of heavy experiments (gdcourse.memo) and ``gdcourse cache``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from gdcourse import memo

CALLS: list = []


@memo.stored
def counted(seeds=3, scale=1.0, rng=0):
    """Records each real run, so a test can tell a computed result from a stored one."""
    CALLS.append((seeds, scale, rng))
    source = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    return {"values": scale * source.standard_normal(seeds), "label": f"{seeds} seeds"}


@memo.stored
def takes_anything(value):
    CALLS.append(value)
    return 1


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("GDCOURSE_CACHE", str(tmp_path / "cache"))
    CALLS.clear()
    return tmp_path / "cache"


def entries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.joblib")) if folder.exists() else []


def test_a_second_call_reads_the_stored_result_instead_of_running(store):
    first = counted(5, scale=2.0)
    second = counted(5, scale=2.0)
    assert len(CALLS) == 1
    np.testing.assert_array_equal(first["values"], second["values"])
    assert second["label"] == "5 seeds"
    assert len(entries(store)) == 1
    assert entries(store)[0].parent.parent.name == memo.fingerprint()


def test_positional_keyword_and_default_spellings_are_one_entry(store):
    counted(3)
    counted(seeds=3)
    counted()
    counted(3, 1.0, 0)
    assert len(CALLS) == 1 and len(entries(store)) == 1
    counted(4)
    counted(3, rng=1)
    assert len(CALLS) == 3 and len(entries(store)) == 3


def test_each_call_returns_a_fresh_copy(store):
    counted(4)["values"][:] = 99.0
    assert not np.any(counted(4)["values"] == 99.0)


def test_a_generator_argument_runs_every_time_and_advances_the_callers_stream(store):
    rng = np.random.default_rng(0)
    a = counted(3, rng=rng)
    b = counted(3, rng=rng)
    assert len(CALLS) == 2 and not entries(store)
    assert not np.array_equal(a["values"], b["values"])     # the stream moved on, as without a memo


def test_an_argument_that_cannot_be_hashed_runs_uncached(store):
    takes_anything(lambda x: x)
    takes_anything(lambda x: x)
    assert len(CALLS) == 2 and not entries(store)


@pytest.mark.parametrize("value", ["off", "OFF", "0", "false"])
def test_gdcourse_cache_off_turns_the_memo_off(store, monkeypatch, value):
    monkeypatch.setenv("GDCOURSE_CACHE", value)
    assert memo.cache_root() is None and memo.store_dir() is None
    counted(3)
    counted(3)
    assert len(CALLS) == 2


def test_default_folder_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.delenv("GDCOURSE_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert memo.cache_root() == tmp_path / "xdg" / "gdcourse"


def test_an_unwritable_store_still_returns_the_result(store, monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GDCOURSE_CACHE", str(blocker / "cache"))    # mkdir under a file fails, even as root
    assert counted(3)["label"] == "3 seeds"
    assert counted(3)["label"] == "3 seeds"
    assert len(CALLS) == 2
    assert blocker.read_text() == "not a folder"


def test_a_damaged_entry_is_computed_again_and_replaced(store):
    expected = counted(3)["values"].copy()
    (path,) = entries(store)
    path.write_bytes(b"\x00garbage")
    np.testing.assert_array_equal(counted(3)["values"], expected)
    assert len(CALLS) == 2
    np.testing.assert_array_equal(counted(3)["values"], expected)
    assert len(CALLS) == 2
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp-")]


def test_the_fingerprint_changes_with_any_source_file(monkeypatch, tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "sub" / "b.py").write_text("y = 2\n")
    monkeypatch.setattr(memo, "PACKAGE_DIR", package)
    memo.fingerprint.cache_clear()
    try:
        before = memo.fingerprint()
        memo.fingerprint.cache_clear()
        assert memo.fingerprint() == before                      # deterministic
        (package / "sub" / "b.py").write_text("y = 3\n")
        memo.fingerprint.cache_clear()
        changed = memo.fingerprint()
        (package / "sub" / "b.py").write_text("y = 2\n")
        (package / "c.py").write_text("")
        memo.fingerprint.cache_clear()
        added = memo.fingerprint()
        assert len({before, changed, added}) == 3
    finally:
        memo.fingerprint.cache_clear()


def test_a_stored_experiment_equals_its_recomputation(store):
    """The memo must return exactly what the code computes: here a real notebook study, twice."""
    from gdcourse.experiments.activations.gradients import deep_gradient_norms

    computed = deep_gradient_norms("tanh", depth=4, width=16)
    stored = deep_gradient_norms("tanh", depth=4, width=16)
    plain = deep_gradient_norms.uncached("tanh", depth=4, width=16)
    assert [p.parent.name for p in entries(store)] == ["gdcourse.data.make_moons",     # its data, stored too
                                                       "gdcourse.experiments.activations.gradients.deep_gradient_norms"]
    np.testing.assert_array_equal(stored, plain)
    np.testing.assert_array_equal(computed, plain)


def test_seeded_cached_runs_are_stored_on_disk_too(store):
    from gdcourse.experiments.normalization.modern import warmup_run

    first = warmup_run("pre", 0, lr=0.03, depth=2, width=4, n=8, steps=5, rng=0)
    assert len(entries(store)) == 1
    np.testing.assert_array_equal(warmup_run.uncached("pre", 0, lr=0.03, depth=2, width=4, n=8, steps=5, rng=0),
                                  first)


# ---------------------------------------------------------------- gdcourse cache

def gdcourse(*argv, env):
    return subprocess.run([sys.executable, "-m", "gdcourse.cli", "cache", *argv], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture
def cli_env(store):
    return {**os.environ, "GDCOURSE_CACHE": str(store)}


def test_cache_warm_runs_the_chapter_notebooks_once_then_info_and_clear(tmp_path, store, cli_env):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    chapter = nbformat.v4.new_notebook()
    chapter.cells = [nbformat.v4.new_code_cell(
        "import gdcourse.experiments\n"
        "from gdcourse.experiments.activations.gradients import deep_gradient_norms\n"
        "deep_gradient_norms('relu', depth=3, width=8)")]
    nbformat.write(chapter, folder / "01_chapter.ipynb")
    practice = nbformat.v4.new_notebook()
    practice.cells = [nbformat.v4.new_code_cell("raise SystemExit('a notebook without experiments must not run')")]
    nbformat.write(practice, folder / "10_practice.ipynb")

    done = gdcourse("warm", "--notebooks", str(folder), "--jobs", "1", env=cli_env)
    assert done.returncode == 0, done.stderr
    assert "1 notebooks" in done.stdout
    assert "WARNING" not in done.stderr, done.stderr       # the kernel runs on local sockets, not bare TCP
    assert [p.parent.name for p in entries(store)] == ["gdcourse.data.make_moons",
                                                       "gdcourse.experiments.activations.gradients.deep_gradient_norms"]

    again = gdcourse("warm", "--notebooks", str(folder), env=cli_env)
    assert again.returncode == 0 and "already stored" in again.stdout

    info = gdcourse("info", env=cli_env)
    assert info.returncode == 0 and str(store) in info.stdout and "2 stored results" in info.stdout

    cleared = gdcourse("clear", env=cli_env)
    assert cleared.returncode == 0 and "removed 1 folders" in cleared.stdout
    assert not entries(store)


def test_warm_and_prune_delete_only_older_code_results(tmp_path, store, cli_env):
    """Results of an older fingerprint can never be read again; warm and prune delete them, nothing else."""
    current = store / memo.fingerprint()
    older = store / "0123456789abcdef"
    for folder in (current, older):
        (folder / "some.study").mkdir(parents=True)
        (folder / "some.study" / "k.joblib").write_bytes(b"x" * 1000)
    (store / "notes").mkdir()                     # not a fingerprint folder: not ours to delete
    (store / "README").write_text("keep")
    info = gdcourse("info", env=cli_env)
    assert "older code    1 folders" in info.stdout
    pruned = gdcourse("prune", env=cli_env)
    assert pruned.returncode == 0 and "removed the results of 1 older versions" in pruned.stdout
    assert not older.exists() and (current / "some.study" / "k.joblib").exists()
    assert (store / "notes").is_dir() and (store / "README").read_text() == "keep"

    older.mkdir()
    (older / "k.joblib").write_bytes(b"x")
    folder = tmp_path / "notebooks"
    folder.mkdir()
    chapter = nbformat.v4.new_notebook()
    chapter.cells = [nbformat.v4.new_code_cell("import gdcourse.experiments")]
    nbformat.write(chapter, folder / "01_chapter.ipynb")
    assert gdcourse("warm", "--notebooks", str(folder), "--jobs", "1", env=cli_env).returncode == 0
    assert not older.exists() and current.is_dir()


def test_cache_warm_reports_a_failing_notebook_and_exits_1(tmp_path, cli_env):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    broken = nbformat.v4.new_notebook()
    broken.cells = [nbformat.v4.new_code_cell("import gdcourse.experiments\nimport os\nos._exit(3)")]
    nbformat.write(broken, folder / "02_broken.ipynb")
    done = gdcourse("warm", "--notebooks", str(folder), "--jobs", "1", env=cli_env)
    assert done.returncode == 1
    assert "02_broken.ipynb" in done.stderr


@pytest.mark.parametrize("argv, message", [
    (("warm", "--notebooks", "/nonexistent/folder"), "--notebooks: expected a folder of notebooks"),
    (("warm", "--jobs", "0"), "--jobs: expected an integer >= 1, got 0"),
])
def test_cache_warm_refuses_bad_arguments_clearly(argv, message, cli_env):
    done = gdcourse(*argv, env=cli_env)
    assert done.returncode == 2 and message in done.stderr


# ---------------------------------------------------------------- stored_training: runs that train a model in place

@memo.stored_training
def train_a_little(model, X, y, steps=5, lr=0.1):
    """A few SGD steps with dropout on; ends in evaluation mode. Records each real run."""
    from gdcourse import losses, optim

    CALLS.append(steps)
    loss, optimizer = losses.MSELoss(), optim.SGD(model.parameters(), lr=lr)
    history = []
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        value = loss(model(X), y)
        model.backward(loss.backward())
        optimizer.step()
        history.append(float(value))
    model.eval()
    return np.array(history)


def small_model(seed):
    from gdcourse import nn

    return nn.Sequential(nn.Linear(3, 8, rng=seed), nn.ReLU(), nn.Dropout(0.5, rng=seed), nn.Linear(8, 1, rng=seed + 1))


def test_a_stored_training_run_leaves_the_model_as_the_run_would(store):
    X, y = np.random.default_rng(0).standard_normal((16, 3)), np.random.default_rng(1).standard_normal((16, 1))
    trained = small_model(0)
    history = train_a_little(trained, X, y)
    assert len(CALLS) == 1 and not trained.training

    replayed = small_model(0)
    weight_before = replayed.parameters()[0].value            # the array the model keeps (optimizers hold it)
    again = train_a_little(replayed, X, y)
    assert len(CALLS) == 1                                     # read from the store, not trained again
    np.testing.assert_array_equal(again, history)
    for p, q in zip(replayed.parameters(), trained.parameters(), strict=True):
        np.testing.assert_array_equal(p.value, q.value)
    assert replayed.parameters()[0].value is weight_before    # loaded into the existing arrays
    assert not any(m.training for m in replayed.modules())     # the run's final mode
    replayed.train()
    trained.train()
    np.testing.assert_array_equal(replayed(X), trained(X))      # same dropout stream afterwards

    assert not np.array_equal(train_a_little(small_model(5), X, y), history)
    assert len(CALLS) == 2                                     # another start is another run


def test_rng_none_means_fresh_entropy_and_is_never_stored(store):
    counted(3, rng=None)
    counted(3, rng=None)
    assert len(CALLS) == 2 and not entries(store)
