"""sandbox: `stop` signals only the server it started (review class 7)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from packerpy import sandbox
from packerpy.support import atomic, liveness, proc


def write_state(state_dir: Path, **state: object) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / sandbox.STATE_NAME).write_text(json.dumps(state))


def test_r_sandbox_stop_leaves_an_unrelated_process_alone(tmp_path: Path) -> None:
    """A state file whose pid now names another process (exited server, reused pid)."""
    victim = subprocess.Popen(["sleep", "60"])
    # Wait for the exec: on a loaded machine (load 14 on 2 cores) the child's command line was
    # still empty when stop() read it, and the test saw "not running" instead.
    deadline = time.monotonic() + 10
    while "sleep" not in liveness.command_line(victim.pid):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        found = liveness.identify(victim.pid)
        assert found is not None
        write_state(tmp_path, pid=victim.pid, port=5000, create_time=found.create_time)
        stopped = sandbox.stop(tmp_path)
        assert stopped is not None and stopped.stale is not None
        assert "not a sandbox server" in stopped.stale
        assert victim.poll() is None  # still running: not signalled
        assert not (tmp_path / sandbox.STATE_NAME).exists()  # the stale file is gone
    finally:
        victim.kill()
        victim.wait()


def test_r_sandbox_a_reused_pid_of_a_server_is_not_ours(tmp_path: Path) -> None:
    """Same command line, different create time: another server that got the pid."""
    server = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", sandbox.SERVER_MODULE, "5000"]
    )
    deadline = time.monotonic() + 10
    while sandbox.SERVER_MODULE not in liveness.command_line(server.pid):  # exec'd yet?
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        write_state(tmp_path, pid=server.pid, port=5000, create_time=1.0)
        stopped = sandbox.stop(tmp_path)
        assert stopped is not None and stopped.stale is not None
        assert "reused" in stopped.stale
        assert server.poll() is None
    finally:
        server.kill()
        server.wait()


def test_r_sandbox_a_dead_pid_is_reported_stale(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    write_state(tmp_path, pid=gone.pid, port=5000)
    stopped = sandbox.stop(tmp_path)
    assert stopped is not None and stopped.stale == f"process {gone.pid} is not running"


def test_start_records_the_create_time_and_stop_ends_the_server(tmp_path: Path) -> None:
    box = sandbox.start(tmp_path)
    state = json.loads((tmp_path / sandbox.STATE_NAME).read_text())
    assert liveness.is_running(liveness.ProcessId(box.pid, state["create_time"]))
    status = sandbox.status(tmp_path)
    assert status is not None and status.running
    stopped = sandbox.stop(tmp_path)
    assert stopped is not None and stopped.stale is None
    assert liveness.identify(box.pid) is None


def _interrupted(*_args: object) -> bool:
    raise KeyboardInterrupt


def _unwritable(*_args: object) -> None:
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize(
    ("where", "fails", "error"),
    [(sandbox, "_answers", KeyboardInterrupt), (atomic, "write_text", OSError)],
    ids=["ctrl-c while waiting", "state not written"],
)
def test_a_start_that_ends_before_the_state_names_the_server_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: Any, fails: str, error: type
) -> None:
    """A Ctrl-C (or a test's timeout) while moto still imports, or a state file that cannot be
    written: the server is stopped, since no state file names it and nothing could stop it
    later."""
    spawned: list[int] = []
    real_spawn = proc.spawn_detached

    def spawn(*args: Any, **kwargs: Any) -> int:
        spawned.append(real_spawn(*args, **kwargs))
        return spawned[-1]

    monkeypatch.setattr(proc, "spawn_detached", spawn)
    monkeypatch.setattr(where, fails, _interrupted if error is KeyboardInterrupt else _unwritable)
    with pytest.raises(error):
        sandbox.start(tmp_path)
    (pid,) = spawned
    assert not proc.is_alive(pid)
    assert not (tmp_path / sandbox.STATE_NAME).exists()


def test_state_dir_is_per_user_not_per_directory(tmp_path: Path) -> None:
    """Review finding 7: the state lived in ./.packerpy, so another directory saw no sandbox."""
    home = Path.home()
    assert sandbox.default_state_dir({}) == home / ".local" / "state" / "packerpy"
    assert sandbox.default_state_dir({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "packerpy"
    # The XDG spec: a relative path in XDG_STATE_HOME is invalid and ignored.
    relative = sandbox.default_state_dir({"XDG_STATE_HOME": "rel"})
    assert relative == home / ".local" / "state" / "packerpy"
    chosen = {"PACKERPY_SANDBOX_DIR": str(tmp_path / "box"), "XDG_STATE_HOME": str(tmp_path)}
    assert sandbox.default_state_dir(chosen) == tmp_path / "box"
