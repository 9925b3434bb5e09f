"""SIGINT and SIGTERM for one command-line run: the same clean-up, the same record, exit 130.

Python turns SIGINT into KeyboardInterrupt but lets SIGTERM kill the process outright, so a CI
runner's cancel would leave no record. Raising KeyboardInterrupt from the handler lets every
`finally` and context manager on the stack run exactly as for Ctrl-C.

The rule `install` sets for a run (README "Exit codes"):
- the first signal interrupts (KeyboardInterrupt); later ones are absorbed, so a triple Ctrl-C
  cannot cut the clean-up the first one started, nor escape the error boundary (measured
  before: exit status -2 instead of 130);
- once the outcome is being printed (`reporting`), a signal changes nothing: the result or error
  is printed whole and the exit status is the one it states. Before, a SIGINT 0-250 ms after
  packer's manifest gave status -2 after an `"ok": true` envelope in 9 of 17 trials.
While packer runs, support.proc installs its own handler (forward to packer's group) and puts
this one back afterwards.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

_SIGNALS = (signal.SIGINT, signal.SIGTERM)
Previous = dict[int, Callable[[int, FrameType | None], object] | int | None]


@dataclass
class _Run:
    interrupted: bool = False
    reporting: bool = False
    absorbed: list[int] = field(default_factory=list)


_run = _Run()


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _interrupt_once(signum: int, _frame: FrameType | None) -> None:
    if _run.interrupted or _run.reporting:
        _run.absorbed.append(signum)
        return
    _run.interrupted = True
    raise KeyboardInterrupt


def sigterm_as_interrupt() -> None:
    """SIGTERM raises KeyboardInterrupt, as SIGINT does (main thread only; elsewhere signals
    are not ours to handle). For library use; the command line uses `install`."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)


def install() -> Previous:
    """Handle SIGINT and SIGTERM by the rule above for a new run; returns the old handlers."""
    _run.interrupted, _run.reporting = False, False
    _run.absorbed.clear()
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, _interrupt_once) for signum in _SIGNALS}


def restore(previous: Previous) -> None:
    """Put back the handlers `install` replaced."""
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def reporting() -> None:
    """The outcome is decided and being printed: from now on a signal is absorbed.

    Only the main thread decides the outcome: one image of `build --all` finishing in a worker
    thread must not make a later Ctrl-C for the others a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    _run.reporting = True


def absorbed() -> tuple[int, ...]:
    """The signals absorbed so far in this run (for tests and the run's own report)."""
    return tuple(_run.absorbed)


@contextmanager
def held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while result.json is written: a second Ctrl-C must not lose it.

    A held signal is handed to the handler that was in place when the block ends, so it still
    stops the process after the write (or is absorbed once the result is final, see
    reporting() here). Handlers, not a signal mask: pthread_sigmask blocks only the calling
    thread, and with worker threads alive (preflight, region pools) the kernel delivers the
    signal to one of them, whose Python handler then interrupts the main thread mid-write.
    Python runs handlers in the main thread only, so elsewhere there is nothing to hold.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    for held in dict.fromkeys(received):
        handler = previous[signal.Signals(held)]
        if callable(handler):
            handler(held, None)
        elif handler == signal.SIG_DFL:
            raise KeyboardInterrupt
