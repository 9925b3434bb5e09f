"""`packerpy rollout` end to end: the real CLI in subprocesses against the session moto.

No packer: a rollout never bakes (the AMIs are registered, as tests/helpers.make_ami does).
Bake and health times are seconds so the module stays well under a minute of rollout time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from packerpy.rollout import state
from tests.helpers import envelope, run_cli
from tests.rollout import fleet

pytestmark = pytest.mark.e2e

ROLL = ("rollout", "web", "--channel", "prod", "--asg", fleet.ASG, "--canary", "50,100")
FAST = ("--health-timeout", "20s", "--poll", "0.2s")


def start(built: fleet.Fleet, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "packerpy", *ROLL, *FAST, "--apply", *extra],
        cwd=built.project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_step(built: fleet.Fleet, done: int, timeout: float = 30) -> dict[str, str]:
    """Blue's tags once its rollout state records `done` finished steps."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        group = built.groups().get(fleet.ASG)
        tags = {t["Key"]: t["Value"] for t in group["Tags"]} if group else {}
        if tags.get(f"{state.P}done") == str(done):
            return tags
        time.sleep(0.1)
    raise AssertionError(f"the rollout did not record step {done} in {timeout} s")


def test_dry_run_then_blue_green_through_the_cli(aws: str, tmp_path: Path) -> None:
    built = fleet.build(aws, tmp_path)
    dry = run_cli(*ROLL, "--json", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    planned = envelope(dry)["data"]
    assert planned["dry_run"] is True and planned["mutating"] == []
    assert list(built.groups()) == [fleet.ASG]

    done = run_cli(*ROLL, *FAST, "--bake-time", "0.5s", "--apply", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = envelope(done)["data"]
    assert [(s["percent"], s["green"], s["blue"]) for s in data["steps"]] == [
        (50, 1, 1),
        (100, 2, 0),
    ]
    assert list(built.groups()) == [data["green"]]
    assert built.amis_in_service() == {built.new_ami}
    status = run_cli("rollout", "status", "web", "--asg", fleet.ASG, "--json", cwd=tmp_path)
    shown = envelope(status)["data"]
    assert (shown["group"], shown["in_progress"]) == (data["green"], False)


def test_abort_from_another_process_restores_blue(aws: str, tmp_path: Path) -> None:
    built = fleet.build(aws, tmp_path)
    rolling = start(built, "--bake-time", "5s")
    try:
        wait_for_step(built, 1)
        aborted = run_cli("rollout", "abort", "web", "--asg", fleet.ASG, "--json", cwd=tmp_path)
        assert aborted.returncode == 0, aborted.stderr
        _, err = rolling.communicate(timeout=60)
    finally:
        rolling.kill()
    assert rolling.returncode == 17, err
    assert "aborted from another process" in err
    groups = built.groups()
    assert list(groups) == [fleet.ASG]
    blue = groups[fleet.ASG]
    assert (blue["MinSize"], blue["MaxSize"], blue["DesiredCapacity"]) == (1, 4, 2)
    assert built.amis_in_service() == {built.old_ami}
    assert not any(t["Key"] == state.OWNER for t in blue["Tags"])


def test_rerun_after_kill_9_resumes_from_the_recorded_step(aws: str, tmp_path: Path) -> None:
    built = fleet.build(aws, tmp_path)
    first = start(built, "--bake-time", "3s")
    try:
        tags = wait_for_step(built, 1)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        first.kill()
    green = tags[f"{state.P}green"]
    again = run_cli(*ROLL, *FAST, "--bake-time", "0.5s", "--apply", "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    data = envelope(again)["data"]
    assert (data["resumed_from"], data["green"]) == (1, green)
    assert [s["percent"] for s in data["steps"]] == [100]  # step 1 is not done again
    versions = built.client("ec2").describe_launch_template_versions(
        LaunchTemplateId=built.template
    )["LaunchTemplateVersions"]
    assert len(versions) == 2  # the re-run made no second template version
    assert list(built.groups()) == [green]
    assert built.amis_in_service() == {built.new_ami}
