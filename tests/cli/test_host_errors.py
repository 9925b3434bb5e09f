"""OSErrors become HostErrors (exit 12) where they happen (reliability review 4.8)."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from packerpy import records, scaffold
from packerpy.cli.app import run
from packerpy.errors import EXIT_ENVIRONMENT, HostError
from packerpy.support import oserrors

NOW = datetime(2026, 11, 27, 3, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (errno.EROFS, "read-only file system"),
        (errno.EACCES, "permission denied"),
        (errno.ENOSPC, "no space left on device"),
        (errno.EDQUOT, "disk quota exceeded"),
        (errno.ENAMETOOLONG, "file name too long"),
        (errno.EIO, os.strerror(errno.EIO)),
    ],
)
def test_errno_becomes_one_line_naming_path_and_action(code: int, reason: str) -> None:
    with pytest.raises(HostError) as caught, oserrors.translated("write", Path("/p/f")):
        raise OSError(code, os.strerror(code), "/p/.f.tmp")
    assert caught.value.message == f"/p/f: cannot write: {reason}"
    assert caught.value.exit_code == EXIT_ENVIRONMENT


def test_long_and_control_character_paths_are_cut_and_escaped() -> None:
    error = oserrors.error(OSError(errno.EROFS, "x"), "write", Path("a" * 5000))
    assert len(error.message) < 300
    assert "(5000 characters)" in error.message
    error = oserrors.error(OSError(errno.EROFS, "x"), "write", Path("a\nb"))
    assert error.message == "a\\nb: cannot write: read-only file system"


def test_r4_8_run_dir_names_taken_by_files_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "20261127T030405Z-web").write_text("a file")
    (tmp_path / "20261127T030405Z-web-2").write_text("another")
    assert records.create(tmp_path, "web", NOW) == tmp_path / "20261127T030405Z-web-3"


def test_r4_8_runs_dir_that_is_a_file_names_it(tmp_path: Path) -> None:
    (tmp_path / "runs").write_text("a file")
    with pytest.raises(HostError) as caught:
        records.create(tmp_path / "runs", "web", NOW)
    assert caught.value.message == (
        f"{tmp_path}/runs: cannot create the runs directory: exists and is not a directory"
    )


@pytest.fixture
def read_only_project(tmp_path: Path) -> Iterator[Path]:
    """A scaffolded project behind a real read-only bind mount (root can write through chmod)."""
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root and mount(8)")
    source, mounted = tmp_path / "src", tmp_path / "ro"
    source.mkdir()
    mounted.mkdir()
    scaffold.init("web", source)
    steps = (["mount", "--bind", source, mounted], ["mount", "-o", "remount,ro,bind", mounted])
    for step in steps:
        if subprocess.run(step, capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", mounted], capture_output=True, check=False)
            pytest.skip("mount is not permitted here (no CAP_SYS_ADMIN)")
    try:
        yield mounted
    finally:
        subprocess.run(["umount", mounted], check=True)


@pytest.mark.parametrize(
    ("argv", "path", "action"),
    [
        (["version", "bump", "web", "patch"], ".packerpy.toml.lock", "lock the config for editing"),
        (["init", "web", "--dir", "sub"], "sub/packerpy.toml", "write"),
        (["sandbox", "start"], ".packerpy", "write the sandbox's state"),
    ],
)
def test_r4_8_read_only_bind_mount(
    read_only_project: Path, argv: list[str], path: str, action: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "packerpy", *argv],
        cwd=read_only_project,
        # The sandbox's state is per user: point it into the read-only mount.
        env={**os.environ, "PACKERPY_SANDBOX_DIR": str(read_only_project / ".packerpy")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode, done.stderr) == (
        EXIT_ENVIRONMENT,
        f"packerpy: error: {read_only_project / path}: cannot {action}: read-only file system\n",
    )


def test_init_into_a_too_long_path_is_exit_12(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["init", "web", "--dir", "d" * 5000]) == EXIT_ENVIRONMENT
    err = capsys.readouterr().err
    assert err.endswith(": cannot create the project: file name too long\n")
    assert len(err) < 300
