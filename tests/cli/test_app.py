"""The error boundary, in process: each kind of failure maps to its documented exit code."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer

from packerpy.bake import pipeline
from packerpy.cli import app as cli
from packerpy.cli.commands import COMMANDS
from packerpy.errors import EXIT_CODES, ExitCode, PackerpyError

CONFIG = '[images.web]\nversion = "1.0.0"\nbase = { ami = "ami-03cf127a" }\n'


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "packerpy.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_unexpected_exception_is_exit_3_with_a_log(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("kaput")

    monkeypatch.setattr(pipeline, "validate", boom)
    assert cli.run(["validate"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("packerpy: error: internal error: RuntimeError: kaput (traceback: ")
    log = Path(err.split("(traceback: ")[1].split(")")[0])
    assert "RuntimeError: kaput" in log.read_text()


def test_keyboard_interrupt_outside_packer_is_130(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "validate", interrupted)
    assert cli.run(["validate"]) == 130
    assert capsys.readouterr().err.endswith("packerpy: error: interrupted\n")


def test_expected_errors_keep_their_code_and_detail(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Custom(PackerpyError):
        exit_code = 42

    def fail(*_a: object, **_k: object) -> None:
        raise Custom("it broke", detail=["line one", "line two"])

    monkeypatch.setattr(pipeline, "validate", fail)
    assert cli.run(["validate"]) == 42
    assert capsys.readouterr().err == "packerpy: error: it broke\n  line one\n  line two\n"


def test_usage_errors_are_exit_2(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["build"]) == 2
    assert "build: missing argument IMAGE: name the image(s) to bake, or pass --all" in (
        capsys.readouterr().err
    )
    assert cli.run(["no-such-command"]) == 2


def test_help_is_exit_0(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["--help"]) == 0
    assert "sandbox" in capsys.readouterr().out


def test_exit_codes_are_distinct() -> None:
    assert len(set(EXIT_CODES.values())) == len(EXIT_CODES)


def test_readme_lists_every_exit_code() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    listed = {
        int(line.split("|")[1]) for line in table.splitlines() if line[:3].strip("| ").isdigit()
    }
    assert listed == {int(code) for code in ExitCode} == set(EXIT_CODES.values())


def test_the_command_table_matches_the_commands() -> None:
    """`--help` lists commands from the table, so its help must be the commands' own."""
    group = typer.main.get_group(cli.app)
    ctx = group.make_context("packerpy", [], resilient_parsing=True)
    for name, entry in COMMANDS.items():
        command = group.get_command(ctx, name)
        assert command is not None, name
        assert (command.help or "").split("\n\n")[0] == entry.help, name


def test_help_imports_no_core() -> None:
    """`packerpy --help` stays fast: no pydantic, boto3, jinja2, detect-secrets or config."""
    probe = (
        "import sys\n"
        "from packerpy.cli import run\n"
        "assert run(['--help']) == 0\n"
        "heavy = ('pydantic', 'boto3', 'botocore', 'jinja2', 'detect_secrets', 'packerpy.config')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "[]"


def test_runs_share_no_state(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.run(["-c", "missing.toml", "lint", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["command"] == "lint"
    assert cli.run(["lint"]) == 11  # this minimal config is not encrypted
    assert not capsys.readouterr().out.startswith("{")


def test_sigterm_is_an_interrupt(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CI runner's cancel (SIGTERM) exits 130 like Ctrl-C, after `finally` blocks ran."""
    cleaned: list[str] = []

    def terminated(*_a: object, **_k: object) -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler interrupts this
        finally:
            cleaned.append("done")

    previous = signal.getsignal(signal.SIGTERM)
    try:
        monkeypatch.setattr(pipeline, "validate", terminated)
        assert cli.run(["validate", "--json"]) == 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert cleaned == ["done"]
    assert json.loads(capsys.readouterr().out)["messages"] == ["interrupted"]


def test_a_closed_pipe_is_exit_1_and_quiet(tmp_path: Path) -> None:
    """`packerpy ... | head` must not end in a traceback or a crash log."""
    probe = (
        "import sys\n"
        "from packerpy import config\n"
        "config.json_schema = lambda: {'x': 'y' * 1_000_000}\n"
        "from packerpy.cli import run\n"
        "sys.exit(run(['schema']))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    assert (proc.wait(timeout=60), proc.stderr.read()) == (1, "")


def test_a_bug_with_an_unprintable_or_huge_message_is_still_one_line(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise ValueError("no")

    for exc in (Unprintable(), ValueError("x\n" * 500_000)):

        def boom(*_a: object, exc: Exception = exc, **_k: object) -> None:
            raise exc

        monkeypatch.setattr(pipeline, "validate", boom)
        assert cli.run(["validate"]) == 3
        err = capsys.readouterr().err
        assert len(err.splitlines()) == 1
        assert len(err) < 1000


def _complete(words: str, index: int) -> list[str]:
    env = {
        **os.environ,
        "_PACKERPY_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(index),
    }
    done = subprocess.run(
        [sys.executable, "-m", "packerpy"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.split()


def test_shell_completion_answers_tab_requests() -> None:
    """ux review 1.12: `--install-completion` did not exist (add_completion=False)."""
    assert _complete("packerpy bu", 1) == ["build"]
    assert sorted(_complete("packerpy sandbox st", 2)) == ["start", "status", "stop"]


def test_show_completion_prints_the_shell_script() -> None:
    # typer's switch for naming the shell instead of detecting it (shellingham may find none
    # in a CI runner's process tree).
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "packerpy", "--show-completion", "bash"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "_PACKERPY_COMPLETE=complete_bash" in done.stdout
    assert "complete -o default -F _packerpy_completion packerpy" in done.stdout
