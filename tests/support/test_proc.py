from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
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


def test_missing_program_is_tool_missing(tmp_path: Path) -> None:
    with pytest.raises(proc.ToolMissing) as info:
        proc.run(["definitely-not-a-program-xyz"])
    assert info.value.program == "definitely-not-a-program-xyz"
    with pytest.raises(proc.ToolMissing):
        proc.stream(
            ["definitely-not-a-program-xyz"], on_line=lambda _l: None, output=tmp_path / "raw"
        )


def test_stream_delivers_lines_and_writes_log(tmp_path: Path) -> None:
    lines: list[str] = []
    with (tmp_path / "log").open("w") as log:
        done = proc.stream(
            [sys.executable, "-c", "print('a'); print('b')"],
            on_line=lines.append,
            log=log,
            output=tmp_path / "raw",
        )
    assert lines == ["a", "b"]
    assert (tmp_path / "log").read_text() == "a\nb\n"
    assert (done.returncode, done.signal, done.timed_out) == (0, None, False)


def test_sigint_is_forwarded_to_the_group_and_waited_for(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGINT)
    readies: list[str] = []

    def on_line(line: str) -> None:
        # Parent and grandchild both print "ready" into the one output file: one Ctrl-C, once
        # both are up (a second SIGINT mid-clean-up is review 4.7's case, not this one).
        readies.extend([line] if line == "ready" else [])
        if len(readies) == 2:
            threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGINT)).start()

    done = proc.stream(family(tmp_path), on_line=on_line, output=tmp_path / "raw")
    assert done.signal == signal.SIGINT
    assert done.returncode == 130
    # Both processes ran their clean-up before stream() returned.
    assert (tmp_path / "parent").read_text() == str(int(signal.SIGINT))
    assert (tmp_path / "child").read_text() == str(int(signal.SIGINT))
    assert signal.getsignal(signal.SIGINT) is before


def test_timeout_cancels_like_sigint(tmp_path: Path) -> None:
    done = proc.stream(
        family(tmp_path), on_line=lambda _l: None, timeout=1.0, output=tmp_path / "raw"
    )
    assert done.timed_out
    assert done.signal is None
    assert (tmp_path / "parent").exists()


def test_failing_consumer_does_not_leave_the_child_running(tmp_path: Path) -> None:
    def on_line(_line: str) -> None:
        raise RuntimeError("consumer broke")

    with pytest.raises(RuntimeError, match="consumer broke"):
        proc.stream(family(tmp_path), on_line=on_line, output=tmp_path / "raw")
    assert (tmp_path / "parent").exists()


def test_detached_process_lifecycle(tmp_path: Path) -> None:
    pid = proc.spawn_detached(
        [sys.executable, "-c", "import time; time.sleep(30)"], log_path=tmp_path / "log"
    )
    assert proc.is_alive(pid)
    assert proc.terminate(pid) is True
    assert not proc.is_alive(pid)
    assert proc.terminate(pid) is False


# Stands in for packerpy: follows a child that, like packer, prints a line, works a while,
# then prints more and finishes its clean-up (writes `done`).
FOLLOWER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from packerpy.support import proc
    out = Path(sys.argv[1])
    child = (
        "import pathlib, sys, time\\n"
        "print('started', flush=True)\\n"
        "time.sleep(1.5)\\n"
        "print('after', flush=True)\\n"
        "pathlib.Path(sys.argv[1], 'done').write_text('cleaned up')\\n"
    )
    with (out / "log").open("w") as log:
        proc.stream(
            [sys.executable, "-c", child, str(out)],
            on_line=lambda _line: None,
            output=out / "raw",
            log=log,
        )
    """
)


def test_r4_1_child_outlives_a_sigkilled_follower_and_the_log_is_kept(tmp_path: Path) -> None:
    """kill -9 of packerpy must not kill packer by a broken pipe, nor lose packer.log."""
    script = tmp_path / "follower.py"
    script.write_text(FOLLOWER)
    follower = subprocess.Popen([sys.executable, str(script), str(tmp_path)])
    log = tmp_path / "log"
    deadline = time.monotonic() + 20
    while "started" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, "the follower never logged the child's first line"
        time.sleep(0.05)
    follower.kill()
    follower.wait()
    # The child's next line after the kill would have been a SIGPIPE with a pipe; with a file
    # it carries on to the end of its clean-up.
    while not (tmp_path / "done").exists():
        assert time.monotonic() < deadline, "the child died with its follower"
        time.sleep(0.05)
    assert log.read_text() == "started\n"  # flushed line by line: not 0 bytes
    assert (tmp_path / "raw").read_text() == "started\nafter\n"


def test_stream_redacts_and_keeps_the_raw_output_private(tmp_path: Path) -> None:
    lines: list[str] = []
    started: list[int] = []
    with (tmp_path / "log").open("w") as log:
        done = proc.stream(
            [sys.executable, "-c", "import sys; print('pw=hunter22'); sys.stdout.write('end')"],
            on_line=lines.append,
            output=tmp_path / "raw",
            log=log,
            redact=lambda line: line.replace("hunter22", "***"),
            on_start=started.append,
        )
    assert lines == ["pw=***", "end"]  # a last line without a newline is not lost
    assert (tmp_path / "log").read_text() == "pw=***\nend\n"
    assert (tmp_path / "raw").stat().st_mode & 0o777 == 0o600
    assert done.returncode == 0
    assert len(started) == 1 and started[0] > 0


def test_f10_cleanup_grace_covers_the_termination_waiter() -> None:
    """f10: packer waits up to 10 min (40 x 15 s) for the instance to terminate."""
    assert proc.cleanup_grace({}) == proc.CLEANUP_GRACE_SECONDS >= 600
    assert proc.cleanup_grace({proc.GRACE_ENV: "1200"}) == 1200.0
    for bad in ("0", "-5", "ten", "inf", "nan"):
        with pytest.raises(ValueError, match=proc.GRACE_ENV):
            proc.cleanup_grace({proc.GRACE_ENV: bad})
