"""Environment errors are not bugs (issue 9, class 8): one line, their own exit code, never 3.

One regression test per reliability-review defect (1.1, 1.7, 1.8, 4.7, 4.8, 4.9), each driving
the real command line: in process through `packerpy.cli.app.run`, or as a subprocess where
encodings and signals need a process of their own.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from packerpy import scaffold
from packerpy.cli import output
from packerpy.cli.app import run
from packerpy.errors import EXIT_AWS, EXIT_CONFIG, EXIT_ENVIRONMENT, EXIT_INTERNAL, EXIT_INTERRUPTED
from packerpy.support import atomic
from tests.helpers import make_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    scaffold.init("web", tmp_path)
    monkeypatch.chdir(tmp_path)
    # Nothing here may reach an AWS endpoint: port 9 on loopback is closed.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    return tmp_path


def one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def subprocess_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, prelude: str = ""
) -> subprocess.Popen[bytes]:
    """`packerpy ARGS` through the console script's own main(), after `prelude` (a patch)."""
    code = f"{prelude}\nfrom packerpy.cli.app import main\nmain()"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_r1_1_unknown_profile_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(tmp_path, aws={"profile": "relese"})
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert run(["images", "list", "web"]) == EXIT_AWS
    line = one_line(capsys.readouterr().err)
    assert "aws.profile = 'relese'" in line
    assert "no such profile" in line


@pytest.mark.parametrize("profile", ["", "p\x00", "p\n", "x" * 1_000_000])
def test_r1_1_impossible_profile_is_a_config_error(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    profile: str,
) -> None:
    # A name no AWS config file can hold is refused at load, before any AWS command runs.
    make_project(tmp_path, aws={"profile": profile})
    monkeypatch.chdir(tmp_path)
    assert run(["images", "list", "web"]) == EXIT_CONFIG
    line = one_line(capsys.readouterr().err)
    assert "aws.profile" in line
    assert len(line) < 300  # a 1 MB value is cut, not echoed


def test_r1_1_unknown_aws_profile_variable_is_named(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "relese")
    assert run(["images", "list", "web"]) == EXIT_AWS
    assert "AWS_PROFILE='relese': no such profile" in one_line(capsys.readouterr().err)


def test_r1_1_unparsable_aws_config_file_is_one_line(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = project / "aws-config"
    broken.write_text("[default\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(broken))
    assert run(["images", "list", "web"]) == EXIT_AWS
    assert f"Unable to parse config file: {broken}" in one_line(capsys.readouterr().err)


@pytest.mark.packer
@pytest.mark.parametrize("as_json", [False, True])
def test_r1_7_markup_in_paths_is_printed_literally(
    project: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    out = project / "x" / "[/oops]" / ":smile:[bold]"
    assert run(["render", "web", "--out", str(out), *(["--json"] if as_json else [])]) == 0
    printed = capsys.readouterr().out
    shown = json.loads(printed)["data"]["template"] if as_json else printed
    assert f"{out}/web.pkr.hcl" in shown
    assert run(["init", "web", "--dir", str(project / "y" / "[/x]")]) == 0
    assert f"created {project}/y/[/x]/packerpy.toml" in capsys.readouterr().out


def test_r1_8_non_utf8_stdout_still_prints_the_envelope(tmp_path: Path) -> None:
    ascii_only = {"PYTHONIOENCODING": "ascii"}
    done = subprocess_cli("init", "web", "--dir", "bü", "--json", cwd=tmp_path, env=ascii_only)
    stdout, stderr = done.communicate(timeout=60)
    assert (done.returncode, stderr) == (0, b"")
    assert b"\\u00fc" in stdout  # ASCII-escaped JSON ...
    assert json.loads(stdout)["data"]["root"] == f"{tmp_path}/bü"  # ... and intact
    done = subprocess_cli("init", "web", "--dir", "bü2", cwd=tmp_path, env=ascii_only)
    stdout, _ = done.communicate(timeout=60)
    assert done.returncode == 0
    assert f"created {tmp_path}/b?2/packerpy.toml".encode() in stdout  # degraded, not raised
    # A C locale without coercion or UTF-8 mode: ascii with surrogateescape, which also raised.
    c_locale = {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    done = subprocess_cli("init", "web", "--dir", "bü3", cwd=tmp_path, env=c_locale)
    assert done.communicate(timeout=60)[1] == b""
    assert done.returncode == 0


def test_r1_8_an_error_about_an_error_never_raises(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unprintable(*_a: object, **_k: object) -> None:
        raise UnicodeEncodeError("ascii", "ü", 0, 1, "ordinal not in range(128)")

    monkeypatch.setattr(output.out, "print", unprintable)
    monkeypatch.setattr(output.out, "print_json", unprintable)
    monkeypatch.setattr(output.err, "print", unprintable)
    # The result cannot be printed (exit 3 and a crash log) and neither can the error: still
    # an exit status, and the last-resort line on fd 2, rather than an exception.
    assert run(["init", "web", "--dir", "b", "--json"]) == EXIT_INTERNAL


def test_r4_7_late_signal_keeps_the_printed_outcome(project: Path) -> None:
    # Both signals land while the result is being printed (as after packer's manifest).
    prelude = (
        "import os, signal\n"
        "from packerpy.cli import output\n"
        "real = output.print_json\n"
        "def late(value):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    real(value)\n"
        "output.print_json = late\n"
    )
    done = subprocess_cli("init", "web", "--dir", "new", "--json", cwd=project, prelude=prelude)
    stdout, stderr = done.communicate(timeout=60)
    envelope = json.loads(stdout)
    assert (done.returncode, envelope["ok"], envelope["exit_code"], stderr) == (0, True, 0, b"")


def test_r4_7_triple_ctrl_c_exits_130(project: Path) -> None:
    # The command is interrupted, and Ctrl-C twice more lands in its clean-up.
    prelude = (
        "import sys, time\n"
        "from packerpy.bake import pipeline\n"
        "def slow(*_a, **_k):\n"
        "    try:\n"
        "        print('started', file=sys.stderr, flush=True)\n"
        "        time.sleep(30)\n"
        "    finally:\n"
        "        time.sleep(0.5)\n"
        "pipeline.validate = slow\n"
    )
    done = subprocess_cli("validate", "--json", cwd=project, prelude=prelude)
    assert done.stderr is not None
    assert done.stderr.readline() == b"started\n"
    for _ in range(3):
        done.send_signal(signal.SIGINT)
        subprocess.run(["sleep", "0.05"], check=True)
    stdout, stderr = done.communicate(timeout=60)
    assert done.returncode == EXIT_INTERRUPTED
    assert json.loads(stdout)["exit_code"] == EXIT_INTERRUPTED
    assert stderr == b"packerpy: error: interrupted\n"


@pytest.mark.packer
def test_r4_8_read_only_project_is_exit_12(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # As root, chmod does not stop writes: the OS call raises EROFS at the seam instead
    # (test_read_only_bind_mount in test_environment_mounts.py uses a real ro mount).
    def read_only(*_a: object, **_k: object) -> tuple[int, str]:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    for argv, path in (
        (["render", "web", "--out", "b"], project / "b" / "web.pkr.hcl"),
        (["version", "bump", "web", "patch"], project / "packerpy.toml"),
        (["init", "web", "--dir", "sub"], project / "sub" / "packerpy.toml"),
    ):
        assert run(argv) == EXIT_ENVIRONMENT
        assert one_line(capsys.readouterr().err) == (
            f"packerpy: error: {path}: cannot write: read-only file system"
        )


@pytest.mark.packer
@pytest.mark.parametrize(
    ("runs_dir", "blocked", "reason"),
    [
        (".packerpy/runs", ".packerpy", "{root}/.packerpy is a file, not a directory"),
        (".packerpy/runs", ".packerpy/runs", "exists and is not a directory"),
        ("runsfile", "runsfile", "exists and is not a directory"),
    ],
)
def test_r4_8_run_record_path_blocked_by_a_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    runs_dir: str,
    blocked: str,
    reason: str,
) -> None:
    make_project(tmp_path, project={"runs_dir": runs_dir})
    monkeypatch.chdir(tmp_path)
    (tmp_path / blocked).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / blocked).write_text("not a directory")
    assert run(["build", "web", "--json"]) == EXIT_ENVIRONMENT
    printed = capsys.readouterr()
    expected = f"{tmp_path / runs_dir}: cannot create the runs directory: " + reason.format(
        root=tmp_path
    )
    assert one_line(printed.err) == f"packerpy: error: {expected}"
    assert json.loads(printed.out)["exit_code"] == EXIT_ENVIRONMENT


def test_r4_8_full_disk_is_exit_12_and_leaves_no_temporary_file(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", full)
    assert run(["init", "web", "--dir", "new"]) == EXIT_ENVIRONMENT
    target = project / "new" / "packerpy.toml"
    line = one_line(capsys.readouterr().err)
    assert line == f"packerpy: error: {target}: cannot write: no space left on device"
    assert list((project / "new").iterdir()) == []


def test_r4_9_crash_logs_are_private_and_unique(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from packerpy.bake import pipeline

    def crashed(*_a: object, **_k: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(pipeline, "validate", crashed)
    logs = []
    for _ in range(2):  # two crashes in one second: two files
        assert run(["validate"]) == EXIT_INTERNAL
        err = capsys.readouterr().err
        logs.append(Path(err.split("(traceback: ")[1].split(")")[0]))
    crash_dir = project / ".packerpy" / "crash"
    assert logs[0] != logs[1]
    assert {log.parent for log in logs} == {crash_dir}
    assert stat.S_IMODE(crash_dir.stat().st_mode) == 0o700
    for log in logs:
        assert stat.S_IMODE(log.stat().st_mode) == 0o600
        assert "RuntimeError: kaput" in log.read_text()
