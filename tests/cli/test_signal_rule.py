"""The boundary's signal rule (support/signals.py, README "Exit codes"), in process."""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest

from packerpy import records, scaffold
from packerpy.bake import pipeline
from packerpy.cli import output
from packerpy.cli.app import run
from packerpy.errors import EXIT_INTERRUPTED, EXIT_OK
from packerpy.support import signals


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    scaffold.init("web", tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_r4_7_signal_while_printing_is_absorbed(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = output.print_json

    def late(value: object) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        real(value)

    monkeypatch.setattr(output, "print_json", late)
    assert run(["init", "web", "--dir", "new", "--json"]) == EXIT_OK
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert signals.absorbed() == (signal.SIGINT, signal.SIGTERM)


def test_r4_7_second_signal_during_clean_up_is_absorbed(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cleaned = []

    def interrupted(*_a: object, **_k: object) -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # the first interrupts ...
            signal.pause()
        finally:
            os.kill(os.getpid(), signal.SIGINT)  # ... the next is absorbed: clean-up finishes
            cleaned.append(True)

    monkeypatch.setattr(pipeline, "validate", interrupted)
    assert run(["validate"]) == EXIT_INTERRUPTED
    assert cleaned == [True]
    assert capsys.readouterr().err == "packerpy: error: interrupted\n"


def test_run_puts_the_previous_handlers_back(project: Path) -> None:
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    run(["--version"])
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_r4_7_signal_while_a_successful_record_is_written_is_absorbed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = records.write_result

    def interrupted_write(run_dir: Path, payload: dict[str, object]) -> Path:
        os.kill(os.getpid(), signal.SIGINT)  # held until the write is done, then absorbed
        return real_write(run_dir, payload)

    monkeypatch.setattr(records, "write_result", interrupted_write)
    previous = signals.install()
    try:
        with records.RunRecord(tmp_path, "web", datetime.now(UTC), {}) as run_record:
            pass
    finally:
        signals.restore(previous)
    assert json.loads((run_record.dir / records.RESULT_NAME).read_text())["ok"] is True
    assert signals.absorbed() == (signal.SIGINT,)
