"""release/reap.py: the plan against moto for dead, live and foreign runs, dry run and apply."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from packerpy import records
from packerpy.aws.clients import AwsClients
from packerpy.aws.operation import Mode
from packerpy.release import reap
from packerpy.support import liveness
from tests.estate.test_builders import launch_builder
from tests.helpers import ec2, settings_for

HOST = liveness.host()


def local_run(runs_dir: Path, name: str, *, alive: bool) -> str:
    """A run record of this host whose packerpy is this test (alive) or an exited process."""
    if alive:
        process = liveness.this_process()
    else:
        child = subprocess.Popen([sys.executable, "-c", "pass"])
        process = liveness.identify(child.pid) or liveness.ProcessId(child.pid, time.time())
        child.wait()
    run_dir = runs_dir / name
    run_dir.mkdir(parents=True)
    run_id = records.run_id(name, HOST)
    live = {
        "run_id": run_id,
        "host": HOST,
        "started": "2026-11-27T00:00:00+00:00",
        "pid": process.pid,
        "create_time": process.create_time,
    }
    (run_dir / records.LIVE_NAME).write_text(json.dumps(live))
    return run_id


def state(endpoint: str, made: dict[str, Any]) -> tuple[str, bool, bool]:
    """(instance state, key pair exists, group exists)."""
    client = ec2(endpoint)
    reservations = client.describe_instances(InstanceIds=[made["instance"]])["Reservations"]
    keys = {k["KeyName"] for k in client.describe_key_pairs()["KeyPairs"]}
    groups = {g["GroupId"] for g in client.describe_security_groups()["SecurityGroups"]}
    return (
        reservations[0]["Instances"][0]["State"]["Name"],
        made["key"] in keys,
        made["group"] in groups,
    )


def run_reap(endpoint: str, runs_dir: Path, *, apply: bool, **options: Any) -> reap.ReapResult:
    opts = reap.ReapOptions(runs_dir=runs_dir, poll=0.1, **options)
    return reap.reap(
        AwsClients(settings_for(endpoint)), ["us-east-1"], opts, Mode(dry_run=not apply)
    )


def test_r4_1_a_dead_runs_builder_key_pair_and_group_are_removed(aws: str, tmp_path: Path) -> None:
    dead = launch_builder(aws, local_run(tmp_path, "20261127T000000Z-web", alive=False))
    live = launch_builder(aws, local_run(tmp_path, "20261127T000100Z-web", alive=True))
    planned = run_reap(aws, tmp_path, apply=False)
    assert planned.removed("terminate") == [dead["instance"]]
    assert planned.removed("delete-security-group") == [dead["group"]]
    assert planned.removed("delete-key-pair") == [dead["key"]]
    kept = {a.resources[0] for a in planned.plan if a.verb == "keep"}
    assert kept == {live["instance"], live["key"], live["group"]}
    # A dry run changes nothing.
    assert planned.mutating == ()
    assert state(aws, dead) == ("running", True, True)

    applied = run_reap(aws, tmp_path, apply=True)
    assert state(aws, dead) == ("terminated", False, False)
    assert state(aws, live) == ("running", True, True)
    assert {op for _, op in applied.mutating} == {
        "TerminateInstances",
        "DeleteSecurityGroup",
        "DeleteKeyPair",
    }
    # Converged: nothing left to do.
    assert run_reap(aws, tmp_path, apply=True).mutating == ()


def test_a_finished_run_is_dead_even_without_live_json(aws: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "20261127T000000Z-web"
    run_dir.mkdir()
    records.write_result(run_dir, {"ok": False})
    made = launch_builder(aws, records.run_id(run_dir.name, HOST))
    assert run_reap(aws, tmp_path, apply=False).removed("terminate") == [made["instance"]]


def test_another_hosts_run_is_dead_only_past_the_max_bake_time(aws: str, tmp_path: Path) -> None:
    made = launch_builder(aws, "20261127T000000Z-web@build-agent-7")
    assert run_reap(aws, tmp_path, apply=False).removed("terminate") == []
    later = datetime.now(UTC) + timedelta(hours=6, minutes=5)
    assert run_reap(aws, tmp_path, apply=False, now=later).removed("terminate") == [
        made["instance"]
    ]
    shorter = run_reap(aws, tmp_path, apply=False, max_bake=timedelta(seconds=0))
    assert shorter.removed("terminate") == [made["instance"]]


def test_unused_packer_resources_go_after_the_grace_period(aws: str, tmp_path: Path) -> None:
    old = launch_builder(aws, None, created=time.time() - 2 * 3600)
    young = launch_builder(aws, None)
    ec2(aws).terminate_instances(InstanceIds=[old["instance"], young["instance"]])
    planned = run_reap(aws, tmp_path, apply=False)
    assert planned.removed("delete-security-group") == [old["group"]]
    assert planned.removed("delete-key-pair") == [old["key"]]


def test_resources_of_an_instance_that_is_not_a_builder_are_kept(aws: str, tmp_path: Path) -> None:
    """A plain `packer build` in the same account: old packer_* names, but in use."""
    plain = launch_builder(aws, None, created=time.time() - 30 * 3600)
    planned = run_reap(aws, tmp_path, apply=True)
    assert planned.mutating == ()
    assert state(aws, plain) == ("running", True, True)
