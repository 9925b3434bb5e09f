"""Several images: the exit-code rule and the Ctrl-C fan-out (issue 11.1)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from packerpy import scaffold
from packerpy.bake import many
from packerpy.bake.options import BuildOptions
from packerpy.config import load as config_load
from packerpy.errors import InterruptedByUser
from packerpy.support import cancel
from tests.helpers import settings_for


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


def test_ctrl_c_cancels_the_running_builds_and_drops_the_queued_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scaffold.init("web", tmp_path)
    with (tmp_path / "packerpy.toml").open("a") as config:
        config.write('\n[images.api]\nversion = "1.0.0"\nbase = { ami = "ami-12345678" }\n')
    project = config_load(tmp_path / "packerpy.toml")
    cancelled = threading.Event()
    started = threading.Event()

    def build(_project: object, name: str, *_a: object, **_k: object) -> None:
        started.set()
        assert cancelled.wait(30), "cancel_all was not called"
        raise InterruptedByUser(f"interrupted (SIGINT): {name} cleaned up")

    def cancel_all(signum: int = signal.SIGINT) -> int:
        cancelled.set()
        return 1

    monkeypatch.setattr(many.pipeline, "build", build)
    monkeypatch.setattr(many.cancel, "cancel_all", cancel_all)
    threading.Timer(0.0, lambda: started.wait(30) and os.kill(os.getpid(), signal.SIGINT)).start()
    done = many.build_many(
        project, ["api", "web"], settings_for(None), lambda _n: BuildOptions(), 1
    )
    first, second = done.outcomes
    assert (first.image, first.status, first.exit_code) == ("api", "failed", 130)
    assert first.error == "interrupted (SIGINT): api cleaned up"
    assert (second.image, second.exit_code, second.error) == ("web", 130, "not started")
    assert done.exit_code == 130
