"""The rolling strategy and the sandbox's instance refresh, checked against AWS's API.

moto lacks StartInstanceRefresh / DescribeInstanceRefreshes / CancelInstanceRefresh; the sandbox
adds them (packerpy/sandbox/moto_asg.py). These tests pin the requests packerpy makes to
botocore's autoscaling model and the rules AWS documents (Auto Scaling API reference).
Marked e2e, like test_bluegreen.py: they drive groups in the session moto.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

from packerpy.aws.operation import Mode
from packerpy.rollout import apply
from tests.rollout import fleet

pytestmark = pytest.mark.e2e

CHANNEL = apply.Channel("/packerpy", "acme")


def test_rolling_plan_matches_the_api_and_replaces_every_instance(aws: str, tmp_path: Path) -> None:
    built = fleet.build(aws, tmp_path)
    clients = built.aws()
    result = apply.rollout(clients, CHANNEL, fleet.options(strategy="rolling", bake_time=30))
    assert clients.log.mutating == []
    start = next(a for a in result.plan if a.verb == "start-instance-refresh")
    assert start.payload == {
        "AutoScalingGroupName": fleet.ASG,
        "Strategy": "Rolling",
        "DesiredConfiguration": {
            "LaunchTemplate": {"LaunchTemplateId": built.template, "Version": "<new version>"}
        },
        "Preferences": {
            "MinHealthyPercentage": 90,
            "CheckpointPercentages": [50, 100],
            "CheckpointDelay": 30,
        },
    }
    model = built.client("autoscaling").meta.service_model
    shape = model.operation_model("StartInstanceRefresh").input_shape
    validate_parameters(dict(start.payload), shape)  # raises ParamValidationError on a mismatch

    result = apply.rollout(
        built.aws(), CHANNEL, fleet.options(strategy="rolling"), Mode(dry_run=False)
    )
    assert result.green == ""
    group = built.groups()[fleet.ASG]
    assert group["LaunchTemplate"]["Version"] == "2"
    assert built.amis_in_service() == {built.new_ami}
    refreshes = built.client("autoscaling").describe_instance_refreshes(
        AutoScalingGroupName=fleet.ASG
    )["InstanceRefreshes"]
    assert [r["Status"] for r in refreshes] == ["Successful"]
    assert refreshes[0]["Preferences"]["CheckpointPercentages"] == [50, 100]
    assert not any(t["Key"].startswith("packerpy:rollout:owner") for t in group["Tags"])


def _code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def test_instance_refresh_one_in_flight_and_cancel(aws: str, tmp_path: Path) -> None:
    """AWS: a second StartInstanceRefresh while one is active fails InstanceRefreshInProgress;
    CancelInstanceRefresh with none active fails ActiveInstanceRefreshNotFound."""
    built = fleet.build(aws, tmp_path)
    asg = built.client("autoscaling")
    first = asg.start_instance_refresh(AutoScalingGroupName=fleet.ASG)["InstanceRefreshId"]
    with pytest.raises(ClientError) as busy:
        asg.start_instance_refresh(AutoScalingGroupName=fleet.ASG)
    assert _code(busy) == "InstanceRefreshInProgress"
    assert asg.cancel_instance_refresh(AutoScalingGroupName=fleet.ASG)["InstanceRefreshId"] == first
    found = asg.describe_instance_refreshes(AutoScalingGroupName=fleet.ASG)["InstanceRefreshes"]
    assert [(r["InstanceRefreshId"], r["Status"]) for r in found] == [(first, "Cancelled")]
    assert found[0]["Preferences"]["MinHealthyPercentage"] == 90  # AWS's documented default
    with pytest.raises(ClientError) as idle:
        asg.cancel_instance_refresh(AutoScalingGroupName=fleet.ASG)
    assert _code(idle) == "ActiveInstanceRefreshNotFound"


def test_instance_refresh_rejects_what_aws_rejects(aws: str, tmp_path: Path) -> None:
    """RefreshPreferences (API reference): checkpoints ascending and unique, 1-100; a
    CheckpointDelay needs CheckpointPercentages and is at most 172800 s; MinHealthyPercentage
    0-100."""
    built = fleet.build(aws, tmp_path)
    asg = built.client("autoscaling")
    for preferences in (
        {"CheckpointPercentages": [50, 20]},
        {"CheckpointDelay": 60},
        {"CheckpointPercentages": [100], "CheckpointDelay": 172801},
    ):
        with pytest.raises(ClientError) as bad:
            asg.start_instance_refresh(AutoScalingGroupName=fleet.ASG, Preferences=preferences)
        assert _code(bad) == "ValidationError", preferences
    assert (
        asg.describe_instance_refreshes(AutoScalingGroupName=fleet.ASG)["InstanceRefreshes"] == []
    )
