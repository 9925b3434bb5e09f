"""The AWS calls of a rollout: the channel's AMI, groups, launch template versions, tags.

Every call goes through `AwsClients` (the one boto3 factory) inside `translated`, so a refusal is
one line naming what was being done and where.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from packerpy.aws.clients import AwsClients, translated
from packerpy.errors import AwsError, ConfigError, Refused
from packerpy.estate import channels
from packerpy.naming import channel_parameter
from packerpy.rollout import state

# Tags AWS reserves (`aws:` prefix) cannot be copied to the green group (CreateOrUpdateTags
# refuses them); a rollout's own state stays on blue.
_NOT_COPIED = ("aws:", state.P)


@dataclass(frozen=True)
class Group:
    """What a rollout reads of an Auto Scaling group."""

    name: str
    min_size: int
    max_size: int
    desired: int
    template_id: str
    template_version: str  # as the group names it: a number, $Latest or $Default
    subnets: str  # VPCZoneIdentifier
    zones: tuple[str, ...]
    target_groups: tuple[str, ...]
    health_check_type: str
    grace: int
    tags: dict[str, str]
    instances: tuple[dict[str, Any], ...]

    @property
    def state(self) -> state.State | None:
        return state.parse(self.tags)

    @property
    def role(self) -> str:
        return self.tags.get(state.ROLE, "")


def _group(raw: dict[str, Any]) -> Group:
    template = raw.get("LaunchTemplate") or {}
    return Group(
        name=raw["AutoScalingGroupName"],
        min_size=raw["MinSize"],
        max_size=raw["MaxSize"],
        desired=raw["DesiredCapacity"],
        template_id=template.get("LaunchTemplateId", ""),
        template_version=str(template.get("Version") or "$Default"),
        subnets=raw.get("VPCZoneIdentifier") or "",
        zones=tuple(raw.get("AvailabilityZones") or ()),
        target_groups=tuple(raw.get("TargetGroupARNs") or ()),
        health_check_type=raw.get("HealthCheckType") or "EC2",
        grace=int(raw.get("HealthCheckGracePeriod") or 0),
        tags={t["Key"]: t["Value"] for t in raw.get("Tags") or ()},
        instances=tuple(raw.get("Instances") or ()),
    )


class Groups:
    """One region's Auto Scaling, EC2, ELBv2, CloudWatch and SSM calls for a rollout."""

    def __init__(self, aws: AwsClients, region: str) -> None:
        self.aws = aws
        self.region = region
        self.asg = aws.client("autoscaling", region)

    def find(self, name: str) -> Group | None:
        with translated(f"describe Auto Scaling group {name}", self.region):
            found = self.asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])
        groups = found["AutoScalingGroups"]
        return _group(groups[0]) if groups else None

    def named(self, name: str) -> list[Group]:
        """Groups carrying `name` as their rollout name (tag), and the group called `name`."""
        with translated(f"find Auto Scaling groups named {name}", self.region):
            pages = self.asg.get_paginator("describe_auto_scaling_groups").paginate(
                Filters=[{"Name": f"tag:{state.NAME}", "Values": [name]}]
            )
            tagged = [_group(g) for page in pages for g in page["AutoScalingGroups"]]
        plain = self.find(name)
        extra = [plain] if plain and plain.name not in {g.name for g in tagged} else []
        return [*tagged, *extra]

    def live(self, name: str) -> Group:
        """The group users mean by `name`: the one not green and not retired."""
        live = [g for g in self.named(name) if g.role not in ("green", "retired")]
        if not live:
            raise ConfigError(f"--asg {name}: no Auto Scaling group by that name in {self.region}")
        holding = [g for g in live if g.state is not None]
        if len(live) > 1 and len(holding) == 1:
            # A rollout stopped in its finish (green already tagged live, blue not yet gone):
            # blue holds the state, and a re-run resumes the finish from it.
            return holding[0]
        if len(live) > 1:
            names = ", ".join(sorted(g.name for g in live))
            raise Refused(f"--asg {name}: groups {names} all claim that name in {self.region}")
        return live[0]

    def tag(self, group: str, tags: dict[str, str]) -> None:
        spec = [_tag(group, k, v) for k, v in tags.items()]
        with translated(f"tag Auto Scaling group {group}", self.region):
            self.asg.create_or_update_tags(Tags=spec)

    def untag(self, group: str, keys: tuple[str, ...]) -> None:
        spec = [{"ResourceId": group, "ResourceType": "auto-scaling-group", "Key": k} for k in keys]
        with translated(f"untag Auto Scaling group {group}", self.region):
            self.asg.delete_tags(Tags=spec)

    def resize(self, group: str, *, desired: int, low: int, high: int) -> None:
        with translated(f"resize Auto Scaling group {group} to {desired}", self.region):
            self.asg.update_auto_scaling_group(
                AutoScalingGroupName=group, MinSize=low, MaxSize=high, DesiredCapacity=desired
            )

    def pin(self, group: str, template_id: str, version: str) -> None:
        """Point the group at a numbered template version instead of $Latest."""
        with translated(f"pin Auto Scaling group {group} to version {version}", self.region):
            self.asg.update_auto_scaling_group(
                AutoScalingGroupName=group,
                LaunchTemplate={"LaunchTemplateId": template_id, "Version": version},
            )

    def delete(self, group: str) -> None:
        """Delete the group and its instances; a group already gone is fine (re-runs)."""
        try:
            with translated(f"delete Auto Scaling group {group}", self.region):
                self.asg.delete_auto_scaling_group(AutoScalingGroupName=group, ForceDelete=True)
        except AwsError as exc:
            if self.find(group) is not None:
                raise exc from None

    def create_green(self, blue: Group, name: str, version: str, tags: dict[str, str]) -> None:
        """A copy of blue's placement, health check and tags, from the new template version."""
        copied = {k: v for k, v in blue.tags.items() if not k.startswith(_NOT_COPIED)}
        request: dict[str, Any] = {
            "AutoScalingGroupName": name,
            "LaunchTemplate": {"LaunchTemplateId": blue.template_id, "Version": version},
            "MinSize": 0,
            "MaxSize": max(blue.max_size, blue.desired),
            "DesiredCapacity": 0,
            "HealthCheckType": blue.health_check_type,
            "HealthCheckGracePeriod": blue.grace,
            "Tags": [_tag(name, k, v) for k, v in {**copied, **tags}.items()],
        }
        if blue.subnets:
            request["VPCZoneIdentifier"] = blue.subnets
        else:
            request["AvailabilityZones"] = list(blue.zones)
        if blue.target_groups:
            request["TargetGroupARNs"] = list(blue.target_groups)
        with translated(f"create Auto Scaling group {name}", self.region):
            self.asg.create_auto_scaling_group(**request)

    def template_version(self, template_id: str, version: str) -> dict[str, Any]:
        ec2 = self.aws.ec2(self.region)
        with translated(f"describe launch template {template_id}", self.region):
            found = ec2.describe_launch_template_versions(
                LaunchTemplateId=template_id, Versions=[version]
            )["LaunchTemplateVersions"]
        if not found:
            raise Refused(f"launch template {template_id} has no version {version}")
        return dict(found[0])

    def new_template_version(self, template_id: str, source: str, ami: str) -> str:
        """CreateLaunchTemplateVersion from `source` with only ImageId changed; its number."""
        ec2 = self.aws.ec2(self.region)
        with translated(f"create a version of launch template {template_id}", self.region):
            made = ec2.create_launch_template_version(
                LaunchTemplateId=template_id,
                SourceVersion=source,
                VersionDescription=f"packerpy rollout of {ami}",
                LaunchTemplateData={"ImageId": ami},
            )
        return str(made["LaunchTemplateVersion"]["VersionNumber"])


def _tag(group: str, key: str, value: str) -> dict[str, Any]:
    # Rollout state is about the group, not its instances: never propagated at launch.
    propagate = not key.startswith(state.P)
    return {
        "ResourceId": group,
        "ResourceType": "auto-scaling-group",
        "Key": key,
        "Value": value,
        "PropagateAtLaunch": propagate,
    }


def channel_ami(
    aws: AwsClients, region: str, prefix: str, project: str, image: str, channel: str
) -> str:
    """The channel's AMI id in `region`: its parameter's current value (estate/channels.py)."""
    name = channel_parameter(prefix, project, image, channel)
    values = channels.history(aws, region, name)
    if not values:
        raise Refused(f"channel {channel} of {image} has no AMI in {region} ({name})")
    return str(values[-1]["Value"])
