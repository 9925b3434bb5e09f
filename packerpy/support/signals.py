"""SIGTERM handled like Ctrl-C: the same clean-up, the same run record, the same exit 130.

Python turns SIGINT into KeyboardInterrupt but lets SIGTERM kill the process outright, so a CI
runner's cancel would leave no record. Raising KeyboardInterrupt from the handler lets every
`finally` and context manager on the stack run exactly as for Ctrl-C.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType


def _raise_interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def sigterm_as_interrupt() -> None:
    """Install the handler (main thread only; elsewhere signals are not ours to handle)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise_interrupt)
