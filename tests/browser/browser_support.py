"""The browser tests' machinery: the project's own JupyterLab server and where Chromium is.

The server runs from the project's ``.venv`` on a free loopback port with a random
token, with private settings, workspaces, runtime and progress directories, so a
contributor's own Jupyter set-up cannot change what the tests see and the tests
write nothing into the checkout (autosave is off: the notebooks on disk stay as
they are). Server and browser are always shut down, also when a test fails.

The browser is Debian's ``chromium`` (``apt-get install chromium``), driven by
Playwright for Python with ``executable_path``; nothing downloads a browser.
Without it, or without the ``playwright`` package, the tests skip with a one-line
reason (see :func:`browser_unavailable`).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from gdcourse.lab import CONFIG_DIRS

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("GDCOURSE_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = REPO / "artifacts" / "screenshots"
VIEWPORT = {"width": 1366, "height": 900}  # a common laptop screen
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT = 90.0
# One BLAS thread per kernel: with 2 cores shared by the kernel, the server and the
# browser, more threads only oversubscribe the CPU.
ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
# Settings a learner's JupyterLab has by default, except: no autosave (the run must
# not write outputs into solutions/ and notebooks/); no news or update pop-ups (they
# would cover the screenshots and try to reach the network); every cell rendered and
# no blank space after the last one, so a screenshot of the whole notebook is complete;
# execution times recorded in the cells' metadata (the suite reports kernel time).
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none",
                                                                   "scrollPastEnd": False,
                                                                   "recordTiming": True},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
}


def browser_unavailable() -> str | None:
    """Why the browser tests cannot run here (one line), or None when they can."""
    if not CHROMIUM.exists():
        return (f"browser tests skipped: {CHROMIUM} not found "
                "(apt-get install chromium, or set GDCOURSE_CHROMIUM)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests skipped: the playwright package is not installed (pip install playwright)"
    return None


def jupyter_command() -> list[str]:
    """JupyterLab from the project's .venv, else from the interpreter running the tests."""
    venv_jupyter = REPO / ".venv" / "bin" / "jupyter"
    if venv_jupyter.exists():
        return [str(venv_jupyter), "lab"]
    return [sys.executable, "-m", "jupyterlab"]


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """A ``jupyter lab`` process serving the checkout, plus the few REST calls the tests need."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_loopback_port()
        self.token = secrets.token_hex(24)
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "jupyter-lab.log"
        self.process: subprocess.Popen | None = None
        self.shutdowns: list[threading.Thread] = []

    # ------------------------------------------------------------------ life cycle
    def start(self) -> None:
        settings_dir = self.workdir / "user-settings"
        for relative, values in LAB_SETTINGS.items():
            path = settings_dir / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        command = [
            *jupyter_command(), "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={REPO}",
            f"--LabApp.workspaces_dir={self.workdir / 'workspaces'}",
            f"--LabApp.user_settings_dir={settings_dir}",
            "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            # window.jupyterapp: read cell outputs and kernel state from the notebook model
            "--LabApp.expose_app_in_browser=True",
        ]
        if os.geteuid() == 0:  # CI runs as root; JupyterLab refuses to without this flag
            command.append("--allow-root")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(command, cwd=REPO, env=self._environment(), stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_until_answering()

    def _environment(self) -> dict:
        env = {key: value for key, value in os.environ.items()
               if key not in {"JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "MPLBACKEND", "PYTHONSTARTUP"}}
        private = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data",
                   "JUPYTER_RUNTIME_DIR": "runtime", "IPYTHONDIR": "ipython", "GDCOURSE_HOME": "progress"}
        env.update({name: str(self.workdir / folder) for name, folder in private.items()})
        env["JUPYTER_CONFIG_PATH"] = str(CONFIG_DIRS["learner"])   # the learner's lab, as `make lab` opens it
        env.update(ONE_THREAD)
        env["PATH"] = os.pathsep.join([str(Path(jupyter_command()[0]).parent), env.get("PATH", "")])
        env["JUPYTER_PLATFORM_DIRS"] = "1"
        return env

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with code {self.process.returncode} "
                                   f"before answering:\n{self.log_tail()}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                if self.api("GET", "/api/status").get("started"):
                    return
            time.sleep(0.25)
        raise RuntimeError(f"jupyter lab did not answer on {self.base_url} "
                           f"within {SERVER_START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Shut down every kernel and the server (POST /api/shutdown), then make sure the process is gone."""
        if self.process is None or self.process.poll() is not None:
            return
        for thread in self.shutdowns:
            thread.join(timeout=10)
        with contextlib.suppress(OSError, urllib.error.URLError):
            self.api("POST", "/api/shutdown")
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    # ------------------------------------------------------------------ REST
    def api(self, method: str, path: str):
        request = urllib.request.Request(self.base_url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def lab_url(self) -> str:
        """JupyterLab in a workspace of its own, reset (no tabs restored from an earlier page)."""
        return f"{self.base_url}/lab/workspaces/browser-test-{secrets.token_hex(4)}?reset&token={self.token}"

    def shut_down_sessions(self, notebook_path: str) -> None:
        """Stop the notebook's kernel in the background, so idle kernels do not pile up over the session.

        A kernel takes most of a second to exit; the next notebook need not wait for it.
        :meth:`stop` waits for these before shutting the server down.
        """
        def shut_down():
            with contextlib.suppress(OSError, urllib.error.URLError):
                for session in self.api("GET", "/api/sessions"):
                    if session.get("path") == notebook_path:
                        self.api("DELETE", f"/api/sessions/{session['id']}")

        thread = threading.Thread(target=shut_down, name=f"shut down {notebook_path}", daemon=True)
        thread.start()
        self.shutdowns.append(thread)
