"""Issue 19's attacks on ``gdcourse grade``, each asserting the exact outcome.

One real run of the command (``--workers 2 --isolation require``, launched through a symlinked
``.venv`` as the project's own tests do) grades every attack that needs a kernel or a file layout:
a stolen backup of the solutions, a host Unix socket, writes outside the scratch space, a filled
home folder, a kernel that escapes its session and forks busy children beside honest neighbours,
symbolic links, FIFOs and folders named like the notebook, bad cell metadata, deeply
nested JSON, formula and control characters in names, and two names whose feedback files used to
collide. The attacks on one kernel (flooding, memory of a process tree) and on the run (two runs
on one results folder, SIGTERM and SIGINT with work queued) have their own tests below.
"""

import csv
import io
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from test_grade_hostile import DATA, REPO, S, _course, _kernels_of, _rows

from gdcourse.course import limits, sandbox
from gdcourse.course.feedback import feedback_filename

ISOLATED, WHY_NOT = sandbox.probe()
CGROUPS = limits.detect()
needs_isolation = pytest.mark.skipif(not ISOLATED, reason=f"kernel isolation is not available here: {WHY_NOT}")
needs_cgroups = pytest.mark.skipif(CGROUPS is None, reason="no writable cgroup (v1 or v2) on this machine")
MARKER = f"gdcourse-attack-{uuid.uuid4().hex[:12]}"
DEMO = S.DEMO.name


PROBE = '''import errno, json, os, socket, sys
def probe():
    seen = {{"backup": os.path.exists({backup!r}), "repo_solutions": os.path.exists({repo_solutions!r}),
            "var_tmp": os.path.exists("/var/tmp"), "home": os.environ["HOME"]}}
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect({sock!r})
        seen["unix"] = "connected"
    except OSError as err:
        seen["unix"] = type(err).__name__
    info = open("/proc/self/mountinfo").read()
    seen["mountinfo"] = [{course!r} in info, {subs!r} in info, "solutions" in info]
    sockets_dir = os.path.dirname(sys.argv[sys.argv.index("-f") + 1])
    writes = []
    for path in ["/x", "/etc/x", "/usr/lib/x", {venv!r} + "/x", {package!r} + "/x", "/dev/x",
                 sockets_dir + "/x", "/proc/x"]:
        try:
            open(path, "w").write("x")
            writes.append("WROTE " + path)
        except OSError as err:
            writes.append(type(err).__name__)
    seen["writes"] = writes
    filled = 0
    try:
        with open(os.path.join(os.environ["HOME"], "fill"), "wb") as f:
            for _ in range(64):
                f.write(b"x" * 2**20)
                f.flush()
                filled += 1
    except OSError as err:
        seen["fill_errno"] = err.errno
    os.remove(os.path.join(os.environ["HOME"], "fill"))
    seen["filled_mb"] = filled
    return seen
largest_lr = "PROBE " + json.dumps(probe())'''

STEAL_BACKUP = '''import json
def mse_gradient(w, X, y):
    with open({backup!r}) as f:
        nb = json.load(f)
    source = next("".join(c["source"]) for c in nb["cells"]
                  if c.get("metadata", {{}}).get("nbgrader", {{}}).get("grade_id") == "mse_gradient")
    namespace = {{"np": np}}
    exec(source, namespace)
    return namespace["mse_gradient"](w, X, y)'''

# The kernel clears its parent-death signal and leaves its session; 16 busy children, each in a
# session of its own, double-forked, with a cleared parent-death signal: none may outlive grading,
# and none may cost an honest neighbour a point.
HOG = S.GD_OK + '''
import ctypes, os, sys
_libc = ctypes.CDLL(None)
_libc.prctl(1, 0, 0, 0, 0)
try:
    os.setsid()
except OSError:
    pass
for _ in range(16):
    if os.fork() == 0:
        os.setsid()
        _libc.prctl(1, 0, 0, 0, 0)
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "while True: pass", {marker!r}])
        os._exit(0)'''


def _host_processes_with(marker) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if marker in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(proc.name)
        except OSError:
            continue
    return found


def _unix_server(path):
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    os.chmod(path, 0o777)
    server.listen(8)
    return server


def _venv_launcher(base) -> Path:
    """A checkout whose ``.venv`` is a symlink to this environment; its ``bin/python`` (unresolved)."""
    checkout = base / "checkout"
    checkout.mkdir()
    (checkout / ".venv").symlink_to(Path(sys.prefix).resolve(), target_is_directory=True)
    return checkout / ".venv" / "bin" / Path(sys.executable).name


def _write_attacks(subs, course, paths):
    students = {
        "correct": (S.CORRECT, {}),
        "prober": ({"mse_gradient": STEAL_BACKUP, "largest_stable_lr": PROBE} | {
            k: v for k, v in S.CORRECT.items() if k not in ("mse_gradient", "largest_stable_lr")}, {}),
        "hog": (S.CORRECT | {"gradient_descent": HOG}, {}),
    }
    for name, (answers, edits) in students.items():  # answers are templates: paths are filled in
        (subs / name).mkdir(parents=True)
        nbformat.write(S.make_submission(answers, edits, **paths), subs / name / DEMO)
    bad = S.make_submission(S.CORRECT)
    for cell in bad.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "double":
            meta["grade_id"] = ["double"]  # a list: unhashable
    bad.cells.append(nbformat.v4.new_code_cell("x = 1", id="extra", metadata={
        "nbgrader": {"grade_id": {"a": 1}, "solution": True, "grade": False}}))
    (subs / "badmeta").mkdir()
    nbformat.write(bad, subs / "badmeta" / DEMO)
    links = {"link_source": course / "solutions" / DEMO, "link_classmate": subs / "correct" / DEMO,
             "link_devzero": Path("/dev/zero")}
    for name, target in links.items():
        (subs / name).mkdir()
        (subs / name / DEMO).symlink_to(target)
    (subs / "link_folder").symlink_to(course / "solutions", target_is_directory=True)
    (subs / "fifo").mkdir()
    os.mkfifo(subs / "fifo" / DEMO)
    (subs / "folder" / DEMO).mkdir(parents=True)
    (subs / "deep").mkdir()
    (subs / "deep" / DEMO).write_text("[" * 200_000 + "]" * 200_000)
    for name in ("Zoë", "Zo_-c6a12698", "\t=1+1", "\r=2+2", "\x1b[2J\x1b[31mred"):
        (subs / name).mkdir()
        (subs / name / DEMO).write_text("{}" if name != "Zoë" else '{"nbformat": 3}')


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    if not ISOLATED:
        pytest.skip(f"kernel isolation is not available here: {WHY_NOT}")
    base = Path(tempfile.mkdtemp(prefix="gda-"))  # short: Unix socket paths hold at most 107 bytes
    outside = Path(tempfile.mkdtemp(prefix="gdcourse-attack-", dir="/var/tmp"))
    try:
        outside.chmod(0o777)
        shutil.copy(S.DEMO, outside / DEMO)  # a world-readable backup of the solutions elsewhere on disk
        (outside / DEMO).chmod(0o644)
        server = _unix_server(outside / "service.sock")
        course, subs, out = _course(base), base / "subs", base / "out"
        paths = {"backup": str(outside / DEMO), "repo_solutions": str(REPO / "solutions"),
                 "sock": str(outside / "service.sock"), "course": str(course), "subs": str(subs),
                 "venv": str(Path(sys.prefix).resolve()), "package": str(REPO / "gdcourse"), "marker": MARKER}
        _write_attacks(subs, course, paths)
        python = _venv_launcher(base)
        env = dict(os.environ, PYTHONPATH=str(REPO))
        command = [str(python), "-m", "gdcourse.cli", "grade", str(subs), "--out", str(out), "--root",
                   str(course), "--workers", "2", "--timeout", "6", "--scratch", "16", "--isolation", "require"]
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=python.parents[2],
                              timeout=600)
        server.close()
        assert done.returncode == 0, done.stderr[-3000:]
        grades, submissions = _rows(out)
        yield SimpleNamespace(base=base, out=out, subs=subs, course=course, done=done, grades=grades,
                              submissions=submissions, outside=outside)
    finally:
        shutil.rmtree(outside, ignore_errors=True)
        shutil.rmtree(base, ignore_errors=True)


def _points(attacked, student):
    return [attacked.grades[student][g]["points"] for g in S.EXERCISES]


def _probe(attacked):
    message = attacked.grades["prober"]["largest_stable_lr_check"]["message"]
    return json.loads(message.split("PROBE ", 1)[1].rsplit("'", 1)[0])


# 1, 4: an allow-list file system, whatever the launcher's path; the stolen backup earns nothing
def test_1_4_the_kernel_sees_no_backup_no_checkout_and_mountinfo_names_neither(attacked):
    seen = _probe(attacked)
    assert seen["backup"] is False and seen["repo_solutions"] is False and seen["var_tmp"] is False
    assert seen["mountinfo"] == [False, False, False]
    assert _points(attacked, "prober") == [0, 0, 2, 1, 3]
    assert "raised FileNotFoundError" in attacked.grades["prober"]["mse_gradient_check"]["message"]
    assert "isolation on: allow-list" in attacked.done.stdout


# 2: host services on socket files are out of reach
def test_2_a_host_unix_socket_does_not_exist_for_the_kernel(attacked):
    assert _probe(attacked)["unix"] == "FileNotFoundError"


# 12: nothing writable but the scratch space, and that one is bounded (--scratch 16)
def test_12_writes_fail_everywhere_but_a_bounded_scratch_space(attacked):
    seen = _probe(attacked)
    assert not [w for w in seen["writes"] if w.startswith("WROTE")], seen["writes"]
    assert seen["home"] == "/tmp/home" and seen["fill_errno"] == 28 and seen["filled_mb"] < 16  # ENOSPC


# 9, 10: nothing outlives grading; one submission's forks cost no neighbour a point
def test_9_10_no_process_outlives_grading_and_neighbours_keep_their_points(attacked):
    assert _host_processes_with(MARKER) == []
    assert _points(attacked, "correct") == [2, 2, 2, 1, 3]
    assert _points(attacked, "hog")[:4] == [2, 2, 2, 1]  # graded before its cell forked


# 14: a bad cell costs only itself
def test_14_a_list_as_grade_id_costs_only_that_exercise(attacked):
    assert _points(attacked, "badmeta") == [2, 2, 2, 0, 3]
    assert attacked.grades["badmeta"]["double_check"]["status"] == "missing"
    assert "grade_id is list, not text" in attacked.submissions["badmeta"]["notes"]


# 5, 6, 20: links and anything but a regular file get a clear entry and 0 points
@pytest.mark.parametrize(("student", "kind"), [
    ("link_source", "a symbolic link"), ("link_classmate", "a symbolic link"), ("link_devzero", "a symbolic link"),
    ("fifo", "a FIFO"), ("folder", "a folder")])
def test_5_6_20_links_fifos_and_folders_are_refused_with_a_clear_entry(attacked, student, kind):
    entry = attacked.submissions[student]
    assert entry["status"] == "not a regular file" and kind in entry["error"], entry
    assert entry["points"] == 0
    assert {(r["points"], r["status"]) for r in attacked.grades[student].values()} == {(0, "not a regular file")}


def test_5_a_student_folder_that_is_a_link_is_refused(attacked):
    (entry,) = [e for s, e in attacked.submissions.items() if s == "link_folder"]
    assert entry["status"] == "not a regular file" and "symbolic link" in entry["error"] and entry["points"] == 0
    assert "link_folder" not in attacked.grades


# 15: deeply nested JSON is a malformed submission, not a grader failure
def test_15_deep_json_is_a_malformed_submission(attacked):
    entry = attacked.submissions["deep"]
    assert entry["status"] == "malformed" and "nested too deeply" in entry["error"]


# 3: one feedback file per student
def test_3_feedback_files_never_collide(attacked):
    files = sorted(p.name for p in (attacked.out / "feedback").iterdir())
    assert len(files) == len(attacked.submissions)
    for impostor, name in (("Zoë", "%5Ao%C3%AB.html"), ("Zo_-c6a12698", "%5Ao_-c6a12698.html")):
        assert feedback_filename(impostor) == name
        page = (attacked.out / "feedback" / name).read_text()
        assert f"Feedback for {impostor}" in page
    assert "nbformat 3" in (attacked.out / "feedback" / "%5Ao%C3%AB.html").read_text()


# 18: CSV injection neutralized, every field quoted
def test_18_csv_fields_are_quoted_and_formulas_neutralized(attacked):
    text = (attacked.out / "grades.csv").read_bytes().decode()  # no newline translation: \r stays \r
    rows = {r[0]: r for r in csv.reader(io.StringIO(text, newline=""))}
    assert "'\t=1+1" in rows and "'\r=2+2" in rows and "\t=1+1" not in rows
    assert '"\'\r=2+2","0","10"' in text
    assert all(line.startswith('"') for line in text.split("\n") if line)


# 19: names on stderr are escaped
def test_19_terminal_escapes_in_names_reach_stderr_escaped(attacked, tmp_path, capsys):
    from gdcourse import cli

    assert "\x1b" not in attacked.done.stderr and "\x1b" not in attacked.done.stdout
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "\x1b[2J\x1b[31mevil.ipynb").write_text("{}")
    args = ["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--root", str(attacked.course)]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[2J\\x1b[31mevil.ipynb" in err


# ---------------------------------------------------------------- one kernel


def _session(**kwargs):
    from gdcourse.course.kernel import KernelSession

    runs = tempfile.mkdtemp(prefix="gdk-")
    session = KernelSession(runs, isolate=ISOLATED, exposed=sandbox.default_exposed(), cgroups=CGROUPS, **kwargs)
    return session.start(), runs


# 8: deadlines hold whatever the kernel sends
def test_8_a_kernel_flooding_iopub_for_another_request_times_out_on_the_graders_clock():
    session, runs = _session()
    flood = ("k = get_ipython().kernel\nwhile True:\n    k.session.send(k.iopub_socket, 'stream', "
             "{'name': 'stdout', 'text': 'x'}, parent={'header': {'msg_id': 'another-request'}})")
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(session.execute(flood, timeout=2)), daemon=True)
    try:
        worker.start()
        worker.join(timeout=60)
        assert not worker.is_alive(), "the grader is stuck reading the flood"
        assert outcome[0].status == "timeout"
    finally:
        session.close()
        shutil.rmtree(runs, ignore_errors=True)


# 9, 10: the whole tree is in the submission's cgroup (one core, 256 processes) and dies with it
@needs_cgroups
@needs_isolation
def test_9_10_every_escaped_child_is_in_the_submissions_cgroup_and_dies_at_close():
    session, runs = _session()
    try:
        assert session.execute(HOG.format(marker=MARKER + "-unit"), timeout=20).status == "ok"
        deadline = time.monotonic() + 15     # the grandchildren exec after the cell has returned
        while len(_host_processes_with(MARKER + "-unit")) < 16 and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = session.cgroup.pids()
        assert len(_host_processes_with(MARKER + "-unit")) == 16
        assert {int(p) for p in _host_processes_with(MARKER + "-unit")} <= pids
        assert session.cgroup.limits()["cpu"] in ("100000", "100000 100000")
        assert session.cgroup.limits()["pids"] == "256"
    finally:
        session.close()
        shutil.rmtree(runs, ignore_errors=True)
    assert _host_processes_with(MARKER + "-unit") == []


# 11: memory counts for the submission's whole process tree, not per process
@needs_cgroups
def test_11_four_children_cannot_hold_more_than_the_submissions_memory():
    session, runs = _session(memory_mb=2048)
    code = """import os, time
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        hold = bytearray(b"x") * (700 * 2**20)
        time.sleep(60)
        os._exit(0)
    children.append(pid)
time.sleep(6)
for pid in children:
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass"""
    try:
        assert session.execute(code, timeout=30).status == "ok"
        assert session.cgroup.limits()["memory"] in (str(2048 * 2**20), "2147483648")
        peak = session.cgroup.peak_memory()
        assert 1000 * 2**20 < peak <= 2048 * 2**20  # 4 x 700 MB were asked for; at most 2 got them
    finally:
        session.close()
        shutil.rmtree(runs, ignore_errors=True)


# ---------------------------------------------------------------- runs


def _demo_course(base):
    course = base / "course"
    (course / "solutions").mkdir(parents=True)
    shutil.copy(DATA / DEMO, course / "solutions")
    return course


# 7: two concurrent runs on one RESULTS keep every student
def test_7_two_concurrent_runs_on_one_results_folder_keep_every_student(tmp_path):
    course, out = _demo_course(tmp_path), tmp_path / "out"
    runs = []
    for group in ("a", "b"):
        subs = tmp_path / f"subs_{group}"
        S.write_submissions(subs, {f"{group}_correct": (S.CORRECT, {}, None)},
                            {f"{group}_broken": (b"", "the file is empty")})
        command = [sys.executable, "-m", "gdcourse.cli", "grade", str(subs), "--out", str(out), "--root",
                   str(course), "--workers", "1", "--timeout", "60"]  # no cell loops: a long limit costs nothing
        runs.append(subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True))
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err[-2000:]
    grades, submissions = _rows(out)
    assert {s: e["points"] for s, e in submissions.items()} == {"a_correct": 10, "a_broken": 0,
                                                                "b_correct": 10, "b_broken": 0}
    assert sum(map(len, grades.values())) == 20
    csv_students = {r[0] for r in list(csv.reader(io.StringIO((out / "grades.csv").read_text())))[1:]}
    assert csv_students == set(submissions)
    db = sqlite3.connect(out / "gradebook.sqlite")
    assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
    db.close()


# 16, 17: SIGTERM and Ctrl-C with work queued: prompt exit, nothing left behind
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find leftover kernels")
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_16_17_a_signal_stops_the_run_at_once_and_leaves_nothing_behind(sig, status):
    base = Path(tempfile.mkdtemp(prefix="gds-"))
    try:
        course, subs, out, tmpdir = _demo_course(base), base / "subs", base / "out", base / "t"
        tmpdir.mkdir()
        sleeper = S.CORRECT | {"mse_gradient": "import time\ntime.sleep(300)\n" + S.MSE_OK}
        S.write_submissions(subs, {"a_sleeper": (sleeper, {}, None), "b_queued": (S.CORRECT, {}, None)}, {})
        (subs / "c_fifo").mkdir()
        os.mkfifo(subs / "c_fifo" / DEMO)
        command = [sys.executable, "-m", "gdcourse.cli", "grade", str(subs), "--out", str(out), "--root",
                   str(course), "--workers", "1", "--timeout", "120"]
        proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                env=dict(os.environ, TMPDIR=str(tmpdir)))
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not list(tmpdir.glob("gdcourse-grade-*/k-*/kernel.json")):
                time.sleep(0.1)
            runs = list(tmpdir.glob("gdcourse-grade-*"))
            assert runs, "the run never started a kernel"  # its session key is on disk now
            time.sleep(3.0)  # a_sleeper's kernel is asleep in its cell; b_queued waits
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=30)  # promptly: not after the sleeping cell
        finally:
            proc.kill()
        assert proc.returncode == status, err[-2000:]
        assert list(tmpdir.iterdir()) == []
        assert _kernels_of(runs) == []
        _, submissions = _rows(out)
        assert set(submissions) == {"c_fifo"}  # recorded before grading began; nothing half-done
        summary = json.loads((out / "summary.json").read_text())
        assert any(f"stopped by {sig.name}" in w for w in summary["run"]["warnings"])
    finally:
        shutil.rmtree(base, ignore_errors=True)
