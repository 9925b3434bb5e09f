"""Blue-green with canary steps against moto: the end state, a failed gate, the dry run.

Marked e2e: each test rolls real groups in the session moto and waits on their health, which
would push `make unit` past its 60 s budget on two busy cores.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from packerpy.aws.operation import Mode
from packerpy.errors import Refused, RolledBack
from packerpy.rollout import apply, state
from packerpy.rollout.groups import Groups
from packerpy.rollout.model import Event
from packerpy.support import liveness
from tests.helpers import make_ami
from tests.rollout import fleet

pytestmark = pytest.mark.e2e

CHANNEL = apply.Channel("/packerpy", "acme")


def test_dry_run_then_blue_green_ends_on_the_new_ami_with_blue_gone(
    aws: str, tmp_path: Path
) -> None:
    built = fleet.build(aws, tmp_path)
    dry = built.aws()
    planned = apply.rollout(dry, CHANNEL, fleet.options())
    assert dry.log.mutating == []  # the dry run (the default mode) makes no mutating call
    assert [a.verb for a in planned.plan] == [
        "claim",
        "create-launch-template-version",
        "create-auto-scaling-group",
        "step",
        "step",
        "finish",
    ]
    assert list(built.groups()) == [fleet.ASG]
    events: list[Event] = []
    result = apply.rollout(
        built.aws(), CHANNEL, fleet.options(on_event=events.append), Mode(dry_run=False)
    )
    groups = built.groups()
    assert list(groups) == [result.green]
    green = groups[result.green]
    assert green["DesiredCapacity"] == 2
    assert built.amis_in_service() == {built.new_ami}
    tags = {t["Key"]: t["Value"] for t in green["Tags"]}
    assert tags[state.NAME] == fleet.ASG and tags[state.ROLE] == "live"
    assert tags["team"] == "web"  # blue's own tags are copied
    assert state.OWNER not in tags
    assert green["TargetGroupARNs"] == [built.target_group]
    assert [(s.percent, s.green, s.blue) for s in result.steps] == [(50, 1, 1), (100, 2, 0)]
    assert all(s.readings[-1].healthy_targets == s.green for s in result.steps)
    versions = built.client("ec2").describe_launch_template_versions(
        LaunchTemplateId=built.template
    )["LaunchTemplateVersions"]
    new = next(v for v in versions if v["VersionNumber"] == 2)["LaunchTemplateData"]
    old = next(v for v in versions if v["VersionNumber"] == 1)["LaunchTemplateData"]
    assert new == {**old, "ImageId": built.new_ami}  # only the image id changed
    assert any(e.kind == "healthy" for e in events)


def test_an_unhealthy_green_or_an_alarm_returns_to_blue_with_its_capacity(
    aws: str, tmp_path: Path
) -> None:
    built = fleet.build(aws, tmp_path)
    # The sandbox's hook: instances of an AMI tagged sandbox:unhealthy fail the ALB health check.
    built.client("ec2").create_tags(
        Resources=[built.new_ami], Tags=[{"Key": "sandbox:unhealthy", "Value": "1"}]
    )
    with pytest.raises(RolledBack, match="unhealthy in"):
        apply.rollout(built.aws(), CHANNEL, fleet.options(), Mode(dry_run=False))
    groups = built.groups()
    assert list(groups) == [fleet.ASG]
    blue = groups[fleet.ASG]
    assert (blue["MinSize"], blue["MaxSize"], blue["DesiredCapacity"]) == (1, 4, 2)
    assert built.amis_in_service() == {built.old_ami}
    assert state.OWNER not in {t["Key"] for t in blue["Tags"]}
    # The same fleet, now with a healthy AMI and a CloudWatch alarm in ALARM: back to blue too.
    built.client("ec2").delete_tags(Resources=[built.new_ami], Tags=[{"Key": "sandbox:unhealthy"}])
    cloudwatch = built.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="web-5xx",
        MetricName="HTTPCode_Target_5XX_Count",
        Namespace="AWS/ApplicationELB",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="web-5xx", StateValue="ALARM", StateReason="test")
    with pytest.raises(RolledBack, match="alarm web-5xx is in ALARM"):
        apply.rollout(built.aws(), CHANNEL, fleet.options(alarms=("web-5xx",)), Mode(dry_run=False))
    assert list(built.groups()) == [fleet.ASG]
    assert built.groups()[fleet.ASG]["DesiredCapacity"] == 2


def test_a_second_rollout_of_a_claimed_group_refuses(aws: str, tmp_path: Path) -> None:
    built = fleet.build(aws, tmp_path)
    other = subprocess.Popen(["sleep", "30"])  # a live process that holds the claim
    try:
        held = liveness.identify(other.pid)
        assert held is not None
        owner = f"someone@{liveness.host()} {held.pid} {held.create_time:.2f}"
        fleet.tag_group(
            built,
            fleet.ASG,
            {
                state.OWNER: owner,
                f"{state.P}ami": built.new_ami,
                f"{state.P}strategy": "blue-green",
            },
        )
        with pytest.raises(
            Refused, match=f"already being rolled out to {built.new_ami} by someone@"
        ):
            apply.rollout(built.aws(), CHANNEL, fleet.options(), Mode(dry_run=False))
    finally:
        other.kill()
        other.wait()


def test_the_next_rollout_of_the_name_rolls_the_previous_green(aws: str, tmp_path: Path) -> None:
    """AWS has no rename: the name follows the live group by tag; --keep-blue retires blue."""
    built = fleet.build(aws, tmp_path)
    built.client("autoscaling").update_auto_scaling_group(
        AutoScalingGroupName=fleet.ASG,
        LaunchTemplate={"LaunchTemplateId": built.template, "Version": "$Latest"},
    )
    first = apply.rollout(built.aws(), CHANNEL, fleet.options(keep_blue=True), Mode(dry_run=False))
    retired = built.groups()[fleet.ASG]
    assert retired["DesiredCapacity"] == 0
    assert retired["LaunchTemplate"]["Version"] == "1"  # pinned: $Latest is now the new AMI
    assert {t["Key"]: t["Value"] for t in retired["Tags"]}[state.ROLE] == "retired"
    third = make_ami(aws, tags={"packerpy:image": "web", "packerpy:version": "1.2.0"})
    built.client("ssm").put_parameter(Name=fleet.PARAMETER, Value=third, Overwrite=True)
    second = apply.rollout(built.aws(), CHANNEL, fleet.options(), Mode(dry_run=False))
    assert second.blue == first.green
    assert sorted(built.groups()) == sorted([fleet.ASG, second.green])
    assert built.amis_in_service() == {third}


def test_a_rollout_stopped_in_its_finish_is_found_by_its_state(aws: str, tmp_path: Path) -> None:
    """Killed between tagging green live and deleting blue: the name means blue, which holds
    the state, so a re-run resumes the finish instead of refusing two live groups."""
    built = fleet.build(aws, tmp_path)
    asg = built.client("autoscaling")
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web-prod-green-1.1.0-lt2",
        LaunchTemplate={"LaunchTemplateId": built.template, "Version": "1"},
        MinSize=0,
        MaxSize=4,
        AvailabilityZones=["us-east-1a"],
        Tags=[
            {"Key": state.NAME, "Value": fleet.ASG, "PropagateAtLaunch": False},
            {"Key": state.ROLE, "Value": "live", "PropagateAtLaunch": False},
        ],
    )
    groups = Groups(built.aws(), fleet.REGION)
    with pytest.raises(Refused, match="all claim that name"):
        groups.live(fleet.ASG)
    fleet.tag_group(built, fleet.ASG, fleet.SAMPLE_STATE.tags())
    assert groups.live(fleet.ASG).name == fleet.ASG
