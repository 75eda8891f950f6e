"""One grading kernel: start it in the sandbox, run code with a deadline and an output cap, restart it.

This is the Jupyter messaging that nbclient does for a notebook (an
``execute_request``, then the kernel's messages until its status is idle), done
here on ``jupyter_client`` directly because the grader needs what nbclient's
cell runner does not offer: stop a kernel the moment its output passes a cap
(outputs are counted, never kept), answer the kernel's ``input_request`` (the
channel the learner's code uses to call back into the grader, see
:mod:`gdcourse.course.remote`), and restart then replay after a timeout or a
crash. The kernel talks over Unix sockets in its own working directory (no TCP
port, and none needed: it has no network).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

import zmq
from jupyter_client import BlockingKernelClient

from gdcourse.course.limits import SubmissionCgroup
from gdcourse.course.sandbox import (
    INNER_HOME,
    INNER_WORK,
    SandboxConfig,
    interpreter,
    kernel_environment,
    launcher_environment,
)

__all__ = ["KernelSession", "ExecResult", "KernelStartError", "REPLY_MIME"]

REPLY_MIME = "application/x-gdcourse-grading-reply"
"""MIME type of the display message that carries an answer from the kernel (see :mod:`remote`)."""

MAX_MESSAGE_BYTES = 256 * 2**20
"""ZMQ drops (and disconnects) any single message larger than this: the grader never holds more."""


class KernelStartError(RuntimeError):
    """The kernel did not start (the message carries the end of its log)."""


@dataclass
class ExecResult:
    """What one ``execute_request`` did.

    ``status``: "ok", "error" (the code raised: ``ename``/``evalue``), "timeout",
    "died" (the kernel process ended) or "output limit" (the code printed more
    than the cap). After the last three the kernel must be restarted.
    """

    status: str
    ename: str = ""
    evalue: str = ""
    output_chars: int = 0
    replies: list[str] = field(default_factory=list)

    @property
    def kernel_lost(self) -> bool:
        return self.status in ("timeout", "died", "output limit")


def _output_size(msg) -> int:
    """About how many characters an iopub message carries (status messages: none)."""
    content, kind = msg["content"], msg["msg_type"]
    if kind == "status":
        return 0
    if kind == "stream":
        return len(content.get("text", ""))
    buffers = sum(len(b) for b in msg.get("buffers") or [])
    return len(json.dumps(content, default=str)) + buffers


def _matplotlib_cache() -> Path | None:
    """The grader's matplotlib cache folder, whose font list saves each kernel a slow font scan."""
    if os.environ.get("MPLCONFIGDIR"):
        return Path(os.environ["MPLCONFIGDIR"])
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "matplotlib"


class KernelSession:
    """A sandboxed IPython kernel that the grader drives.

    Parameters: ``runs_dir`` (a private folder of the grading run, never shown
    to kernels), ``memory_mb`` (memory of the kernel's whole process tree when
    ``cgroups`` is given, else its address space), ``output_limit`` (characters
    of output per execution before the kernel is stopped), ``isolate`` with the
    ``exposed`` paths and the ``scratch_mb`` of its writable space (see
    :mod:`gdcourse.course.sandbox`), ``cgroups`` (:func:`gdcourse.course.limits.detect`)
    and ``cpu_seconds`` (a per-process CPU limit, the fallback without cgroups).
    """

    def __init__(self, runs_dir, *, memory_mb=2048, output_limit=10 * 2**20, isolate=False, hidden=(),
                 exposed=(), startup_timeout=60.0, scratch_mb=64, cgroups=None, cpu_seconds=None):
        self.runs_dir = Path(runs_dir)
        self.memory_mb = memory_mb
        self.output_limit = output_limit
        self.isolate = isolate
        self.hidden, self.exposed = list(hidden), list(exposed)
        self.startup_timeout = startup_timeout
        self.scratch_mb = scratch_mb
        self.cgroups = cgroups
        self.cpu_seconds = cpu_seconds
        self.cgroup = None
        self.proc = None
        self.client = None
        self.starts = 0
        self._context = None
        self._dirs = []

    # ------------------------------------------------------------ life cycle

    def start(self):
        home = Path(tempfile.mkdtemp(prefix="k-", dir=self.runs_dir))      # connection file and sockets
        private = Path(tempfile.mkdtemp(prefix="g-", dir=self.runs_dir))   # the grader's: config and log
        self._dirs = [home, private]
        info = {"transport": "ipc", "ip": str(home / "k"), "shell_port": 1, "iopub_port": 2, "stdin_port": 3,
                "control_port": 4, "hb_port": 5, "key": secrets.token_hex(32),
                "signature_scheme": "hmac-sha256", "kernel_name": "gdcourse-grading"}
        connection = home / "kernel.json"
        # Not atomic_write: a scratch file in a fresh private folder, read only by the kernel started below.
        connection.write_text(json.dumps(info), encoding="utf-8")
        # No figure is rendered while grading (nothing reads them): figures are closed after each cell.
        argv = [interpreter(), "-m", "ipykernel_launcher", "-f", str(connection),
                "--HistoryManager.enabled=False", "--IPKernelApp.quiet=True",
                "--InlineBackend.figure_formats=set()"]
        config = self._config(argv, home, private)
        config_path = config.write(private / "sandbox.json")
        with open(private / "kernel.log", "wb") as log:
            self.proc = subprocess.Popen(
                config.command(config_path), stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=private,
                env=launcher_environment(),
                start_new_session=True)
        self._context = zmq.Context()
        self._context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        self._context.setsockopt(zmq.LINGER, 0)
        self.client = BlockingKernelClient(context=self._context)
        self.client.load_connection_info(info)
        self.client.start_channels(hb=False)
        self.starts += 1
        try:
            self._wait_until_ready()
            self._lock_sockets_dir(home)
        except BaseException:
            self.close()
            raise
        return self

    def _config(self, argv, home, private) -> SandboxConfig:
        """The launcher's config: limits, cgroup, and the allow-list sandbox (or the host's folders)."""
        memory = self.memory_mb * 2**20 if self.memory_mb else None
        if self.cgroups is not None:
            self.cgroup = SubmissionCgroup(self.cgroups, f"gdcourse-{home.name}", memory_bytes=memory)
        common = dict(parent_pid=os.getpid(), memory_bytes=memory, cpu_seconds=self.cpu_seconds,
                      cgroup_procs=self.cgroup.procs_files() if self.cgroup else [])
        fonts = self._font_lists()
        if self.isolate:
            root = private / "root"
            root.mkdir()
            seeds = [[str(f), f"{INNER_HOME}/.matplotlib/{f.name}"] for f in fonts]
            return SandboxConfig(INNER_WORK, argv, kernel_environment(INNER_HOME, "/tmp"), isolate=True,
                                 exposed=self.exposed, sockets_dir=str(home), root_dir=str(root),
                                 scratch_bytes=int(self.scratch_mb * 2**20), seeds=seeds, **common)
        work = Path(tempfile.mkdtemp(prefix="w-", dir=self.runs_dir))      # the kernel's cwd: empty
        self._dirs.append(work)
        (home / ".matplotlib").mkdir()
        for font_list in fonts:
            shutil.copy(font_list, home / ".matplotlib" / font_list.name)
        return SandboxConfig(str(work), argv, kernel_environment(home), **common)

    def _lock_sockets_dir(self, home):
        """As root, once the kernel's sockets exist: take its socket folder back, so the kernel cannot
        write there (its only host folder); its scratch space is where it writes."""
        if self.isolate and os.getuid() == 0:
            os.chown(home, 0, 0)
            os.chmod(home, 0o755)

    @staticmethod
    def _font_lists() -> list[Path]:
        cache = _matplotlib_cache()
        return sorted(cache.glob("fontlist-*.json")) if cache is not None and cache.is_dir() else []

    def _log_tail(self) -> str:
        try:
            text = (self._dirs[1] / "kernel.log").read_text(encoding="utf-8", errors="replace")
        except (OSError, IndexError):
            return ""
        return " | ".join(text.strip().splitlines()[-5:])[-1500:]

    def _wait_until_ready(self):
        """Ready when a ``kernel_info`` request is answered and iopub carries its status messages."""
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise KernelStartError(f"the kernel exited while starting (status {self.proc.returncode}): "
                                       f"{self._log_tail()}")
            msg_id = self.client.kernel_info()
            replied = iopub = False
            until = time.monotonic() + 1.0
            while time.monotonic() < until and not (replied and iopub):
                for channel in (self.client.shell_channel, self.client.iopub_channel):
                    try:
                        msg = channel.get_msg(timeout=0.05)
                    except Empty:
                        continue
                    if msg["parent_header"].get("msg_id") == msg_id:
                        replied |= channel is self.client.shell_channel
                        iopub |= channel is self.client.iopub_channel
            if replied and iopub:
                return
        raise KernelStartError(f"the kernel did not answer within {self.startup_timeout:g} s: "
                               f"{self._log_tail()}")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def close(self):
        """Stop the kernel and every process in its session; remove its folders."""
        if self.client is not None:
            self.client.stop_channels()
            self.client = None
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None
        if self.cgroup is not None:  # what left the launcher's session (setsid, double fork) ends here
            self.cgroup.destroy()
            self.cgroup = None
        if self._context is not None:
            self._context.term()
            self._context = None
        for folder in self._dirs:
            shutil.rmtree(folder, ignore_errors=True)
        self._dirs = []

    def restart(self):
        self.close()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------ execution

    def execute(self, code, timeout, on_input=None) -> ExecResult:
        """Run ``code``; wait at most ``timeout`` seconds; count (and drop) its output.

        ``on_input(prompt) -> str`` answers the kernel's ``input()`` calls; without
        it ``input()`` raises in the kernel, as in nbclient.
        """
        client = self.client
        msg_id = client.execute(code, silent=False, store_history=False, allow_stdin=on_input is not None,
                                stop_on_error=False)
        deadline = time.monotonic() + max(float(timeout), 0.0)
        result = ExecResult("ok")
        replied = idle = False
        poller = zmq.Poller()
        channels = {client.iopub_channel.socket: client.iopub_channel,
                    client.shell_channel.socket: client.shell_channel,
                    client.stdin_channel.socket: client.stdin_channel}
        for socket in channels:
            poller.register(socket, zmq.POLLIN)
        while not (replied and idle):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result.status = "timeout"
                return result
            if replied:  # the reply is in; idle follows at once unless its message was dropped
                deadline = min(deadline, time.monotonic() + 2.0)
            events = dict(poller.poll(int(min(remaining, 0.25) * 1000)))
            if not events and not self.alive():
                result.status = "died"
                return result
            for socket in events:
                channel = channels[socket]
                while channel.msg_ready():
                    if time.monotonic() > deadline:  # a kernel that floods a channel cannot hold us here
                        result.status = "timeout"
                        return result
                    msg = channel.get_msg(timeout=0)
                    if msg["parent_header"].get("msg_id") != msg_id:
                        continue
                    if channel is client.stdin_channel:
                        if msg["msg_type"] == "input_request":
                            client.input(on_input(msg["content"].get("prompt", "")) if on_input else "")
                    elif channel is client.shell_channel:
                        replied = replied or msg["msg_type"] == "execute_reply"
                    else:
                        idle = idle or self._on_iopub(msg, result)
                    if result.output_chars > self.output_limit:
                        result.status = "output limit"
                        return result
        return result

    @staticmethod
    def _on_iopub(msg, result) -> bool:
        kind, content = msg["msg_type"], msg["content"]
        if kind == "status":
            return content.get("execution_state") == "idle"
        result.output_chars += _output_size(msg)
        if kind == "error":
            result.status = "error"
            result.ename, result.evalue = content.get("ename", ""), content.get("evalue", "")
        elif kind == "display_data" and isinstance(content.get("data", {}).get(REPLY_MIME), str):
            result.replies.append(content["data"][REPLY_MIME])
        return False
