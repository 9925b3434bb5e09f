"""Cleanup's reads that concern only some AMIs or snapshots: shares, tiers, leftovers.

Launch permissions have no list call: DescribeImageAttribute answers for one AMI. They are
read only for AMIs no other rule keeps (a kept AMI is kept anyway), a few at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.pages import items
from packerpy.naming import CLEANUP_TAG, PROJECT_TAG
from packerpy.retention.inventory import SNAPSHOTS_PAGE, chunks, tags_of
from packerpy.support.pool import each

# Concurrent DescribeImageAttribute calls per region: EC2's request-rate limit for
# describe calls is per account and region, 8 stays far below it.
SHARE_READERS = 8


def _permission(entry: dict[str, Any]) -> str:
    if entry.get("Group") == "all":
        return "public (launch permission for all)"
    for key, what in (
        ("UserId", "account"),
        ("OrganizationArn", "organization"),
        ("OrganizationalUnitArn", "organizational unit"),
    ):
        if key in entry:
            return f"shared with {what} {entry[key]}"
    return f"shared ({entry})"


def shared(aws: AwsClients, region: str, ami: str) -> tuple[str, ...]:
    """ "shared with account ..." for each launch permission of `ami` (none: not shared)."""
    with translated(f"read launch permissions of {ami}", region):
        found = aws.ec2(region).describe_image_attribute(ImageId=ami, Attribute="launchPermission")
    return tuple(_permission(dict(e)) for e in found.get("LaunchPermissions", []))


def shares(aws: AwsClients, region: str, amis: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """AMI id -> `shared` of each of `amis` that is shared."""

    def one(ami: str) -> tuple[str, tuple[str, ...]]:
        return ami, shared(aws, region, ami)

    return {ami: whys for ami, whys in each(list(dict.fromkeys(amis)), one, SHARE_READERS) if whys}


def _snapshots(aws: AwsClients, region: str, action: str, **kwargs: object) -> list[Any]:
    with translated(action, region):
        found: list[Any] = items(
            aws.ec2(region),
            "describe_snapshots",
            "Snapshots",
            SNAPSHOTS_PAGE,
            OwnerIds=["self"],
            **kwargs,
        )
    return found


def tiers(aws: AwsClients, region: str, snapshots: Iterable[str]) -> dict[str, str]:
    """Snapshot id -> storage tier (standard, archive) of `snapshots` that still exist."""
    found: dict[str, str] = {}
    for chunk in chunks(snapshots):
        filters = [{"Name": "snapshot-id", "Values": chunk}]
        for snapshot in _snapshots(aws, region, "read snapshot tiers", Filters=filters):
            found[snapshot["SnapshotId"]] = snapshot.get("StorageTier", "standard")
    return found


def leftovers(
    aws: AwsClients, region: str, project: str, *, orphans: bool
) -> dict[str, tuple[str, int]]:
    """Snapshot id -> (why, GiB) of snapshots a cleanup of `project` marked before it
    deregistered their AMI (a run killed in between), and with `orphans` every snapshot
    tagged with the project. Whether an AMI still uses one is the caller's check."""
    keys = [CLEANUP_TAG, PROJECT_TAG] if orphans else [CLEANUP_TAG]
    found: dict[str, tuple[str, int]] = {}
    for key in keys:
        filters = [{"Name": f"tag:{key}", "Values": [project]}]
        for snapshot in _snapshots(aws, region, "list leftover snapshots", Filters=filters):
            why = (
                "left by an interrupted cleanup"
                if tags_of(snapshot).get(CLEANUP_TAG) == project
                else "orphan: its AMI is gone"
            )
            found.setdefault(snapshot["SnapshotId"], (why, int(snapshot.get("VolumeSize", 0))))
    return found
