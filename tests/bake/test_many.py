"""Several images: the exit-code rule and the Ctrl-C fan-out (issue 11.1)."""

from __future__ import annotations

import signal

from packerpy.bake import many
from packerpy.support import cancel


def test_the_worst_exit_code_wins_and_an_interrupt_beats_all() -> None:
    assert many.worst([]) == 0
    assert many.worst([0, 0]) == 0
    assert many.worst([0, 6, 9]) == 9
    assert many.worst([14, 130, 0]) == 130


def test_cancel_all_forwards_to_every_active_child_group() -> None:
    first, second = cancel.GroupCanceller(2**22 + 1, 60), cancel.GroupCanceller(2**22 + 2, 60)
    with first.active(None), second.active(None):
        assert cancel.cancel_all(signal.SIGINT) == 2
    assert first.received == [signal.SIGINT] == second.received
    assert cancel.cancel_all() == 0  # none active any more
