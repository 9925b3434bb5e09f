"""Cancelling a child process group: forward SIGINT/SIGTERM, time out, SIGKILL after a grace.

packer re-executes itself as a child; SIGINT to the parent alone is ignored, SIGINT to the group
cancels the build and cleans up (PACKER_AND_MOTO.md). So every signal goes to the whole group,
and the group is SIGKILLed only when its clean-up outlasts the grace period.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import FrameType


class GroupCanceller:
    """Forwards signals (and a timeout) to the child's group; SIGKILLs it after `grace`."""

    def __init__(self, pid: int, grace: float) -> None:
        self.pid = pid
        self.grace = grace
        self.received: list[int] = []
        self.timed_out = threading.Event()
        self._timers: list[threading.Timer] = []
        self._armed = False

    def signal_group(self, signum: int) -> None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signum)

    def _later(self, seconds: float, action: Callable[[], None]) -> None:
        timer = threading.Timer(seconds, action)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def cancel(self, signum: int = signal.SIGINT) -> None:
        """Signal the group; if it has not exited `grace` seconds later, SIGKILL it."""
        self.signal_group(signum)
        if not self._armed:
            self._armed = True
            self._later(self.grace, lambda: self.signal_group(signal.SIGKILL))

    def forward(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)
        self.cancel(signum)

    def _time_out(self) -> None:
        self.timed_out.set()
        self.cancel()

    @contextmanager
    def active(self, timeout: float | None) -> Iterator[None]:
        """Forward SIGINT/SIGTERM and arm the timeout for the duration of the block."""
        previous = _install_handlers(self.forward)
        if timeout:
            self._later(timeout, self._time_out)
        with _LOCK:
            _ACTIVE.add(self)
        try:
            yield
        finally:
            with _LOCK:
                _ACTIVE.discard(self)
            for timer in self._timers:
                timer.cancel()
            _restore_handlers(previous)


# Children followed from worker threads (`build --all`): only the main thread receives signals,
# so it forwards a Ctrl-C to every one of them through cancel_all.
_ACTIVE: set[GroupCanceller] = set()
_LOCK = threading.Lock()


def cancel_all(signum: int = signal.SIGINT) -> int:
    """Forward `signum` to every active child group, as if each had received it; how many."""
    with _LOCK:
        active = list(_ACTIVE)
    for canceller in active:
        canceller.forward(signum, None)
    return len(active)


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
