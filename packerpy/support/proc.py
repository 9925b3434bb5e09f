"""The one subprocess seam: every external program packerpy runs starts here.

Commands are plain lists (never a shell string). Long-running children get their own session,
so that a signal packerpy receives can be forwarded to the whole group (packer re-executes itself
as a child and only cleans up its instance, key pair and security group when the group is
signalled, support/cancel.py), and write to a file rather than a pipe of ours, so that they
outlive a packerpy that is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from packerpy.support import cancel

TAIL_LINES = 20
# After a forwarded signal packer terminates the instance and waits for it with the AWS SDK's
# default waiter (InstanceTerminated: 40 polls x 15 s = 10 min, step_run_source_instance.go),
# then deletes the security group (5 tries x 5 s) and the key pair; a cancel during CreateImage
# also deregisters the AMI. Killing it sooner leaks them (fidelity review finding 10), so the
# group is SIGKILLed only after 15 min: the waiter's 10 min, the retries, and margin.
CLEANUP_GRACE_SECONDS = 900.0
# Overrides CLEANUP_GRACE_SECONDS (seconds); keep it above aws_polling's total wait.
GRACE_ENV = "PACKERPY_CLEANUP_GRACE"
# How often a followed output file is read when it has no new line.
POLL_SECONDS = 0.05
_CHUNK = 65536


class ToolMissing(Exception):
    """The program is not installed (or not executable); callers turn it into their own error."""

    def __init__(self, program: str) -> None:
        super().__init__(program)
        self.program = program


@dataclass(frozen=True)
class Completed:
    command: tuple[str, ...]
    returncode: int
    output: str

    def tail(self, lines: int = TAIL_LINES) -> tuple[str, ...]:
        return tuple(self.output.splitlines()[-lines:])


@dataclass(frozen=True)
class Streamed:
    command: tuple[str, ...]
    returncode: int
    tail: tuple[str, ...]
    # The signal packerpy received and forwarded to the child's group, if any.
    signal: int | None
    timed_out: bool


def run(
    command: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
) -> Completed:
    """Run to completion, stdout and stderr merged; a timeout counts as a failure (rc -9)."""
    try:
        proc = subprocess.run(
            list(command),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise ToolMissing(command[0]) from None
    except PermissionError:
        raise ToolMissing(command[0]) from None
    except subprocess.TimeoutExpired as exc:
        out = exc.output.decode("utf-8", "replace") if isinstance(exc.output, bytes) else ""
        return Completed(tuple(command), -9, out + f"\n(timed out after {timeout:g}s)")
    return Completed(tuple(command), proc.returncode, proc.stdout)


def _start(
    command: Sequence[str],
    *,
    stdout: int | IO[bytes],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start `command` in a new session, stdout and stderr merged into `stdout`."""
    try:
        return subprocess.Popen(
            list(command),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError):
        raise ToolMissing(command[0]) from None


def cleanup_grace(environ: Mapping[str, str]) -> float:
    """The clean-up grace period: GRACE_ENV (seconds) when set, else CLEANUP_GRACE_SECONDS.

    Raises ValueError naming the variable for anything but a positive number.
    """
    text = environ.get(GRACE_ENV, "").strip()
    if not text:
        return CLEANUP_GRACE_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise ValueError(f"{GRACE_ENV}={text!r}: expected a positive number of seconds")
    return value


def _follow(child: subprocess.Popen[bytes], path: Path, consume: Callable[[str], None]) -> None:
    """Feed each line `child` writes to `path` to `consume`, until the child has exited.

    A plain poll loop (no inotify): packer prints a line every few seconds at most, and a
    50 ms delay in showing one is invisible next to a bake. The wait between reads is the
    child's own (Popen.wait checks after 0.5, 1, 2, ... ms), so its exit is seen within a few
    milliseconds, not at the end of a 50 ms sleep (25 ms later on average, on every bake).
    """
    pending = b""
    with path.open("rb") as reader:
        while True:
            chunk = reader.read(_CHUNK)
            if chunk:
                *lines, pending = (pending + chunk).split(b"\n")
                for raw in lines:
                    consume(raw.decode("utf-8", "replace"))
                continue
            if child.poll() is not None:
                # Everything was written before the exit; one more read picks up the rest.
                rest = reader.read()
                if not rest:
                    break
                pending += rest
                continue
            with suppress(subprocess.TimeoutExpired):
                child.wait(POLL_SECONDS)
    if pending:
        consume(pending.decode("utf-8", "replace"))


def _consumer(
    on_line: Callable[[str], None],
    log: IO[str] | None,
    redact: Callable[[str], str] | None,
    tail: deque[str],
) -> Callable[[str], None]:
    def consume(raw: str) -> None:
        line = raw.rstrip("\r")
        if redact is not None:
            line = redact(line)
        tail.append(line)
        if log is not None:
            log.write(line + "\n")
            log.flush()  # the log must survive a SIGKILL of packerpy (review 4.1: 0 bytes)
        on_line(line)

    return consume


def stream(
    command: Sequence[str],
    *,
    on_line: Callable[[str], None],
    output: Path,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    log: IO[str] | None = None,
    timeout: float | None = None,
    grace: float = CLEANUP_GRACE_SECONDS,
    redact: Callable[[str], str] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> Streamed:
    """Run in a new session writing to the file `output`, and follow it line by line.

    The child never writes to a pipe of ours: if packerpy dies (even by SIGKILL) the child
    carries on, and finishes or cleans up by itself, instead of dying of SIGPIPE at its next
    line with its instance, key pair and security group left running (review 4.1). `output`
    is created 0600: it holds the child's unredacted output.

    `redact` rewrites each line before it goes anywhere (log, tail, consumer): packer prints
    sensitive variables' values when a script echoes them (packer/redact.py). `on_start`
    receives the child's pid (the run record keeps it for the reaper).
    SIGINT/SIGTERM received meanwhile are forwarded to the child's group and the child is
    waited for, so its clean-up finishes before we return. A timeout sends SIGINT the same way.
    """
    fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        child = _start(command, stdout=fd, cwd=cwd, env=env)
    finally:
        os.close(fd)
    canceller = cancel.GroupCanceller(child.pid, grace)
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    with canceller.active(timeout):
        try:
            if on_start is not None:
                on_start(child.pid)
            _follow(child, output, _consumer(on_line, log, redact, tail))
            returncode = child.wait()
        except BaseException:
            # A failing consumer must not leave packer (and its cloud resources) running.
            canceller.signal_group(signal.SIGINT)
            try:
                child.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                canceller.signal_group(signal.SIGKILL)
                child.wait()
            raise
    return Streamed(
        command=tuple(command),
        returncode=returncode,
        tail=tuple(tail),
        signal=canceller.received[0] if canceller.received else None,
        timed_out=canceller.timed_out.is_set(),
    )


def spawn_detached(
    command: Sequence[str], *, log_path: Path, env: Mapping[str, str] | None = None
) -> int:
    """Start a background server that outlives this process; returns its pid."""
    with log_path.open("ab") as log:
        return _start(command, stdout=log, env=env).pid


def is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still "exists"; reap it so a stopped server reads as stopped.
    with suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def terminate(pid: int, *, timeout: float = 10.0) -> bool:
    """SIGTERM a detached process group, then SIGKILL it if it lingers; True if it was running."""
    if not is_alive(pid):
        return False
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_alive(pid):
            return True
        time.sleep(0.05)
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    return True


def attached(command: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> int:
    """Run with our terminal (packer -debug asks the user), in our process group: a Ctrl-C
    reaches the child too; we wait for its clean-up, then re-raise (subprocess.run kills)."""
    try:
        child = subprocess.Popen(list(command), cwd=cwd, env=dict(env))
    except (FileNotFoundError, PermissionError):
        raise ToolMissing(command[0]) from None
    interrupted = False
    while True:
        try:
            returncode = child.wait()
        except KeyboardInterrupt:
            interrupted = True
            continue
        if interrupted:
            raise KeyboardInterrupt
        return returncode
