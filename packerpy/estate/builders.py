"""packer's builder resources in AWS: instances tagged `packerpy:run`, `packer_*` key pairs and
security groups. Read only; `release/reap.py` decides what to remove and removes it.

packer names its temporary key pair and security group `packer_<uuid>`, where the uuid is
packer's TimeOrderedUUID: its first 8 hex digits are the Unix time of creation in seconds
(`common/uuid/uuid.go`, packer-plugin-sdk `uuid.TimeOrderedUUID`). That gives a security group,
which EC2 reports no creation time for, an age. Neither carries a tag; they are linked to a
builder through the instance's KeyName and SecurityGroups.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from packerpy.aws.clients import AwsClients, translated
from packerpy.naming import RUN_TAG

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import FilterTypeDef

TEMPORARY_PREFIX = "packer_"
# Instance states in which an instance (and so its key pair and security group) still exists
# as far as AWS billing and packer's clean-up are concerned.
NOT_TERMINATED = ("pending", "running", "stopping", "stopped", "shutting-down")
_TIME_ORDERED = re.compile(r"packer_([0-9a-f]{8})-")


@dataclass(frozen=True)
class Builder:
    """An instance packer launched for a packerpy run."""

    region: str
    instance_id: str
    state: str
    run_id: str
    launched: datetime
    key_name: str | None
    security_groups: tuple[str, ...]  # group ids


@dataclass(frozen=True)
class Temporary:
    """A `packer_*` key pair or security group, and the instances that use it."""

    region: str
    kind: str  # "key pair" or "security group"
    id: str  # the key pair's name, the group's id
    name: str
    created: datetime | None
    used_by: tuple[str, ...]  # instance ids (any state AWS still lists)


@dataclass(frozen=True)
class RegionBuilders:
    region: str
    builders: tuple[Builder, ...]
    key_pairs: tuple[Temporary, ...]
    security_groups: tuple[Temporary, ...]
    # Every instance AWS lists in the region (terminated ones for about an hour): id -> state.
    states: Mapping[str, str] = field(default_factory=dict)


def created_at(name: str) -> datetime | None:
    """When packer made a `packer_<TimeOrderedUUID>` resource, from its name; else None."""
    found = _TIME_ORDERED.match(name)
    return datetime.fromtimestamp(int(found.group(1), 16), UTC) if found else None


def _tag(instance: Mapping[str, Any], key: str) -> str | None:
    return next((t["Value"] for t in instance.get("Tags", []) if t["Key"] == key), None)


def _instances(aws: AwsClients, region: str, filters: list[FilterTypeDef]) -> list[Any]:
    found: list[Any] = []
    with translated("list builder instances", region):
        pages = (
            aws.ec2(region)
            .get_paginator("describe_instances")
            .paginate(Filters=filters, PaginationConfig={"PageSize": 1000})
        )
        for page in pages:
            found.extend(i for r in page["Reservations"] for i in r["Instances"])
    return found


def _builder(region: str, instance: Mapping[str, Any]) -> Builder:
    return Builder(
        region=region,
        instance_id=instance["InstanceId"],
        state=instance["State"]["Name"],
        run_id=_tag(instance, RUN_TAG) or "",
        launched=instance["LaunchTime"],
        key_name=instance.get("KeyName"),
        security_groups=tuple(g["GroupId"] for g in instance.get("SecurityGroups", [])),
    )


def builders(aws: AwsClients, region: str) -> tuple[Builder, ...]:
    """Builder instances not yet terminated: one DescribeInstances (a page per 1,000)."""
    found = _instances(
        aws,
        region,
        [
            {"Name": "tag-key", "Values": [RUN_TAG]},
            {"Name": "instance-state-name", "Values": list(NOT_TERMINATED)},
        ],
    )
    return tuple(_builder(region, instance) for instance in found)


def scan(aws: AwsClients, region: str) -> RegionBuilders:
    """Builders, and every `packer_*` key pair and security group with who uses it."""
    ec2 = aws.ec2(region)
    # Every instance AWS still lists: a packer_* group or key may belong to a plain packer
    # bake (no packerpy tag), which must be left alone while its instance exists.
    instances = _instances(aws, region, [])
    with translated("list packer key pairs", region):
        keys = ec2.describe_key_pairs(
            Filters=[{"Name": "key-name", "Values": [f"{TEMPORARY_PREFIX}*"]}]
        )["KeyPairs"]
    with translated("list packer security groups", region):
        groups = ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [f"{TEMPORARY_PREFIX}*"]}]
        )["SecurityGroups"]
    by_key: dict[str, list[str]] = {}
    by_group: dict[str, list[str]] = {}
    for instance in instances:
        if name := instance.get("KeyName"):
            by_key.setdefault(name, []).append(instance["InstanceId"])
        for group in instance.get("SecurityGroups", []):
            by_group.setdefault(group["GroupId"], []).append(instance["InstanceId"])
    return RegionBuilders(
        region=region,
        builders=tuple(_builder(region, i) for i in instances if _tag(i, RUN_TAG) is not None),
        key_pairs=tuple(
            Temporary(
                region=region,
                kind="key pair",
                id=key["KeyName"],
                name=key["KeyName"],
                created=created_at(key["KeyName"]) or key.get("CreateTime"),
                used_by=tuple(by_key.get(key["KeyName"], ())),
            )
            for key in keys
            if key["KeyName"].startswith(TEMPORARY_PREFIX)
        ),
        security_groups=tuple(
            Temporary(
                region=region,
                kind="security group",
                id=group["GroupId"],
                name=group["GroupName"],
                created=created_at(group["GroupName"]),
                used_by=tuple(by_group.get(group["GroupId"], ())),
            )
            for group in groups
            if group["GroupName"].startswith(TEMPORARY_PREFIX)
        ),
        states={i["InstanceId"]: i["State"]["Name"] for i in instances},
    )


def orphans_in_background(
    aws: AwsClients, regions: tuple[str, ...], alive: Callable[[Builder], bool]
) -> Future[tuple[Builder, ...]]:
    """Builders of runs that are no longer alive, looked up while the caller does other work.

    One DescribeInstances per region (the build-time check: read only, never removes). A daemon
    thread: an abandoned check must not hold up the process's exit.
    """
    future: Future[tuple[Builder, ...]] = Future()

    def check() -> None:
        try:
            found = (b for region in regions for b in builders(aws, region) if not alive(b))
            future.set_result(tuple(found))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever calls .result()
            future.set_exception(exc)

    threading.Thread(target=check, name="packerpy-orphans", daemon=True).start()
    return future
