"""kill -9 mid-bake, end to end with the real packer: nothing is orphaned for good (review 4.1)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from packerpy import records
from packerpy.support import liveness
from tests.e2e.test_cli import packer_leftovers, use_local_step
from tests.helpers import envelope, invoke, run_cli

pytestmark = pytest.mark.e2e

NOTHING = {"instances": [], "key_pairs": [], "security_groups": []}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    done = invoke("init", "web", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path


def bake_until_provisioning(
    project: Path,
) -> tuple[subprocess.Popen[str], Path, liveness.ProcessId]:
    """Start `build web`; return it once packer runs the shell-local step, the run dir, packer."""
    build = subprocess.Popen(
        [sys.executable, "-m", "packerpy", "build", "web"],
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert build.stderr is not None
    seen = []
    for line in build.stderr:
        seen.append(line)
        if "baking-now" in line:
            break
    assert any("baking-now" in line for line in seen), "".join(seen)
    (run_dir,) = (project / ".packerpy" / "runs").iterdir()
    live = records.read_live(run_dir)
    assert live is not None and len(live.processes) == 2, "live.json names packerpy and packer"
    return build, run_dir, live.processes[1]


def wait_for_exit(process: liveness.ProcessId, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while liveness.is_running(process):
        assert time.monotonic() < deadline, f"packer (pid {process.pid}) is still running"
        time.sleep(0.1)


def test_r4_1_kill_9_of_everything_then_reap_apply_leaves_nothing(aws: str, project: Path) -> None:
    """packerpy and packer both SIGKILLed (OOM killer, CI timeout): the reaper cleans up."""
    use_local_step(project, '["echo baking-now", "sleep 60"]')
    build, run_dir, packer = bake_until_provisioning(project)
    build.kill()
    build.wait()
    os.killpg(packer.pid, signal.SIGKILL)  # packer, its plugin and the shell-local sleep
    wait_for_exit(packer)
    left = packer_leftovers(aws)
    assert all(left.values()), f"packer's clean-up never ran, so all three remain: {left}"
    # packerpy wrote packer.log line by line: it has what packer said up to the kill.
    assert "baking-now" in (run_dir / records.LOG_NAME).read_text()

    # A new build (the built-in template, no sleep) warns about the orphan and bakes anyway.
    config = project / "packerpy.toml"
    config.write_text(config.read_text().replace('template = "local"', 'template = "amazon-ebs"'))
    again = run_cli("build", "web", cwd=project)
    assert again.returncode == 0, again.stderr
    assert left["instances"][0] in again.stderr
    assert "packerpy reap --apply" in again.stderr

    planned = run_cli("reap", "--json", cwd=project)
    assert planned.returncode == 0, planned.stderr
    data = envelope(planned)["data"]
    assert (data["dry_run"], data["instances"], data["mutating"]) == (True, left["instances"], [])
    assert packer_leftovers(aws) == left  # a dry run changes nothing

    reaped = run_cli("reap", "--apply", "--json", cwd=project)
    assert reaped.returncode == 0, reaped.stderr
    data = envelope(reaped)["data"]
    assert (data["instances"], data["key_pairs"]) == (left["instances"], left["key_pairs"])
    assert len(data["security_groups"]) == 1
    assert packer_leftovers(aws) == NOTHING  # no running, pending or stopped builder either


def test_r4_1_kill_9_of_packerpy_alone_lets_packer_finish_and_clean_up(
    aws: str, project: Path
) -> None:
    """packer no longer writes to packerpy's pipe, so it does not die of SIGPIPE."""
    use_local_step(project, '["echo baking-now", "sleep 12", "echo after-the-kill"]')
    build, run_dir, packer = bake_until_provisioning(project)
    build.kill()
    build.wait()
    assert liveness.is_running(packer), "packer must outlive packerpy"
    # While packer runs, its run is alive: the reaper keeps its builder.
    kept = run_cli("reap", "--apply", "--json", cwd=project)
    assert kept.returncode == 0, kept.stderr
    assert envelope(kept)["data"]["instances"] == []
    assert any(" keep i-" in line for line in envelope(kept)["data"]["actions"])
    wait_for_exit(packer)
    assert packer_leftovers(aws) == NOTHING  # packer's own clean-up ran
    assert "baking-now" in (run_dir / records.LOG_NAME).read_text()
    raw = (run_dir / "packer.raw.log").read_text()  # what packer said after packerpy died
    assert "after-the-kill" in raw
    assert json.loads((run_dir / records.LIVE_NAME).read_text())["pid"] == build.pid
