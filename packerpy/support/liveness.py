"""Whether a process is still the one we recorded: pid plus create time, through psutil.

A pid alone is not an identity: pids are reused, so a stale pid can name an unrelated process
(review class 7: `sandbox stop` killed one). A process is the recorded one only when its create
time matches too.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import psutil

# psutil derives create time from boot time + start ticks (10 ms on Linux); the same process
# reads back identically, a reused pid differs by far more than this.
_SAME_START = 0.05


@dataclass(frozen=True)
class ProcessId:
    pid: int
    create_time: float


def host() -> str:
    """This machine's name, as run ids and run records give it."""
    return socket.gethostname()


def identify(pid: int) -> ProcessId | None:
    """The running process with this pid, or None (gone, a zombie, or not visible)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return ProcessId(pid, process.create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, ValueError):
        return None


def this_process() -> ProcessId:
    found = identify(os.getpid())
    if found is None:  # pragma: no cover - we are running
        raise RuntimeError("cannot read this process's create time")
    return found


def is_running(recorded: ProcessId) -> bool:
    """Whether the recorded process still runs (not merely a process with its pid)."""
    found = identify(recorded.pid)
    return found is not None and abs(found.create_time - recorded.create_time) < _SAME_START


def command_line(pid: int) -> tuple[str, ...]:
    """The process's argv; empty when it is gone or not ours to read."""
    try:
        return tuple(psutil.Process(pid).cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, ValueError):
        return ()
