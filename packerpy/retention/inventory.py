"""Cleanup's reads: this project's AMIs, and what uses them, once per region per run.

Every list is a paged read with a server-side filter where AWS has one (aws/pages.py), so
calls grow with pages, not with AMIs: the AMIs by `packerpy:project` (and `packerpy:image`),
instances not terminated, every launch template's every version (one paged read per launch
template: DescribeLaunchTemplateVersions lists all versions only of a named template, per its
API reference), launch configurations and auto scaling groups. Nothing here mutates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from packerpy import versions
from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.pages import IMAGES_PAGE, items
from packerpy.naming import IMAGE_TAG, VERSION_TAG
from packerpy.retention.model import Ami, Snapshot

# Page sizes at each API's maximum (API references): DescribeInstances 1000,
# DescribeLaunchTemplates 200, DescribeLaunchTemplateVersions 200, the Auto Scaling
# Describe* 100, DescribeSnapshots 1000.
INSTANCES_PAGE = 1000
TEMPLATES_PAGE = 200
ASG_PAGE = 100
SNAPSHOTS_PAGE = 1000
# Filter values per request: EC2 accepts up to 200 values in one filter.
FILTER_VALUES = 200
# Every instance state except terminated: a stopped instance starts again from its AMI's
# snapshot only through the instance's own volume, but packerpy cannot tell what its owner
# expects (the issue: "any state except terminated").
LIVE_STATES = ["pending", "running", "shutting-down", "stopping", "stopped"]
# AMIs that are not ready or no longer usable are left alone (a copy in flight, a failed one).
USABLE_STATES = frozenset({"available", "disabled"})


def tags_of(resource: Mapping[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def _created(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def to_ami(region: str, image: Mapping[str, Any]) -> Ami:
    tags = tags_of(image)
    version = tags.get(VERSION_TAG, "")
    snapshots = tuple(
        Snapshot(m["Ebs"]["SnapshotId"], int(m["Ebs"].get("VolumeSize") or 0))
        for m in image.get("BlockDeviceMappings", [])
        if m.get("Ebs", {}).get("SnapshotId")
    )
    return Ami(
        region=region,
        ami_id=image["ImageId"],
        image=tags.get(IMAGE_TAG, ""),
        version=version if versions.is_version(version) else "",
        created=_created(image.get("CreationDate")),
        snapshots=snapshots,
        tags=tags,
    )


def instance_uses(aws: AwsClients, region: str) -> dict[str, list[str]]:
    """AMI id -> "instance i-... (state)" for every instance not terminated."""
    with translated("list instances", region):
        reservations = items(
            aws.ec2(region),
            "describe_instances",
            "Reservations",
            INSTANCES_PAGE,
            Filters=[{"Name": "instance-state-name", "Values": LIVE_STATES}],
        )
    found: dict[str, list[str]] = {}
    for reservation in reservations:
        for instance in reservation["Instances"]:
            why = f"instance {instance['InstanceId']} ({instance['State']['Name']})"
            found.setdefault(instance["ImageId"], []).append(why)
    return found


def template_versions(aws: AwsClients, region: str) -> dict[tuple[str, int], str]:
    """(launch template id, version number) -> AMI id, for every version of every template."""
    ec2 = aws.ec2(region)
    with translated("list launch templates", region):
        templates = items(ec2, "describe_launch_templates", "LaunchTemplates", TEMPLATES_PAGE)
        found: dict[tuple[str, int], str] = {}
        for template in templates:
            for version in items(
                ec2,
                "describe_launch_template_versions",
                "LaunchTemplateVersions",
                TEMPLATES_PAGE,
                LaunchTemplateId=template["LaunchTemplateId"],
            ):
                image = version.get("LaunchTemplateData", {}).get("ImageId")
                if image:
                    key = (version["LaunchTemplateId"], int(version["VersionNumber"]))
                    found[key] = image
    return found


def _asg_templates(group: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Every launch template specification of a group, mixed instances policy included."""
    specs = [group["LaunchTemplate"]] if group.get("LaunchTemplate") else []
    mixed = group.get("MixedInstancesPolicy", {}).get("LaunchTemplate", {})
    if mixed.get("LaunchTemplateSpecification"):
        specs.append(mixed["LaunchTemplateSpecification"])
    specs.extend(
        o["LaunchTemplateSpecification"]
        for o in mixed.get("Overrides", [])
        if o.get("LaunchTemplateSpecification")
    )
    return specs


def autoscaling_uses(
    aws: AwsClients, region: str, templates: Mapping[tuple[str, int], str]
) -> dict[str, list[str]]:
    """AMI id -> reasons from launch configurations and auto scaling groups."""
    client = aws.client("autoscaling", region)
    with translated("list launch configurations and auto scaling groups", region):
        configs = items(client, "describe_launch_configurations", "LaunchConfigurations", ASG_PAGE)
        groups = items(client, "describe_auto_scaling_groups", "AutoScalingGroups", ASG_PAGE)
    found: dict[str, list[str]] = {}
    by_config = {c["LaunchConfigurationName"]: c["ImageId"] for c in configs}
    for name, image in by_config.items():
        found.setdefault(image, []).append(f"launch configuration {name}")
    for group in groups:
        name = group["AutoScalingGroupName"]
        config = group.get("LaunchConfigurationName")
        if config in by_config:
            found.setdefault(by_config[config], []).append(f"auto scaling group {name} ({config})")
        for spec in _asg_templates(group):
            for image in _template_images(spec, templates):
                found.setdefault(image, []).append(f"auto scaling group {name}")
    return found


def _template_images(spec: Mapping[str, Any], templates: Mapping[tuple[str, int], str]) -> set[str]:
    """The AMIs a group's launch template specification may launch. $Latest and $Default
    resolve at launch time, so any version of the template counts (the safe side)."""
    template = spec.get("LaunchTemplateId")
    version = str(spec.get("Version", "$Default"))
    return {
        image
        for (lt, number), image in templates.items()
        if (template is None or lt == template)
        and (not version.isdigit() or int(version) == number)
    }


def uses(aws: AwsClients, region: str) -> dict[str, tuple[str, ...]]:
    """AMI id -> every in-use reason in `region`: instances, templates, configs, groups."""
    found = instance_uses(aws, region)
    templates = template_versions(aws, region)
    for (template, number), image in templates.items():
        found.setdefault(image, []).append(f"launch template {template} version {number}")
    for image, whys in autoscaling_uses(aws, region, templates).items():
        found.setdefault(image, []).extend(whys)
    return {image: tuple(dict.fromkeys(whys)) for image, whys in found.items()}


def chunks(values: Iterable[str], size: int = FILTER_VALUES) -> list[list[str]]:
    listed = list(dict.fromkeys(values))
    return [listed[i : i + size] for i in range(0, len(listed), size)]


def snapshot_users(aws: AwsClients, region: str, snapshots: Iterable[str]) -> dict[str, set[str]]:
    """Snapshot id -> the self-owned AMIs (any project, any tags) whose mappings name it."""
    found: dict[str, set[str]] = {}
    wanted = set(snapshots)
    for chunk in chunks(wanted):
        with translated("find the images using snapshots", region):
            images = items(
                aws.ec2(region),
                "describe_images",
                "Images",
                IMAGES_PAGE,
                Owners=["self"],
                Filters=[{"Name": "block-device-mapping.snapshot-id", "Values": chunk}],
                IncludeDisabled=True,
            )
        for image in images:
            for mapping in image.get("BlockDeviceMappings", []):
                snapshot = mapping.get("Ebs", {}).get("SnapshotId")
                if snapshot in wanted:
                    found.setdefault(snapshot, set()).add(image["ImageId"])
    return found
