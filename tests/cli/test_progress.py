"""cli/progress.py: the bake's sub-phases from packer's ui lines, plain lines, the live view."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from packerpy.bake.pipeline import BuildResult
from packerpy.cli import output, progress
from packerpy.packer.events import ArtifactEvent, UiEvent, bake_stage, parse_line


def ui(text: str, level: str = "say") -> UiEvent:
    return UiEvent("", level, text)


@pytest.mark.parametrize(
    ("text", "stage"),
    [
        # packer 1.6.6's amazon-ebs lines, as measured in a run record's packer.log
        ("==> web.amazon-ebs.web: Launching a source AWS instance...", "launching"),
        (
            "==> web.amazon-ebs.web: Waiting for instance (i-87a5) to become ready...",
            "waiting for the instance",
        ),
        ("==> web.amazon-ebs.web: Provisioning with shell script: /tmp/x.sh", "provisioning"),
        ("==> web.amazon-ebs.web: Creating AMI sxKtePX from instance i-87a5", "creating AMI"),
        (
            "==> web.amazon-ebs.web: Copying/Encrypting AMI (ami-8422) to other regions...",
            "copying to other regions",
        ),
        ("    web.amazon-ebs.web: Copying to: eu-west-1", "copying to region eu-west-1"),
        # newer amazon plugins say it (ui.Sayf) instead of ui.Message
        ("==> web.amazon-ebs.web: Copying to: ap-southeast-2", "copying to region ap-southeast-2"),
        ("==> web.amazon-ebs.web: Stopping the source instance...", "stopping the instance"),
        ("==> web.amazon-ebs.web: Creating AMI tags", "tagging"),
        ('    web.amazon-ebs.web: Adding tag: "team": "platform"', None),
    ],
)
def test_bake_stage_from_packers_ui_lines(text: str, stage: str | None) -> None:
    assert bake_stage(ui(text)) == stage


def test_bake_stage_reads_machine_readable_lines_and_ignores_other_events() -> None:
    line = "1795,,ui,say,==> web.amazon-ebs.web: Launching a source AWS instance..."
    assert bake_stage(parse_line(line)) == "launching"
    assert bake_stage(ArtifactEvent("web", 0, "id", ("us-east-1:ami-1",))) is None


def console(*, terminal: bool, term: str = "xterm") -> Console:
    return Console(file=io.StringIO(), force_terminal=terminal, width=100, _environ={"TERM": term})


def test_mode_live_only_on_a_real_terminal_without_json() -> None:
    mode = progress.mode_for
    assert mode(console(terminal=True), as_json=False, quiet=False) is progress.Mode.LIVE
    assert mode(console(terminal=True), as_json=True, quiet=False) is progress.Mode.LINES
    assert mode(console(terminal=False), as_json=False, quiet=False) is progress.Mode.LINES
    # review 3.4: under TERM=dumb nothing showed until the bake ended
    dumb = console(terminal=True, term="dumb")
    assert mode(dumb, as_json=False, quiet=False) is progress.Mode.LINES
    assert mode(console(terminal=True), as_json=False, quiet=True) is progress.Mode.QUIET


def test_lines_mode_prints_one_timestamped_line_per_event() -> None:
    out = console(terminal=False)
    board = progress.Board(out, progress.Mode.LINES)
    view = board.view("web")
    view.stamp = lambda: "2026-11-27T05:30:01Z"
    view.phase("lint")
    view.phase("bake")
    view.event(ui("==> web.amazon-ebs.web: Launching a source AWS instance..."))
    view.event(ui("    web.amazon-ebs.web: Instance ID: i-1", "message"))
    view.step("waiting for ami-1 in eu-west-1")
    assert out.file.getvalue().splitlines() == [  # type: ignore[attr-defined]
        "2026-11-27T05:30:01Z web phase: lint",
        "2026-11-27T05:30:01Z web phase: bake",
        "2026-11-27T05:30:01Z web bake: launching",
        "2026-11-27T05:30:01Z web packer: ==> web.amazon-ebs.web: Launching a source AWS "
        "instance...",
        "2026-11-27T05:30:01Z web packer:     web.amazon-ebs.web: Instance ID: i-1",
        "2026-11-27T05:30:01Z web waiting for ami-1 in eu-west-1",
    ]


def test_lines_before_the_bake_are_held_so_an_early_failure_stays_one_line() -> None:
    out = console(terminal=False)
    view = progress.Board(out, progress.Mode.LINES).view("web")
    view.phase("lint")
    view.phase("lookup")
    assert out.file.getvalue() == ""  # type: ignore[attr-defined]
    view.phase("steps")  # a reused AMI: no bake, the steps still run
    assert [line.split(" ", 1)[1] for line in out.file.getvalue().splitlines()] == [  # type: ignore[attr-defined]
        "web phase: lint",
        "web phase: lookup",
        "web phase: steps",
    ]


def test_quiet_mode_shows_warnings_only() -> None:
    out = console(terminal=False)
    view = progress.Board(out, progress.Mode.QUIET).view("web")
    view.phase("bake")
    view.event(ui("==> web.amazon-ebs.web: Launching a source AWS instance..."))
    view.step("packerpy: WARNING: 1 orphaned builder instance")
    assert out.file.getvalue() == "packerpy: WARNING: 1 orphaned builder instance\n"  # type: ignore[attr-defined]


def test_live_view_shows_phase_stage_elapsed_and_packers_last_lines() -> None:
    ticks = iter([100.0, 142.4])
    view = progress.BuildView("web", None, print, clock=lambda: next(ticks))
    view.phase("bake")
    for index in range(10):
        view.event(ui(f"    web.amazon-ebs.web: line {index}", "message"))
    view.event(ui("    web.amazon-ebs.web: Copying to: eu-west-1", "message"))
    shown = console(terminal=True)
    shown.print(view)
    text = shown.file.getvalue()  # type: ignore[attr-defined]
    assert "web  bake: copying to region eu-west-1  42s" in text
    assert "line 9" in text and "line 4" not in text  # the last TAIL_LINES lines only


def test_summary_is_a_region_table_in_one_order() -> None:
    result = BuildResult(
        image="web",
        version="1.0.0",
        amis={"us-east-1": "ami-1", "ap-southeast-2": "ami-2"},
        run_dir="/p/.packerpy/runs/x",
        packer_version="1.6.6",
        steps=(),
        timings={"lint": 0.5, "bake": 2.0},
    )
    shown = console(terminal=False)
    for part in progress.summary(result, output.table):
        shown.print(part)
    lines = shown.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert lines[0] == "built web 1.0.0 with packer 1.6.6 in 2.5s"
    rows = [line.split() for line in lines if "ami-" in line]
    assert rows == [["ap-southeast-2", "ami-2"], ["us-east-1", "ami-1"]]
    assert lines[-1] == "run record: /p/.packerpy/runs/x"
