from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from packerpy.errors import (
    EXIT_BUILD_FAILED,
    EXIT_INTERRUPTED,
    EXIT_PACKER_MISSING,
    EXIT_TEMPLATE,
    InterruptedByUser,
    PackerError,
    PackerMissingError,
    PackerTemplateError,
)
from packerpy.packer import binary as packer
from packerpy.packer.events import Event, UiEvent

INFO = packer.PackerInfo(binary="/usr/bin/packer", version=(1, 6, 6))


@pytest.fixture(autouse=True)
def fresh_detection() -> Iterator[None]:
    packer._detect.cache_clear()
    yield
    packer._detect.cache_clear()


def test_command_lines() -> None:
    t, v = Path("/r/web.pkr.hcl"), Path("/r/web.pkrvars.hcl")
    assert packer.build_command(INFO, t, v) == [
        "/usr/bin/packer",
        "build",
        "-machine-readable",
        "-color=false",
        "-var-file=/r/web.pkrvars.hcl",
        "/r/web.pkr.hcl",
    ]
    assert (
        packer.build_command(INFO, t, v, only=["web.amazon-ebs.web"])[5]
        == "-only=web.amazon-ebs.web"
    )
    assert packer.validate_command(INFO, t, v) == [
        "/usr/bin/packer",
        "validate",
        "-var-file=/r/web.pkrvars.hcl",
        "/r/web.pkr.hcl",
    ]
    assert packer.validate_command(INFO, t, v, syntax_only=True) == [
        "/usr/bin/packer",
        "validate",
        "-syntax-only",
        "/r/web.pkr.hcl",
    ]
    assert packer.fmt_check_command(INFO, t) == [
        "/usr/bin/packer",
        "fmt",
        "-check",
        "-diff",
        "/r/web.pkr.hcl",
    ]
    assert packer.init_command(INFO, t) == ["/usr/bin/packer", "init", "/r/web.pkr.hcl"]


def test_environment_disables_checkpoint() -> None:
    assert packer.environment({"PATH": "/bin"}) == {"PATH": "/bin", "CHECKPOINT_DISABLE": "1"}


def test_detects_the_real_packer() -> None:
    info = packer.detect()
    assert info.version >= (1, 6, 0)
    assert Path(info.binary).is_absolute()
    assert info.uses_plugins == (info.version >= (1, 7, 0))


def fake_packer(tmp_path: Path, output: str) -> str:
    """Only for version parsing: real builds always use the real binary."""
    script = tmp_path / "packer"
    script.write_text(f"#!/bin/sh\necho '{output}'\n")
    script.chmod(0o755)
    return str(script)


def test_capabilities_follow_the_version(tmp_path: Path) -> None:
    info = packer.detect(fake_packer(tmp_path, "Packer v1.9.4"))
    assert info.version == (1, 9, 4)
    assert info.uses_plugins and info.amazon_plugin_options


def test_missing_packer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACKERPY_PACKER", "/nonexistent/packer")
    with pytest.raises(PackerMissingError) as info:
        packer.detect()
    assert info.value.exit_code == EXIT_PACKER_MISSING
    assert info.value.message == (
        "packer: '/nonexistent/packer' not found on PATH; install Packer >= 1.6 "
        "(Debian/Ubuntu: apt-get install packer; others: "
        "https://developer.hashicorp.com/packer/install) or set PACKERPY_PACKER"
    )


def test_binary_without_version(tmp_path: Path) -> None:
    with pytest.raises(PackerMissingError, match="did not report a version"):
        packer.detect(fake_packer(tmp_path, "hello"))


NULL_BUILD = """\
variable "cmd" {
  type = string
}

source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]

  provisioner "shell-local" {
    inline = [var.cmd]
  }
}
"""


def null_template(tmp_path: Path, cmd: str) -> tuple[Path, Path]:
    template = tmp_path / "t.pkr.hcl"
    template.write_text(NULL_BUILD)
    var_file = tmp_path / "t.pkrvars.hcl"
    var_file.write_text(f'cmd = "{cmd}"\n')
    return template, var_file


def test_validate_and_fmt_report_template_errors(tmp_path: Path) -> None:
    info = packer.detect()
    template, var_file = null_template(tmp_path, "true")
    packer.validate(info, template, var_file)
    assert packer.fmt_diff(info, template) is None
    template.write_text(NULL_BUILD.replace('source "null" "x"', 'source "null" "x" "y"'))
    with pytest.raises(PackerTemplateError) as err:
        packer.validate(info, template, var_file)
    assert err.value.exit_code == EXIT_TEMPLATE
    assert err.value.message.startswith("t.pkr.hcl: packer validate failed: ")
    template.write_text(NULL_BUILD.replace("  communicator = ", "communicator      = "))
    assert "communicator" in (packer.fmt_diff(info, template) or "")


def test_build_streams_events_and_logs(tmp_path: Path) -> None:
    template, var_file = null_template(tmp_path, "echo hello-from-packer")
    events: list[Event] = []
    packer.build(
        packer.detect(), template, var_file, log_path=tmp_path / "log", on_event=events.append
    )
    says = [e.text for e in events if isinstance(e, UiEvent)]
    assert any("hello-from-packer" in text for text in says)
    assert "hello-from-packer" in (tmp_path / "log").read_text()


def test_failed_build_names_the_first_error(tmp_path: Path) -> None:
    template, var_file = null_template(tmp_path, "exit 7")
    with pytest.raises(PackerError) as err:
        packer.build(packer.detect(), template, var_file, log_path=tmp_path / "log")
    assert err.value.exit_code == EXIT_BUILD_FAILED
    assert err.value.message.startswith("packer build failed (exit 1): ")
    assert "exit status 7" in err.value.message or "non-zero exit status" in err.value.message
    assert err.value.tail


def test_interrupted_build_exits_130(tmp_path: Path) -> None:
    template, var_file = null_template(tmp_path, "echo started; sleep 30")

    def on_event(event: Event) -> None:
        if isinstance(event, UiEvent) and "started" in event.text:
            threading.Timer(0.2, os.kill, args=(os.getpid(), signal.SIGINT)).start()

    with pytest.raises(InterruptedByUser) as err:
        packer.build(
            packer.detect(), template, var_file, log_path=tmp_path / "log", on_event=on_event
        )
    assert err.value.exit_code == EXIT_INTERRUPTED
    assert err.value.message.startswith("interrupted (SIGINT): packer was cancelled and cleaned up")


def test_runners_moved_to_run_stay_importable_from_binary() -> None:
    from packerpy.packer import run

    for name in packer._IN_RUN:
        assert getattr(packer, name) is getattr(run, name)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = packer.nope  # type: ignore[attr-defined]
