"""estate/builders.py: builder instances and packer_* key pairs and groups, read from moto."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from packerpy.aws.clients import AwsClients
from packerpy.estate import builders
from packerpy.naming import RUN_TAG
from tests.helpers import ec2, settings_for

SOURCE_AMI = "ami-03cf127a"  # one of moto's default images


def packer_name(created: float | None = None) -> str:
    """A name as packer makes them: packer_<TimeOrderedUUID>, Unix seconds in the first part."""
    stamp = int(time.time() if created is None else created)
    rest = uuid.uuid4().hex
    return f"packer_{stamp:08x}-{rest[:4]}-{rest[4:8]}-{rest[8:12]}-{rest[12:24]}"


def launch_builder(
    endpoint: str, run_id: str | None, *, created: float | None = None, region: str = "us-east-1"
) -> dict[str, Any]:
    """What packer makes for a bake: key pair, security group, and the tagged instance."""
    client = ec2(endpoint, region)
    key = packer_name(created)
    client.create_key_pair(KeyName=key)
    group = client.create_security_group(
        GroupName=packer_name(created), Description="Temporary group for Packer"
    )["GroupId"]
    tags = [] if run_id is None else [{"Key": RUN_TAG, "Value": run_id}]
    instance = client.run_instances(
        ImageId=SOURCE_AMI,
        MinCount=1,
        MaxCount=1,
        KeyName=key,
        SecurityGroupIds=[group],
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}] if tags else [],
    )["Instances"][0]["InstanceId"]
    return {"instance": instance, "key": key, "group": group}


def test_created_at_reads_packers_time_ordered_uuid() -> None:
    # The reliability review's orphans were packer_6b08d455-...: made at 00:52:37 that night.
    assert builders.created_at("packer_6b08d455-1234-5678-9abc-def012345678") == datetime(
        2026, 11, 27, 0, 52, 37, tzinfo=UTC
    )
    assert builders.created_at("packer_not-a-uuid") is None
    assert builders.created_at("mine") is None


def test_builders_are_the_instances_tagged_with_a_run(aws: str) -> None:
    made = launch_builder(aws, "20261127T000000Z-web@host-a")
    launch_builder(aws, None)  # a plain packer bake: not a packerpy builder
    found = builders.builders(AwsClients(settings_for(aws)), "us-east-1")
    assert [(b.instance_id, b.run_id, b.key_name, b.security_groups) for b in found] == [
        (made["instance"], "20261127T000000Z-web@host-a", made["key"], (made["group"],))
    ]
    ec2(aws).terminate_instances(InstanceIds=[made["instance"]])
    assert builders.builders(AwsClients(settings_for(aws)), "us-east-1") == ()


def test_scan_links_key_pairs_and_groups_to_their_instances(aws: str) -> None:
    made = launch_builder(aws, "r@h", created=time.time() - 3600)
    plain = launch_builder(aws, None)
    ec2(aws).create_key_pair(KeyName="someone-elses")
    found = builders.scan(AwsClients(settings_for(aws)), "us-east-1")
    assert [b.instance_id for b in found.builders] == [made["instance"]]
    keys = {k.id: k for k in found.key_pairs}
    assert set(keys) == {made["key"], plain["key"]}  # only packer_* ones
    assert keys[made["key"]].used_by == (made["instance"],)
    created = keys[made["key"]].created
    assert created is not None and abs(time.time() - 3600 - created.timestamp()) < 60
    groups = {g.id: g for g in found.security_groups}
    assert set(groups) == {made["group"], plain["group"]}
    assert groups[plain["group"]].used_by == (plain["instance"],)
    assert found.states[plain["instance"]] == "running"


def test_orphan_check_reports_only_dead_runs(aws: str) -> None:
    dead = launch_builder(aws, "dead@h")
    launch_builder(aws, "alive@h")
    aws_clients = AwsClients(settings_for(aws))
    check = builders.orphans_in_background(
        aws_clients, ("us-east-1",), lambda b: b.run_id != "dead@h"
    )
    assert [b.instance_id for b in check.result(timeout=30)] == [dead["instance"]]
    # Read only, one DescribeInstances for the region.
    assert aws_clients.log.calls == [("us-east-1", "DescribeInstances")]
