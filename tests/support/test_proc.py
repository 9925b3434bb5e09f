from __future__ import annotations

import os
import signal
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from packerpy.support import proc

# A child that, like packer, re-executes itself: parent and grandchild both trap SIGINT and
# record that they cleaned up, so the test can see the whole group was signalled and waited for.
FAMILY = textwrap.dedent(
    """
    import os, signal, subprocess, sys, time
    out = sys.argv[1]
    role = sys.argv[2] if len(sys.argv) > 2 else "parent"
    def stop(signum, frame):
        time.sleep(0.2)  # clean-up takes a moment
        open(os.path.join(out, role), "w").write(str(signum))
        sys.exit(130)
    signal.signal(signal.SIGINT, stop)
    if role == "parent":
        kid = subprocess.Popen([sys.executable, __file__, out, "child"])
    print("ready", flush=True)
    time.sleep(30)
    """
)


def family(tmp_path: Path) -> list[str]:
    script = tmp_path / "family.py"
    script.write_text(FAMILY)
    return [sys.executable, str(script), str(tmp_path)]


def test_run_captures_output_and_code() -> None:
    done = proc.run([sys.executable, "-c", "import sys; print('hi'); sys.exit(3)"])
    assert done.returncode == 3
    assert done.output == "hi\n"
    assert done.tail() == ("hi",)


def test_missing_program_is_tool_missing() -> None:
    with pytest.raises(proc.ToolMissing) as info:
        proc.run(["definitely-not-a-program-xyz"])
    assert info.value.program == "definitely-not-a-program-xyz"
    with pytest.raises(proc.ToolMissing):
        proc.stream(["definitely-not-a-program-xyz"], on_line=lambda _l: None)


def test_stream_delivers_lines_and_writes_log(tmp_path: Path) -> None:
    lines: list[str] = []
    with (tmp_path / "log").open("w") as log:
        done = proc.stream(
            [sys.executable, "-c", "print('a'); print('b')"], on_line=lines.append, log=log
        )
    assert lines == ["a", "b"]
    assert (tmp_path / "log").read_text() == "a\nb\n"
    assert (done.returncode, done.signal, done.timed_out) == (0, None, False)


def test_sigint_is_forwarded_to_the_group_and_waited_for(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGINT)

    def on_line(line: str) -> None:
        if line == "ready":
            threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGINT)).start()

    done = proc.stream(family(tmp_path), on_line=on_line)
    assert done.signal == signal.SIGINT
    assert done.returncode == 130
    # Both processes ran their clean-up before stream() returned.
    assert (tmp_path / "parent").read_text() == str(int(signal.SIGINT))
    assert (tmp_path / "child").read_text() == str(int(signal.SIGINT))
    assert signal.getsignal(signal.SIGINT) is before


def test_timeout_cancels_like_sigint(tmp_path: Path) -> None:
    done = proc.stream(family(tmp_path), on_line=lambda _l: None, timeout=1.0)
    assert done.timed_out
    assert done.signal is None
    assert (tmp_path / "parent").exists()


def test_failing_consumer_does_not_leave_the_child_running(tmp_path: Path) -> None:
    def on_line(_line: str) -> None:
        raise RuntimeError("consumer broke")

    with pytest.raises(RuntimeError, match="consumer broke"):
        proc.stream(family(tmp_path), on_line=on_line)
    assert (tmp_path / "parent").exists()


def test_detached_process_lifecycle(tmp_path: Path) -> None:
    pid = proc.spawn_detached(
        [sys.executable, "-c", "import time; time.sleep(30)"], log_path=tmp_path / "log"
    )
    assert proc.is_alive(pid)
    assert proc.terminate(pid) is True
    assert not proc.is_alive(pid)
    assert proc.terminate(pid) is False
