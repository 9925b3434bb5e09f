"""support/pool.py: fan-out in order, the first failure raised, and a Ctrl-C that drops the rest."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from packerpy.support import pool


def test_results_keep_the_items_order_and_the_first_failure_is_raised() -> None:
    def slow_then_fast(n: int) -> int:
        time.sleep(0.01 * (5 - n))  # later items finish first
        return n * n

    assert pool.each([0, 1, 2, 3, 4], slow_then_fast, 3) == [0, 1, 4, 9, 16]
    assert pool.each([], slow_then_fast, 3) == []

    def fails(n: int) -> int:
        if n in (2, 3):
            raise ValueError(f"item {n}")
        return n

    with pytest.raises(ValueError, match="item 2"):
        pool.each([0, 1, 2, 3, 4], fails, 2)


def test_ctrl_c_drops_the_items_not_started_and_lets_those_in_flight_finish() -> None:
    """A Ctrl-C while 460 launch-permission reads were queued must not wait for all of them."""
    ran: list[int] = []
    release = threading.Event()

    def work(n: int) -> None:
        ran.append(n)
        if n == 0:
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, handled by the main thread
        else:
            release.wait(5)  # in flight until the main thread has dropped the queue

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        pool.each(list(range(40)), work, 2)
    # Item 0 and at most one more per worker started; the other 37 never ran.
    assert len(ran) <= 3 and 0 in ran
    assert time.monotonic() - started < 15
