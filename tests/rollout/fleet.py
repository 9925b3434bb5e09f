"""A small fleet in moto for rollout tests: two AMIs, a channel, a launch template, an ALB with a
target group, and an Auto Scaling group on the old AMI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packerpy.aws.clients import AwsClients
from packerpy.rollout import state
from packerpy.rollout.model import RolloutOptions
from tests.helpers import boto_client, make_ami, make_project, settings_for

REGION = "us-east-1"
ASG = "web-prod"
PARAMETER = (
    "/packerpy/acme/web/prod"  # naming.channel_parameter("/packerpy", "acme", "web", "prod")
)


@dataclass(frozen=True)
class Fleet:
    endpoint: str
    old_ami: str
    new_ami: str
    template: str
    target_group: str
    project: Path

    def client(self, service: str) -> Any:
        return boto_client(service, self.endpoint, REGION)

    def aws(self) -> AwsClients:
        return AwsClients(settings_for(self.endpoint, REGION))

    def groups(self) -> dict[str, dict[str, Any]]:
        found = self.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
        return {g["AutoScalingGroupName"]: g for g in found}

    def amis_in_service(self) -> set[str]:
        """The AMI of every InService instance of every group."""
        ids = [
            i["InstanceId"]
            for g in self.groups().values()
            for i in g["Instances"]
            if i["LifecycleState"] == "InService"
        ]
        if not ids:
            return set()
        found = self.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
        return {i["ImageId"] for r in found for i in r["Instances"]}


def options(**overrides: Any) -> RolloutOptions:
    fields: dict[str, Any] = {
        "image": "web",
        "channel": "prod",
        "asg": ASG,
        "region": REGION,
        "steps": (50, 100),
        "bake_time": 0.2,
        "health_timeout": 10.0,
        "poll": 0.1,
    }
    return RolloutOptions(**{**fields, **overrides})


def build(endpoint: str, tmp_path: Path, *, desired: int = 2) -> Fleet:
    old = make_ami(endpoint, tags={"packerpy:image": "web", "packerpy:version": "1.0.0"})
    new = make_ami(endpoint, tags={"packerpy:image": "web", "packerpy:version": "1.1.0"})
    ssm = boto_client("ssm", endpoint, REGION)
    ssm.put_parameter(Name=PARAMETER, Value=new, Type="String", DataType="aws:ec2:image")
    ec2 = boto_client("ec2", endpoint, REGION)
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    template = ec2.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": old, "InstanceType": "t3.micro"}
    )["LaunchTemplate"]["LaunchTemplateId"]
    elb = boto_client("elbv2", endpoint, REGION)
    balancer = elb.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]
    group = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)
    arn = group["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=balancer["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}],
    )
    boto_client("autoscaling", endpoint, REGION).create_auto_scaling_group(
        AutoScalingGroupName=ASG,
        LaunchTemplate={"LaunchTemplateId": template, "Version": "1"},
        MinSize=1,
        MaxSize=4,
        DesiredCapacity=desired,
        VPCZoneIdentifier=",".join(subnets),
        TargetGroupARNs=[arn],
        HealthCheckType="ELB",
        HealthCheckGracePeriod=30,
        Tags=[{"Key": "team", "Value": "web", "PropagateAtLaunch": True}],
    )
    make_project(tmp_path, images={"web": {"regions": [REGION]}})
    return Fleet(endpoint, old, new, template, arn, tmp_path)


def tag_group(built: Fleet, group: str, tags: dict[str, str]) -> None:
    built.client("autoscaling").create_or_update_tags(
        Tags=[
            {
                "ResourceId": group,
                "ResourceType": "auto-scaling-group",
                "Key": k,
                "Value": v,
                "PropagateAtLaunch": False,
            }
            for k, v in tags.items()
        ]
    )


# A rollout's state as its tags would hold it, two steps in (for contract and tag tests).
SAMPLE_STATE = state.State(
    owner="ci@runner 4242 1700000000.25",
    strategy="blue-green",
    image="web",
    version="1.1.0+build.7",
    ami="ami-0123456789abcdef0",
    from_ami="ami-0fedcba9876543210",
    template="lt-0123456789abcdef0:3:4",
    green="web-prod-green-1.1.0_build.7-lt4",
    steps=(10, 50, 100),
    done=2,
    blue_capacity=(2, 12, 10),
    started="2026-11-27T05:00:00Z",
    by="ci@runner",
    heartbeat="2026-11-27T05:10:00Z",
)
