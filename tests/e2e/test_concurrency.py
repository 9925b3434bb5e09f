"""Two builds of one version at once, with the real packer against one sandbox (review 4.3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from packerpy.aws.clients import AwsClients
from tests.helpers import ec2, invoke, settings_for

pytestmark = pytest.mark.e2e


def test_r4_3_concurrent_builds_one_ami(aws: str, tmp_path: Path) -> None:
    """Both start together; the version's SSM claim lets one bake, the other exits 9 before
    packer starts. Before the claim, both exited 0 and left two AMIs of 0.1.0."""
    assert invoke("init", "web", cwd=tmp_path).returncode == 0
    builds = [
        subprocess.Popen(
            [sys.executable, "-m", "packerpy", "build", "web", "--json"],
            cwd=tmp_path,
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    done = [(p.wait(timeout=300), *p.communicate()) for p in builds]
    codes = sorted(code for code, _out, _err in done)
    assert codes == [0, 9], done

    (loser_err,) = [err for code, _out, err in done if code == 9]
    assert "0.1.0 is claimed by run " in loser_err
    assert "/packerpy/web/web/versions/0.1.0 in us-east-1" in loser_err

    amis = ec2(aws).describe_images(
        Owners=["self"], Filters=[{"Name": "tag:packerpy:version", "Values": ["0.1.0"]}]
    )["Images"]
    assert len(amis) == 1

    results = [
        json.loads(path.read_text())
        for path in (tmp_path / ".packerpy" / "runs").glob("*/result.json")
    ]
    (loser,) = [r for r in results if r["exit_code"] == 9]
    (winner,) = [r for r in results if r["exit_code"] == 0]
    # The loser stopped in the claim phase: packer never ran for it (no init, no bake).
    assert loser["phase"] == "claim"
    assert {p["name"] for p in loser["phases"]}.isdisjoint({"init", "bake"})
    assert {"claim", "init", "bake"} <= {p["name"] for p in winner["phases"]}

    # The claim stays, naming the winner's run and its AMI.
    ssm = AwsClients(settings_for(aws)).ssm("us-east-1")
    value = ssm.get_parameter(Name="/packerpy/web/web/versions/0.1.0")["Parameter"]["Value"]
    assert json.loads(value)["amis"] == {"us-east-1": amis[0]["ImageId"]}
