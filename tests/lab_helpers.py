"""A JupyterLab server started exactly as ``gdcourse lab`` starts it, for the tests that look at it.

Private Jupyter directories (a contributor's ``~/.jupyter`` changes nothing), a free
loopback port and a random token; the server is always stopped afterwards.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

from gdcourse import lab


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def page_config(lab_html: str) -> dict:
    """The JSON JupyterLab embeds in its page (``<script id="jupyter-config-data">``)."""
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', lab_html, re.S)
    assert found, "no jupyter-config-data in the /lab page"
    return json.loads(html.unescape(found.group(1)))


@contextlib.contextmanager
def running_lab(folder: Path, role: str, home: Path):
    """JupyterLab as ``gdcourse lab`` starts it, with private Jupyter directories in ``home``.

    Yields the server: ``get(path) -> (status, body)``, ``url``, ``token``.
    """
    port, token = free_port(), secrets.token_hex(16)
    argv, env = lab.lab_invocation(folder, role=role, port=port, open_browser=False)
    argv += ["--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}"]
    env = {k: v for k, v in env.items() if k not in {"JUPYTER_PATH", "JUPYTER_DATA_DIR", "JUPYTER_CONFIG_DIR"}}
    env.update(JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), GDCOURSE_HOME=str(home / "progress"))
    log = open(home / "server.log", "wb")  # closed in the finally below
    process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def get(path: str) -> tuple[int, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"token {token}"})
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, ""

    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (home / "server.log").read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "JupyterLab did not answer within 90 s"
            with contextlib.suppress(OSError):
                if get("/api/status")[0] == 200:
                    break
            time.sleep(0.25)
        yield SimpleNamespace(get=get, url=f"http://127.0.0.1:{port}", token=token)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
