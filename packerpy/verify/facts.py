"""What the policy checks look at, read from AWS once per region (reads only, no mutation).

Per region: the AMI's description (from the catalog's DescribeImages), one
DescribeImageAttribute, one DescribeSnapshotAttribute per snapshot and, for an encrypted AMI
with a key configured, DescribeKey (plus GetKeyPolicy and ListGrants when shared with grant_kms).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from packerpy.aws import kms
from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.images import snapshot_ids
from packerpy.config import ImageConfig
from packerpy.errors import PackerpyError

Principal = tuple[str, str]  # (kind, value): ("UserId", "111122223333"), ("Group", "all")
_KINDS = ("UserId", "Group", "OrganizationArn", "OrganizationalUnitArn")


@dataclass(frozen=True)
class Facts:
    """One region's AMI of the version, and everything the checks compare to the config."""

    region: str
    ami: str | None  # None: the version has no AMI in this region
    project: str
    name: str
    version: str
    config: ImageConfig
    image: Mapping[str, Any] = field(default_factory=dict)  # DescribeImages entry
    launch_permissions: tuple[Principal, ...] = ()
    snapshot_permissions: Mapping[str, tuple[Principal, ...]] = field(default_factory=dict)
    kms_key_arn: str | None = None  # the configured key of the region, resolved
    kms_findings: tuple[str, ...] | None = None  # None: the KMS check does not apply
    deprecate_at: datetime | None = None  # when the config says it should deprecate

    @property
    def tags(self) -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in self.image.get("Tags", [])}


def parse_time(value: object) -> datetime | None:
    """An EC2 timestamp (CreationDate, DeprecationTime: ISO 8601 text) in UTC; None if unset."""
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)


def principals(entries: list[Any]) -> tuple[Principal, ...]:
    """LaunchPermissions / CreateVolumePermissions entries as (kind, value) pairs."""
    found = []
    for entry in entries:
        for kind in _KINDS:
            if value := entry.get(kind):
                found.append((kind, str(value)))
                break
    return tuple(sorted(found))


def gather(aws: AwsClients, base: Facts) -> Facts:
    """`base` (region, AMI, description, identity) completed with the permissions and key."""
    if base.ami is None or not base.image:
        return base
    ec2, region, ami = aws.ec2(base.region), base.region, base.ami
    with translated(f"read launch permissions of {ami}", region):
        launch = ec2.describe_image_attribute(ImageId=ami, Attribute="launchPermission")
    volumes: dict[str, tuple[Principal, ...]] = {}
    for snapshot in snapshot_ids(base.image):  # type: ignore[arg-type]
        with translated(f"read create-volume permissions of {snapshot}", region):
            found = ec2.describe_snapshot_attribute(
                SnapshotId=snapshot, Attribute="createVolumePermission"
            )
        volumes[snapshot] = principals(list(found.get("CreateVolumePermissions", [])))
    arn, findings = _key(aws, base)
    return Facts(
        **{
            **base.__dict__,
            "launch_permissions": principals(list(launch.get("LaunchPermissions", []))),
            "snapshot_permissions": volumes,
            "kms_key_arn": arn,
            "kms_findings": findings,
        }
    )


def _key(aws: AwsClients, base: Facts) -> tuple[str | None, tuple[str, ...] | None]:
    """The configured key's ARN, and what principals lack when grants are configured."""
    config, region = base.config, base.region
    key = config.kms_key_ids.get(region) if config.encrypt else None
    if key is None:
        return None, None
    where = f"images.{base.name}.kms_key_ids.{region}"
    share = config.share
    try:
        if not (share.grant_kms and (share.accounts or share.org_arns or share.ou_arns)):
            with translated(f"describe KMS key {key}", region):
                meta = aws.client("kms", region).describe_key(KeyId=key)["KeyMetadata"]
            return str(meta["Arn"]), None
        state = kms.read_key(aws, region, key, where=where)
    except PackerpyError as exc:
        return None, (exc.message,)
    planned = kms.plan_key(aws, state, base.name, share)
    return state.arn, tuple(a.detail for a in planned if a.verb != "keep")
