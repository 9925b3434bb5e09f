"""Run records end to end: a build stopped after packer, in the steps, is still recorded."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fault_proxy import FaultProxy
from tests.helpers import invoke

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Two regions and a deprecation: the deprecate step is the only EnableImageDeprecation."""
    assert invoke("init", "web", cwd=tmp_path).returncode == 0
    config = tmp_path / "packerpy.toml"
    text = config.read_text().replace(
        'regions = ["us-east-1"]', 'regions = ["us-east-1", "us-west-2"]'
    )
    config.write_text(text.replace('# deprecate_after = "180d"', 'deprecate_after = "180d"'))
    return tmp_path


def test_r4_2_sigterm_during_the_steps_exits_130_and_records_the_finished_phases(
    aws: str, project: Path
) -> None:
    with FaultProxy(aws) as proxy:
        # Packer 1.6.6 cannot deprecate an AMI, so this call comes from the steps alone: holding
        # its answer keeps the build in the steps phase, after a real bake, until the signal.
        proxy.hang_after("EnableImageDeprecation")
        args = ["--endpoint-url", proxy.endpoint, "build", "web", "--json"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "packerpy", *args],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 90
        while not proxy.hung and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert proxy.hung, f"the build never reached the deprecate step: {proc.poll()}"
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        # Release the held requests (unanswered), as a dead connection would end them.
        proxy.close()
        stdout, stderr = proc.communicate(timeout=60)
    # Measured 1.2 s: the steps' region pool waits for its held calls, which fail (with retries)
    # once the proxy is gone, before the interrupt unwinds to the run record.
    assert time.monotonic() - signalled < 30
    assert proc.returncode == 130, stderr
    envelope = json.loads(stdout)
    assert (envelope["ok"], envelope["exit_code"]) == (False, 130)
    (path,) = (project / ".packerpy" / "runs").glob("*/result.json")
    record = json.loads(path.read_text())
    assert (record["ok"], record["exit_code"], record["phase"]) == (False, 130, "steps")
    # The steps' operation says what it did and did not do before it stopped.
    assert record["error"].startswith("interrupted: steps stopped ("), record["error"]
    finished = [phase["name"] for phase in record["phases"]]
    assert finished == ["lint", "lookup", "render", "claim", "init", "bake", "manifest"]
    assert set(record["amis"]) == {"us-east-1", "us-west-2"}  # what packer made is named
    assert (path.parent / "packer.log").exists()
