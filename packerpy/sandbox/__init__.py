"""A local AWS for demos and tests: a moto server on 127.0.0.1, tracked by a state file.

`start` is idempotent (a running sandbox is reported, not duplicated); the server runs
detached so it outlives the command that started it. The state file records the server's pid
and create time: `stop` signals only a process that is still that server (its command line runs
SERVER_MODULE and its create time matches), never whatever process now has the pid.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from packerpy.errors import SandboxError
from packerpy.support import atomic, liveness, oserrors, proc

STATE_NAME = "sandbox.json"
LOG_NAME = "sandbox.log"
HOST = "127.0.0.1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
SERVER_MODULE = "packerpy.sandbox.server"


@dataclass(frozen=True)
class Sandbox:
    pid: int
    port: int
    endpoint_url: str
    state_file: str
    log_file: str
    running: bool
    started: bool = False  # True when this call started it
    create_time: float | None = None  # of the server process; None in an older state file
    # Why the state file was stale (its pid is not our server), when `stop` removed it.
    stale: str | None = None

    def exports(self, region: str = "us-east-1") -> list[str]:
        env = {"AWS_ENDPOINT_URL": self.endpoint_url, **CREDENTIALS, "AWS_DEFAULT_REGION": region}
        return [f"export {key}={value}" for key, value in env.items()]


# Overrides where the sandbox's state lives (tests; several sandboxes side by side).
STATE_DIR_ENV = "PACKERPY_SANDBOX_DIR"


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the sandbox's state file and log live: one per user, not per directory.

    `$PACKERPY_SANDBOX_DIR`, else `$XDG_STATE_HOME/packerpy`, else `~/.local/state/packerpy`
    (the XDG base directory spec's default), so `packerpy sandbox status` from any project
    finds the sandbox another directory started (review finding 7: the state file used to be
    `./.packerpy/sandbox.json`, and a second directory said "not running" while it ran).
    """
    env = os.environ if environ is None else environ
    if override := env.get(STATE_DIR_ENV):
        return Path(override).expanduser()
    xdg = env.get("XDG_STATE_HOME")
    # The spec says a relative XDG_STATE_HOME is invalid and must be ignored.
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return base / "packerpy"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):  # noqa: S310 - loopback
            return True
    except (urllib.error.URLError, OSError):
        return False


def status(state_dir: Path) -> Sandbox | None:
    path = state_dir / STATE_NAME
    try:
        state = json.loads(path.read_text())
        pid, port = int(state["pid"]), int(state["port"])
        created = state.get("create_time")
        create_time = None if created is None else float(created)
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise SandboxError(f"{path}: unreadable sandbox state ({exc}); delete it") from None
    endpoint = f"http://{HOST}:{port}"
    return Sandbox(
        pid=pid,
        port=port,
        endpoint_url=endpoint,
        state_file=str(path),
        log_file=str(state_dir / LOG_NAME),
        running=_not_ours(pid, port, create_time) is None and _answers(endpoint),
        create_time=create_time,
    )


def _not_ours(pid: int, port: int, create_time: float | None) -> str | None:
    """None when `pid` is the sandbox server the state file describes, else why it is not."""
    argv = liveness.command_line(pid)
    if not argv:
        return f"process {pid} is not running"
    if SERVER_MODULE not in argv or str(port) not in argv:
        return f"process {pid} is not a sandbox server on port {port} ({' '.join(argv)[:80]})"
    if create_time is not None and not liveness.is_running(liveness.ProcessId(pid, create_time)):
        return f"process {pid} was started after the sandbox (its pid was reused)"
    return None


def start(
    state_dir: Path, *, port: int | None = None, amis_path: Path | None = None, wait: float = 30.0
) -> Sandbox:
    """Start the server unless it already runs; wait until it answers."""
    current = status(state_dir)
    if current is not None and current.running:
        return current
    if find_spec("moto") is None:
        raise SandboxError("sandbox: moto is not installed; pip install 'packerpy[sandbox]'")
    port = port or free_port()
    env = dict(os.environ)
    if amis_path is not None:
        # moto replaces its default images with this list (how tests stage base AMIs).
        env["MOTO_AMIS_PATH"] = str(amis_path)
    log = state_dir / LOG_NAME
    with oserrors.translated("write the sandbox's state", state_dir):
        state_dir.mkdir(parents=True, exist_ok=True)
        pid = proc.spawn_detached(
            [sys.executable, "-m", SERVER_MODULE, "--host", HOST, "--port", str(port)],
            log_path=log,
            env=env,
        )
    endpoint = f"http://{HOST}:{port}"
    state = state_dir / STATE_NAME
    try:
        _wait_until_it_answers(endpoint, pid, log, wait)
        found = liveness.identify(pid)
        create_time = found.create_time if found is not None else None
        atomic.write_text(
            state, json.dumps({"pid": pid, "port": port, "create_time": create_time}) + "\n"
        )
    except BaseException:
        # Whatever ends the start before the state file names the server (the wait timing out,
        # a Ctrl-C, a test's timeout, a failed write) stops it: nothing could stop it later.
        # Found: 22 of them, left by test sessions that timed out while moto still imported.
        proc.terminate(pid)
        raise
    return Sandbox(
        pid=pid,
        port=port,
        endpoint_url=endpoint,
        state_file=str(state),
        log_file=str(log),
        running=True,
        started=True,
        create_time=create_time,
    )


def _wait_until_it_answers(endpoint: str, pid: int, log: Path, wait: float) -> None:
    deadline = time.monotonic() + wait
    while not _answers(endpoint):
        if not proc.is_alive(pid) or time.monotonic() > deadline:
            tail = log.read_text(errors="replace").splitlines()[-5:] if log.exists() else []
            raise SandboxError(
                f"sandbox: moto server did not start on {endpoint} (log: {log})", detail=tail
            )
        time.sleep(0.1)


def stop(state_dir: Path) -> Sandbox | None:
    """Stop the server and forget it; None when there was nothing to stop.

    A state file whose pid is no longer our server (it exited; the pid was reused) is removed
    without signalling anything, and `stale` says why (review class 7).
    """
    current = status(state_dir)
    if current is None:
        return None
    stale = _not_ours(current.pid, current.port, current.create_time)
    if stale is None:
        proc.terminate(current.pid)
    Path(current.state_file).unlink(missing_ok=True)
    return dataclasses.replace(current, running=False, stale=stale)
