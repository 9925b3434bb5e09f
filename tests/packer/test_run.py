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
from packerpy.support import constraints, proc
from tests.helpers import unwritable_cache

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


def test_f14_a_build_has_started_at_its_first_build_step_line() -> None:
    from packerpy.packer.diagnostics import BuildLines

    lines = BuildLines(lambda _event: None)
    lines("1,,ui,error,Error: Unsupported argument")  # a template error: no build has started
    lines("1,,ui,say,\\n==> Wait completed after 1 second")
    assert not lines.started
    lines("1,,ui,say,==> web.amazon-ebs.web: Prevalidating any provided VPC information")
    assert lines.started
    targeted = BuildLines(lambda _event: None)
    targeted("1,web.amazon-ebs.web,error,boom")  # a build's own error line
    assert targeted.started


def test_f14_a_crash_after_the_build_started_is_a_build_error(tmp_path: Path) -> None:
    # The real packer, killed from inside its own build (the wrapper process, three levels up
    # from the shell-local script): no `error` line follows, only the `==> x:` ui lines.
    kill = "echo started; kill -KILL $(ps -o ppid= -p $(ps -o ppid= -p $(ps -o ppid= -p $PPID)))"
    template, var_file = null_template(tmp_path, kill)
    with pytest.raises(PackerError) as err:
        packer.build(packer.detect(), template, var_file, log_path=tmp_path / "log")
    assert not isinstance(err.value, PackerTemplateError)
    assert err.value.exit_code == EXIT_BUILD_FAILED
    assert err.value.message.startswith("packer build failed (exit ")


def test_f14_a_rejected_template_is_a_template_error(tmp_path: Path) -> None:
    template, var_file = null_template(tmp_path, "true")
    template.write_text(NULL_BUILD.replace("communicator = ", "nonsense = 1\n  communicator = "))
    with pytest.raises(PackerTemplateError) as err:
        packer.build(packer.detect(), template, var_file, log_path=tmp_path / "log")
    assert err.value.exit_code == EXIT_TEMPLATE
    assert "packer rejected the template" in err.value.message


@pytest.mark.parametrize(
    ("version", "constraint"),
    [
        ((1, 6, 6), None),  # the builder is bundled: no required_plugins
        ((1, 7, 0), ">= 1.2.2, <= 1.3.9"),  # GitHub only, and 1.7.0-1.8.4 abort on a 404
        ((1, 8, 5), ">= 1.2.2, <= 1.3.9"),
        ((1, 13, 9), ">= 1.2.2, <= 1.3.9"),
        ((1, 14, 0), ">= 1.2.2, < 2.0.0"),  # releases.hashicorp.com: `~> 1` with the floor
        ((1, 15, 4), ">= 1.2.2, < 2.0.0"),
    ],
)
def test_f1_plugin_constraint_follows_the_packer_version(
    version: tuple[int, int, int], constraint: str | None
) -> None:
    info = packer.PackerInfo(binary="packer", version=version)
    assert info.amazon_plugin_constraint() == constraint
    if constraint is not None:
        assert info.amazon_plugin_constraint("= 1.3.9") == "= 1.3.9"  # the user's pin wins


def test_f2_installed_plugins_from_packer_plugins_installed(tmp_path: Path) -> None:
    script = tmp_path / "packer"
    listed = "/root/.config/packer/plugins/github.com/hashicorp/amazon/packer-plugin-amazon_v{}_x5.0_linux_amd64"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = version ]; then echo "Packer v1.9.4"; exit 0; fi\n'
        f'echo "{listed.format("1.2.1")}"; echo "{listed.format("1.3.9")}"\n'
        "echo /x/packer-plugin-docker_v1.0.0_x5.0_linux_amd64\n"
    )
    script.chmod(0o755)
    info = packer.detect(str(script))
    assert info.amazon_plugins == ((1, 3, 9), (1, 2, 1))
    assert info.resolve_amazon_plugin(">= 1.2.2, <= 1.3.9") == (1, 3, 9)
    assert info.resolve_amazon_plugin("= 1.2.1") == (1, 2, 1)
    assert info.resolve_amazon_plugin(">= 1.4") is None  # init will install one


def test_f2_installed_plugins_from_the_plugin_directories(tmp_path: Path) -> None:
    # packer 1.7 has no `plugins installed`: its directories are read.
    path = tmp_path / "path"
    home = tmp_path / "home" / ".packer.d" / "plugins" / packer.AMAZON_PLUGIN_SOURCE
    for where, version in ((path, "1.2.2"), (home, "1.3.9")):
        where.mkdir(parents=True)
        (where / f"packer-plugin-amazon_v{version}_x5.0_linux_amd64").write_text("")
    home_only = {"HOME": str(tmp_path / "home")}
    assert packer.installed_amazon_plugins("/nonexistent/packer", (1, 7, 0), home_only) == (
        (1, 3, 9),
    )
    # PACKER_PLUGIN_PATH, when set, is the only place packer looks.
    env = {**home_only, "PACKER_PLUGIN_PATH": str(path)}
    assert packer.installed_amazon_plugins("/nonexistent/packer", (1, 7, 0), env) == ((1, 2, 2),)


@pytest.mark.parametrize(
    ("text", "allowed", "refused", "floor"),
    [
        (">= 1.2.2, <= 1.3.9", [(1, 2, 2), (1, 3, 9)], [(1, 2, 1), (1, 3, 10)], (1, 2, 2)),
        ("~> 1", [(1, 0, 0), (1, 8, 2)], [(2, 0, 0), (0, 9, 0)], (1, 0, 0)),
        ("~> 1.2.3", [(1, 2, 9)], [(1, 3, 0), (1, 2, 2)], (1, 2, 3)),
        ("= 1.3.9", [(1, 3, 9)], [(1, 3, 8)], (1, 3, 9)),
        ("1.3.9", [(1, 3, 9)], [(1, 4, 0)], (1, 3, 9)),
        ("> 1.2.1, != 1.2.2", [(1, 2, 3)], [(1, 2, 2), (1, 2, 1)], (1, 2, 3)),
    ],
)
def test_version_constraints_as_packer_reads_them(
    text: str,
    allowed: list[tuple[int, int, int]],
    refused: list[tuple[int, int, int]],
    floor: tuple[int, int, int],
) -> None:
    assert all(constraints.allows(text, v) for v in allowed)
    assert not any(constraints.allows(text, v) for v in refused)
    assert constraints.floor(text) == floor


@pytest.mark.parametrize("text", ["", "1.x", ">= 1.2, foo", "=> 1.2", ">=1.2.3.4"])
def test_not_a_version_constraint(text: str) -> None:
    with pytest.raises(ValueError, match="is not a version constraint"):
        constraints.parse(text)


def test_failure_shows_the_scripts_own_stderr_and_keeps_packer_txt(tmp_path: Path) -> None:
    """ux review 3.3: the 6-line tail was packer boilerplate; the script's `oops` was missing."""
    template, var_file = null_template(tmp_path, "echo fine; echo oops-from-script >&2; exit 3")
    log = tmp_path / "packer.log"
    with pytest.raises(PackerError) as err:
        packer.build(packer.detect(), template, var_file, log_path=log)
    assert err.value.tail[0] == "oops-from-script"
    assert err.value.tail[-1] == f"packer's output: {tmp_path / 'packer.txt'}"
    assert not any("Wait completed" in line for line in err.value.tail)
    # packer.log stays machine-readable; packer.txt is what packer prints to a person.
    assert all(line.split(",")[0].isdigit() for line in log.read_text().splitlines())
    human = (tmp_path / "packer.txt").read_text().splitlines()
    assert "==> null.x: oops-from-script" in human
    assert "    null.x: fine" in human
    assert not any("%!(PACKER_COMMA)" in line for line in human)


def test_a_binarys_version_is_asked_once_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fake = fake_packer(tmp_path, "Packer v1.6.6")
    assert packer.detect(fake).version == (1, 6, 6)

    packer._detect.cache_clear()  # as the next run would start
    ran = proc.run

    def not_again(*args: object, **kwargs: object) -> object:
        raise AssertionError("ran `packer version` for a binary already asked")

    monkeypatch.setattr(proc, "run", not_again)
    assert packer.detect(fake).version == (1, 6, 6)

    monkeypatch.setattr(proc, "run", ran)
    packer._detect.cache_clear()
    fake_packer(tmp_path, "Packer v1.6.10")  # upgraded in place
    assert packer.detect(fake).version == (1, 6, 10)


def test_a_cache_that_cannot_be_written_still_detects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unwritable_cache(tmp_path, monkeypatch)
    assert packer.detect(fake_packer(tmp_path, "Packer v1.6.6")).version == (1, 6, 6)
