"""The launch test: one instance from the AMI, running and status checks ok, the image's test
scripts over SSH (remote.py), and the instance terminated whatever happens.

Termination is in a `finally`: a failed script, the timeout, an AWS error, Ctrl-C and SIGTERM
(support/signals.py turns it into KeyboardInterrupt) all pass through it, and it runs with
signals held so a second Ctrl-C cannot cut it short. An interrupt during RunInstances leaves
the id unknown, so the instance is then found by its run tag (it is tagged at launch, in the
RunInstances call itself). A packerpy killed outright (SIGKILL) leaves it to `packerpy reap`,
which removes instances of dead runs by the same tag.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packerpy import naming
from packerpy.aws.clients import AwsClients, translated
from packerpy.errors import AwsError, InterruptedByUser, PackerError
from packerpy.support import signals
from packerpy.verify import remote
from packerpy.verify.spec import LaunchSpec

# Between DescribeInstances/DescribeInstanceStatus polls (EC2's own waiters poll every 15 s;
# an instance's status checks take 1-3 minutes on AWS, moto reports them at once).
POLL_SECONDS = 5.0
_LIVE = ["pending", "running", "stopping", "stopped"]


@dataclass(frozen=True)
class LaunchResult:
    ok: bool
    reason: str
    instance_id: str | None
    output: tuple[str, ...] = ()
    terminated: tuple[str, ...] = ()


class _NotReady(Exception):
    pass


def run(
    aws: AwsClients,
    spec: LaunchSpec,
    *,
    work_dir: Path,
    progress: Callable[[str], None],
    on_start: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> LaunchResult:
    """Launch, wait, run the scripts, terminate; a failure of the image is a failed result."""
    launched: list[str] = []  # the instance id, once RunInstances has answered
    try:
        result = _attempt(aws, spec, launched, work_dir, progress, on_start, cancel)
    finally:
        with signals.held():
            gone = terminate(aws, spec, launched[0] if launched else None)
        progress(f"{spec.region}: terminated {', '.join(gone) or 'nothing'}")
    return dataclasses.replace(result, terminated=gone)


def _attempt(
    aws: AwsClients,
    spec: LaunchSpec,
    launched: list[str],
    work_dir: Path,
    progress: Callable[[str], None],
    on_start: Callable[[int], None] | None,
    cancel: threading.Event | None,
) -> LaunchResult:
    deadline = time.monotonic() + spec.timeout
    ec2 = aws.ec2(spec.region)
    output = remote.Output()
    instance = _launch(ec2, spec)
    launched.append(instance)
    progress(f"{spec.region}: launched {instance} from {spec.ami}")
    try:
        address = _wait_ready(ec2, spec.region, instance, deadline, cancel or threading.Event())
        host = spec.ssh.host or address
        progress(f"{spec.region}: {instance} is ready; running the tests on {host}")
        lines = remote.run_scripts(
            work_dir,
            spec.ssh,
            host=host,
            scripts=spec.scripts,
            timeout=max(1.0, deadline - time.monotonic()),
            on_start=on_start,
            output=output,
        )
    except _NotReady as exc:
        return LaunchResult(False, str(exc), instance, tuple(output.lines))
    except InterruptedByUser:
        raise  # Ctrl-C is no verdict on the image
    except PackerError as exc:
        # The log's path is this machine's: the run record names it, the AMI's tag need not.
        reason = f"test failed on {instance}: {exc.message.split('; log: ')[0]}"
        return LaunchResult(False, reason, instance, tuple(output.lines))
    return LaunchResult(
        True, f"{len(spec.scripts)} script(s) passed on {instance}", instance, lines
    )


def _launch(ec2: Any, spec: LaunchSpec) -> str:  # noqa: ANN401 - a boto3 EC2 client
    tags = [{"Key": k, "Value": v} for k, v in spec.tags.items()]
    request: dict[str, Any] = {
        "ImageId": spec.ami,
        "InstanceType": spec.instance_type,
        "MinCount": 1,
        "MaxCount": 1,
        # Idempotent: a retried request returns the same instance instead of a second one.
        "ClientToken": spec.tags[naming.RUN_TAG][-64:],
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": tags},
            {"ResourceType": "volume", "Tags": tags},
        ],
        "InstanceInitiatedShutdownBehavior": "terminate",
    }
    if spec.subnet_id:
        request["SubnetId"] = spec.subnet_id
    if spec.security_group_id:
        request["SecurityGroupIds"] = [spec.security_group_id]
    if spec.key_name:
        request["KeyName"] = spec.key_name
    with translated(f"launch an instance from {spec.ami}", spec.region):
        return str(ec2.run_instances(**request)["Instances"][0]["InstanceId"])


def _wait_ready(
    ec2: Any,  # noqa: ANN401 - a boto3 EC2 client
    region: str,
    instance: str,
    deadline: float,
    cancel: threading.Event,
) -> str:
    """Wait for `running` and both status checks `ok`; the instance's address."""
    while True:
        with translated(f"describe {instance}", region):
            found = ec2.describe_instances(InstanceIds=[instance])["Reservations"]
            described = found[0]["Instances"][0] if found else {}
            state = described.get("State", {}).get("Name", "unknown")
            statuses = []
            if state == "running":
                statuses = ec2.describe_instance_status(InstanceIds=[instance])["InstanceStatuses"]
        if state in {"shutting-down", "terminated", "stopping", "stopped"}:
            raise _NotReady(f"{instance} is {state} before the tests ran")
        checks = _status(statuses)
        if state == "running" and checks == ("ok", "ok"):
            address = described.get("PublicIpAddress") or described.get("PrivateIpAddress")
            return str(address or "")
        if "impaired" in checks:
            raise _NotReady(f"{instance} status checks: instance {checks[0]}, system {checks[1]}")
        left = deadline - time.monotonic()
        if left <= 0:
            raise _NotReady(f"{instance} not ready before the timeout ({state}, checks {checks})")
        cancel.wait(min(POLL_SECONDS, left))


def _status(statuses: list[Any]) -> tuple[str, str]:
    if not statuses:
        return ("pending", "pending")
    first = statuses[0]
    return (
        str(first.get("InstanceStatus", {}).get("Status", "pending")),
        str(first.get("SystemStatus", {}).get("Status", "pending")),
    )


def terminate(aws: AwsClients, spec: LaunchSpec, instance: str | None) -> tuple[str, ...]:
    """Terminate the test instance; when its id is unknown, every live one of this run."""
    ec2 = aws.ec2(spec.region)
    ids = [instance] if instance else _of_run(ec2, spec)
    if not ids:
        return ()
    try:
        with translated(f"terminate {', '.join(ids)}", spec.region):
            ec2.terminate_instances(InstanceIds=ids)
    except AwsError as exc:
        raise AwsError(
            f"{exc.message}; the verify instance is still running: terminate it by hand "
            f"or run `packerpy reap`"
        ) from exc
    return tuple(ids)


def _of_run(ec2: Any, spec: LaunchSpec) -> list[str]:  # noqa: ANN401 - a boto3 EC2 client
    filters = [
        {"Name": f"tag:{naming.RUN_TAG}", "Values": [spec.tags[naming.RUN_TAG]]},
        {"Name": f"tag:{naming.PURPOSE_TAG}", "Values": [spec.tags[naming.PURPOSE_TAG]]},
        {"Name": "instance-state-name", "Values": _LIVE},
    ]
    with translated("find this run's verify instance", spec.region):
        found = ec2.describe_instances(Filters=filters)["Reservations"]
    return [i["InstanceId"] for r in found for i in r["Instances"]]
