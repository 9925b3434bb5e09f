from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from packerpy import records
from packerpy.contract import BuildData
from packerpy.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_VERSION_EXISTS,
    PackerpyError,
    VersionExistsError,
)
from packerpy.support import signals

STARTED = datetime(2026, 11, 27, 3, 0, 0, tzinfo=UTC)
DATA = BuildData(
    image="web",
    version="1.2.3",
    amis={"us-east-1": "ami-1"},
    run_dir="somewhere",
    packer_version="1.6.6",
    steps=[],
    skipped=False,
    reason=None,
    fingerprint="f" * 64,
    base_ami="ami-0",
    timings={"lint": 0.1},
)


def record(runs_dir: Path) -> records.RunRecord:
    return records.RunRecord(runs_dir, "web", STARTED, {"image": "web", "version": "1.2.3"})


def result_of(run_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((run_dir / records.RESULT_NAME).read_text())
    return loaded


def phase_names(result: dict[str, Any]) -> list[str]:
    return [phase["name"] for phase in result["phases"]]


@pytest.fixture
def sigterm_restored() -> Iterator[None]:
    previous = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_success_writes_the_build_data_and_every_phase(tmp_path: Path) -> None:
    with record(tmp_path) as run:
        with run.phase("lint"):
            run.note(lint={"errors": 0})
        with run.phase("steps"):
            pass
        run.succeed(DATA)
    assert run.dir == tmp_path / "20261127T030000Z-web"
    result = result_of(run.dir)
    assert (result["ok"], result["exit_code"], result["error"], result["phase"]) == (
        True,
        0,
        None,
        None,
    )
    assert phase_names(result) == ["lint", "steps"]
    assert all(isinstance(phase["seconds"], float) for phase in result["phases"])
    assert list(run.timings) == ["lint", "steps"]
    assert result["lint"] == {"errors": 0}
    assert {k: result[k] for k in BuildData.model_fields} == DATA.model_dump(mode="json")
    assert (result["schema"], result["started_at"]) == (1, STARTED.isoformat())
    assert sorted(p.name for p in run.dir.iterdir()) == ["result.json"]  # no temp file left


def test_a_packerpy_error_is_recorded_with_its_code_and_phase_then_raised(tmp_path: Path) -> None:
    error = VersionExistsError("1.2.3 is already published")
    with pytest.raises(VersionExistsError), record(tmp_path) as run:
        with run.phase("lint"):
            pass
        with run.phase("lookup"):
            raise error
    result = result_of(run.dir)
    assert (result["ok"], result["exit_code"], result["error"], result["phase"]) == (
        False,
        EXIT_VERSION_EXISTS,
        "1.2.3 is already published",
        "lookup",
    )
    assert phase_names(result) == ["lint"]
    assert "amis" not in result  # build data only on success
    assert result["image"] == "web"


def test_a_bug_is_exit_3_naming_the_exception(tmp_path: Path) -> None:
    with pytest.raises(ZeroDivisionError), record(tmp_path) as run, run.phase("render"):
        _ = 1 / 0
    result = result_of(run.dir)
    assert (result["exit_code"], result["phase"]) == (EXIT_INTERNAL, "render")
    assert result["error"] == "internal error: ZeroDivisionError: division by zero"


def test_a_failure_between_phases_names_no_phase(tmp_path: Path) -> None:
    with pytest.raises(PackerpyError), record(tmp_path) as run:
        with run.phase("lint"):
            pass
        raise PackerpyError("between")
    result = result_of(run.dir)
    assert (result["exit_code"], result["phase"], phase_names(result)) == (1, None, ["lint"])


def test_ctrl_c_during_the_steps_is_exit_130(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), record(tmp_path) as run:
        with run.phase("bake"):
            pass
        with run.phase("steps"):
            raise KeyboardInterrupt
    result = result_of(run.dir)
    assert (result["ok"], result["exit_code"], result["error"], result["phase"]) == (
        False,
        EXIT_INTERRUPTED,
        "interrupted",
        "steps",
    )
    assert phase_names(result) == ["bake"]


def test_sigterm_is_recorded_like_ctrl_c(tmp_path: Path, sigterm_restored: None) -> None:
    signals.sigterm_as_interrupt()
    with pytest.raises(KeyboardInterrupt), record(tmp_path) as run, run.phase("lookup"):
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause()  # the handler raises before this returns
    result = result_of(run.dir)
    assert (result["exit_code"], result["phase"]) == (EXIT_INTERRUPTED, "lookup")


def test_a_second_ctrl_c_while_writing_does_not_lose_the_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = records.write_result

    def interrupted_write(run_dir: Path, payload: dict[str, Any]) -> Path:
        os.kill(os.getpid(), signal.SIGINT)  # held until the write is done
        return real_write(run_dir, payload)

    monkeypatch.setattr(records, "write_result", interrupted_write)
    with pytest.raises(KeyboardInterrupt), record(tmp_path) as run, run.phase("steps"):
        raise RuntimeError("first failure")
    assert result_of(run.dir)["error"] == "internal error: RuntimeError: first failure"


def test_runs_in_the_same_second_get_distinct_directories(tmp_path: Path) -> None:
    first, second = record(tmp_path), record(tmp_path)
    assert (first.dir.name, second.dir.name) == ("20261127T030000Z-web", "20261127T030000Z-web-2")


def test_list_runs_and_read(tmp_path: Path) -> None:
    assert records.list_runs(tmp_path / "none") == []
    with record(tmp_path) as done:
        done.succeed(DATA)
    unfinished = record(tmp_path)  # never exited: as if killed by SIGKILL
    (tmp_path / "stray-file").write_text("")
    runs = records.list_runs(tmp_path)
    assert [run.dir for run in runs] == [done.dir, unfinished.dir]
    assert (runs[0].finished, runs[0].ok, runs[0].exit_code, runs[0].image) == (
        True,
        True,
        0,
        "web",
    )
    assert (runs[1].finished, runs[1].ok, runs[1].exit_code, runs[1].image) == (
        False,
        False,
        None,
        None,
    )
    assert records.read(done.dir).result["amis"] == {"us-east-1": "ami-1"}


def test_read_refuses_a_corrupt_record(tmp_path: Path) -> None:
    (tmp_path / records.RESULT_NAME).write_text("{half")
    with pytest.raises(PackerpyError, match=r"result.json: not a run record: Expecting"):
        records.read(tmp_path)
