"""Crash logs (reliability review 4.9): private, unique, never written through a symlink."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from packerpy.cli import crash

NOBODY = 65534


@pytest.fixture(autouse=True)
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fallback's mkdtemp() lands under the test's own directory, not the real /tmp."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    return tmp


def test_r4_9_symlinked_crash_dir_is_not_followed(tmp_path: Path, private_tmp: Path) -> None:
    # A planted .packerpy/crash -> elsewhere: the log goes to a private temporary directory.
    victim = tmp_path / "victim"
    victim.mkdir()
    state = tmp_path / ".packerpy"
    state.mkdir()
    (state / "crash").symlink_to(victim)
    log = crash.write("trace", state)
    assert log is not None
    assert list(victim.iterdir()) == []
    assert log.parent.parent == private_tmp
    assert log.parent.name.startswith("packerpy-crash-")
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert log.read_text() == "trace"


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_r4_9_crash_dir_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    state = tmp_path / ".packerpy"
    (state / "crash").mkdir(parents=True)
    os.chown(state / "crash", NOBODY, NOBODY)
    log = crash.write("trace", state)
    assert log is not None
    assert log.parent != state / "crash"
    assert list((state / "crash").iterdir()) == []


def test_r4_9_no_writable_project_falls_back_to_a_private_dir(tmp_path: Path) -> None:
    state = tmp_path / ".packerpy"
    state.write_text("a file where the state directory belongs")
    log = crash.write("trace", state)
    assert log is not None
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


def test_r4_9_loose_crash_dir_is_tightened(tmp_path: Path) -> None:
    state = tmp_path / ".packerpy"
    (state / "crash").mkdir(parents=True, mode=0o777)
    (state / "crash").chmod(0o777)
    log = crash.write("trace", state)
    assert log is not None
    assert log.parent == state / "crash"
    assert stat.S_IMODE((state / "crash").stat().st_mode) == 0o700


def test_r4_9_same_second_crashes_get_their_own_files(tmp_path: Path) -> None:
    state = tmp_path / ".packerpy"
    logs = {crash.write(f"trace {n}", state) for n in range(20)}
    assert len(logs) == 20
    assert sorted(log.read_text() for log in logs if log is not None) == sorted(
        f"trace {n}" for n in range(20)
    )
