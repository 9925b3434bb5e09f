"""The one subprocess seam: every external program packerpy runs starts here.

Commands are plain lists (never a shell string). Long-running children get their own process
group so that a signal packerpy receives can be forwarded to the whole group: packer re-executes
itself as a child and only cleans up (instance, key pair, security group) when the group is
signalled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

TAIL_LINES = 20
# After a forwarded signal, packer needs a moment to terminate the instance and delete the
# temporary key pair and security group; past this we stop waiting and kill the group.
CLEANUP_GRACE_SECONDS = 120.0


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


def stream(
    command: Sequence[str],
    *,
    on_line: Callable[[str], None],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    log: IO[str] | None = None,
    timeout: float | None = None,
    grace: float = CLEANUP_GRACE_SECONDS,
    redact: Callable[[str], str] | None = None,
) -> Streamed:
    """Run in a new process group, feeding each output line to `on_line` (and `log`).

    `redact` rewrites each line before it goes anywhere (log, tail, consumer): packer prints
    sensitive variables' values when a script echoes them (packer/redact.py).

    SIGINT/SIGTERM received meanwhile are forwarded to the child's group and the child is
    waited for, so its clean-up finishes before we return. A timeout sends SIGINT the same way.
    """
    try:
        proc = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
    except (FileNotFoundError, PermissionError):
        raise ToolMissing(command[0]) from None

    received: list[int] = []
    timed_out = threading.Event()
    killer: threading.Timer | None = None

    def signal_group(signum: int) -> None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signum)

    def arm_killer() -> None:
        nonlocal killer
        if killer is None:
            killer = threading.Timer(grace, signal_group, args=(signal.SIGKILL,))
            killer.daemon = True
            killer.start()

    def forward(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        signal_group(signum)
        arm_killer()

    def on_timeout() -> None:
        timed_out.set()
        signal_group(signal.SIGINT)
        arm_killer()

    previous = _install_handlers(forward)
    timer = threading.Timer(timeout, on_timeout) if timeout else None
    if timer is not None:
        timer.daemon = True
        timer.start()
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        assert proc.stdout is not None  # noqa: S101 - set by stdout=PIPE above
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            if redact is not None:
                line = redact(line)
            tail.append(line)
            if log is not None:
                log.write(line + "\n")
            on_line(line)
        returncode = proc.wait()
    except BaseException:
        # A failing consumer must not leave packer (and its cloud resources) running.
        signal_group(signal.SIGINT)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            signal_group(signal.SIGKILL)
            proc.wait()
        raise
    finally:
        if timer is not None:
            timer.cancel()
        if killer is not None:
            killer.cancel()
        _restore_handlers(previous)
        if proc.stdout is not None:
            proc.stdout.close()
    return Streamed(
        command=tuple(command),
        returncode=returncode,
        tail=tuple(tail),
        signal=received[0] if received else None,
        timed_out=timed_out.is_set(),
    )


_Handler = Callable[[int, FrameType | None], object] | int | None


def _install_handlers(handler: Callable[[int, FrameType | None], None]) -> dict[int, _Handler]:
    if threading.current_thread() is not threading.main_thread():
        return {}  # only the main thread may set handlers; signals go there anyway
    previous: dict[int, _Handler] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, handler)
    return previous


def _restore_handlers(previous: dict[int, _Handler]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def spawn_detached(
    command: Sequence[str], *, log_path: Path, env: Mapping[str, str] | None = None
) -> int:
    """Start a background server that outlives this process; returns its pid."""
    with log_path.open("ab") as log:
        try:
            proc = subprocess.Popen(
                list(command),
                env=None if env is None else dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except (FileNotFoundError, PermissionError):
            raise ToolMissing(command[0]) from None
    return proc.pid


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
