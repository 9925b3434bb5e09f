"""Apply details against moto: the archive tier, the re-check guard, the channel history
reader, and the sandbox's fills for what moto lacks (sandbox/moto_ext.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from packerpy.aws.clients import AwsClients
from packerpy.aws.operation import Mode
from packerpy.naming import identity_tags
from packerpy.retention import actions, channels, cleanup
from packerpy.retention.cost import Prices
from packerpy.retention.model import Policy
from packerpy.retention.survey import Scope
from tests.helpers import boto_client, ec2, make_ami, settings_for, snapshots_of

PRICES = Prices(0.05, 0.0125, "2026-11-27")


def test_old_kept_amis_move_to_the_archive_tier_once(aws: str) -> None:
    """ModifySnapshotTier (moto implements it): kept, older than archive_after, nothing
    launches it; the AMI a launch template names stays in the standard tier."""
    old = make_ami(aws, tags=identity_tags("acme", "web", "1.0.0"))
    used = make_ami(aws, tags=identity_tags("acme", "web", "1.1.0"))
    ec2(aws).create_launch_template(LaunchTemplateName="t", LaunchTemplateData={"ImageId": used})
    policy = Policy(keep_last=5, keep_prereleases=0, keep_days=0, archive_after_days=1)
    scope = Scope("acme", "/packerpy", ("us-east-1",), {"web": policy})
    later = datetime.now(UTC) + timedelta(days=2)
    client = AwsClients(settings_for(aws))
    result = cleanup.cleanup(client, scope, PRICES, Mode(), now=later)
    assert [a.verb for a in result.plan] == ["archive"]
    assert result.total.archive_snapshots == 1
    gib = result.total.archive_gib
    assert result.total.archive_monthly_saving == round(gib * (0.05 - 0.0125), 2) > 0
    tiers = {
        s["SnapshotId"]: s["StorageTier"]
        for s in ec2(aws).describe_snapshots(
            SnapshotIds=[
                *snapshots_of(aws, "us-east-1", old),
                *snapshots_of(aws, "us-east-1", used),
            ]
        )["Snapshots"]
    }
    assert tiers == {
        snapshots_of(aws, "us-east-1", old)[0]: "archive",
        snapshots_of(aws, "us-east-1", used)[0]: "standard",
    }
    again = cleanup.prepare(client, scope, PRICES, now=later)
    assert again.plan == ()


def test_guard_reads_again_only_when_stale() -> None:
    reads: list[int] = []
    now = [0.0]

    def read() -> dict[str, tuple[str, ...]]:
        reads.append(1)
        return {"ami-1": ("instance i-1 (running)",)} if len(reads) > 1 else {}

    guard = actions.Guard(read, clock=lambda: now[0])
    assert guard.protecting("ami-1") == ()
    now[0] = actions.REFRESH_SECONDS / 2
    assert guard.protecting("ami-1") == ()  # fresh enough: no read
    now[0] = actions.REFRESH_SECONDS * 2
    assert guard.protecting("ami-1") == ("instance i-1 (running)",)
    assert len(reads) == 2


def test_guard_ages_its_facts_from_when_the_read_started() -> None:
    """A re-read takes a few calls (0.1 s on moto, more on AWS): facts read from t = 0 to
    t = 0.5 are REFRESH_SECONDS old at t = 1 + a bit, however late the read ended."""
    now = [0.0]
    reads: list[float] = []

    def read() -> dict[str, tuple[str, ...]]:
        reads.append(now[0])
        now[0] += actions.REFRESH_SECONDS / 2
        return {}

    guard = actions.Guard(read, clock=lambda: now[0])
    guard.protecting("ami-1")
    now[0] = actions.REFRESH_SECONDS * 1.2
    guard.protecting("ami-1")
    assert reads == [0.0, actions.REFRESH_SECONDS * 1.2]


def test_channel_history_keeps_target_and_n_distinct_previous(aws: str) -> None:
    ssm = boto_client("ssm", aws)
    name = "/packerpy/acme/web/stable"
    for value in ("ami-a", "ami-b", "ami-b", "ami-c", "ami-d"):
        ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
    client = AwsClients(settings_for(aws))
    where = ("/packerpy", "acme", "web")
    found = channels.protected(client, "us-east-1", where, ["stable", "beta"], 2)
    assert found == {
        "ami-d": ["channel stable target"],
        "ami-c": ["channel stable history (1 back, keeping 2)"],
        "ami-b": ["channel stable history (2 back, keeping 2)"],
    }


def _client(aws: str) -> Any:
    return ec2(aws)


def test_sandbox_deregister_deletes_associated_snapshots(aws: str) -> None:
    """AWS DeregisterImage DeleteAssociatedSnapshots (EC2 API reference); moto ignores it."""
    ami = make_ami(aws)
    (snapshot,) = snapshots_of(aws, "us-east-1", ami)
    answer = _client(aws).deregister_image(ImageId=ami, DeleteAssociatedSnapshots=True)
    assert answer["DeleteSnapshotResults"] == [{"SnapshotId": snapshot, "ReturnCode": "success"}]
    left = _client(aws).describe_snapshots(Filters=[{"Name": "snapshot-id", "Values": [snapshot]}])
    assert left["Snapshots"] == []
    keep = make_ami(aws)
    (kept,) = snapshots_of(aws, "us-east-1", keep)
    _client(aws).deregister_image(ImageId=keep)
    still = _client(aws).describe_snapshots(Filters=[{"Name": "snapshot-id", "Values": [kept]}])
    assert [s["SnapshotId"] for s in still["Snapshots"]] == [kept]


def test_sandbox_filters_images_by_snapshot_id_and_tags_fast(aws: str) -> None:
    """DescribeImages `block-device-mapping.snapshot-id` (EC2 API reference), which moto
    rejects; and tag filters answered from moto's tag store (same tags as DescribeTags)."""
    first = make_ami(aws, tags={"k": "1", "packerpy:keep": "x"})
    make_ami(aws, tags={"k": "2"})
    (snapshot,) = snapshots_of(aws, "us-east-1", first)
    found = _client(aws).describe_images(
        Owners=["self"],
        Filters=[{"Name": "block-device-mapping.snapshot-id", "Values": [snapshot]}],
    )["Images"]
    assert [i["ImageId"] for i in found] == [first]
    keyed = _client(aws).describe_images(
        Owners=["self"], Filters=[{"Name": "tag-key", "Values": ["packerpy:keep"]}]
    )["Images"]
    assert [i["ImageId"] for i in keyed] == [first]
    assert {t["Key"]: t["Value"] for t in keyed[0]["Tags"]} == {"k": "1", "packerpy:keep": "x"}


@pytest.mark.parametrize("value", ["30d", "12w"])
def test_archive_after_in_days(value: str) -> None:
    assert cleanup.days(value) == {"30d": 30, "12w": 84}[value]


def test_orphans_deletes_only_unused_project_snapshots(aws: str) -> None:
    client = ec2(aws)
    volume = client.create_volume(AvailabilityZone="us-east-1a", Size=4)["VolumeId"]

    def snapshot(tags: dict[str, str]) -> str:
        spec = [
            {"ResourceType": "snapshot", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
        found: str = client.create_snapshot(VolumeId=volume, TagSpecifications=spec)["SnapshotId"]
        return found

    orphan = snapshot({"packerpy:project": "acme"})
    snapshot({"packerpy:project": "other"})
    scope = Scope("acme", "/packerpy", ("us-east-1",), {"web": None})
    aws_clients = AwsClients(settings_for(aws))
    assert cleanup.prepare(aws_clients, scope, PRICES).plan == ()
    with_orphans = Scope("acme", "/packerpy", ("us-east-1",), {"web": None}, orphans=True)
    result = cleanup.cleanup(aws_clients, with_orphans, PRICES, Mode())
    assert [a.line() for a in result.plan] == [
        f"us-east-1: delete-snapshot {orphan} (orphan: its AMI is gone)"
    ]
    assert result.total.snapshots == 1 and result.total.gib == 4
    left = client.describe_snapshots(Filters=[{"Name": "snapshot-id", "Values": [orphan]}])
    assert left["Snapshots"] == []


def test_include_shared_deletes_a_shared_ami_without_reading_its_shares(aws: str) -> None:
    old = make_ami(aws, tags=identity_tags("acme", "web", "1.0.0"))
    make_ami(aws, tags=identity_tags("acme", "web", "1.1.0"))
    ec2(aws).modify_image_attribute(
        ImageId=old, LaunchPermission={"Add": [{"UserId": "111122223333"}]}
    )
    policy = Policy(keep_last=1, keep_prereleases=0, keep_days=0, include_shared=True)
    scope = Scope("acme", "/packerpy", ("us-east-1",), {"web": policy})
    client = AwsClients(settings_for(aws))
    result = cleanup.cleanup(client, scope, PRICES, Mode())
    assert [a.verb for a in result.plan if a.mutating] == ["mark", "delete"]
    assert not result.skipped
    assert "DescribeImageAttribute" not in {op for _, op in client.log.calls}
    assert ec2(aws).describe_images(ImageIds=[old])["Images"] == []


def test_a_shared_ami_is_never_archived(aws: str) -> None:
    """Its consumers could not launch it until a restore (24-72 h): a share read in the plan
    keeps it out of the plan; one made between plan and apply skips the move."""
    old = make_ami(aws, tags=identity_tags("acme", "web", "1.0.0"))
    shared_later = make_ami(aws, tags=identity_tags("acme", "web", "1.1.0"))
    make_ami(aws, tags=identity_tags("acme", "web", "1.2.0"))
    share = {"Add": [{"UserId": "111122223333"}]}
    ec2(aws).modify_image_attribute(ImageId=old, LaunchPermission=share)
    policy = Policy(keep_last=5, keep_prereleases=0, keep_days=0, archive_after_days=1)
    scope = Scope("acme", "/packerpy", ("us-east-1",), {"web": policy})
    later = datetime.now(UTC) + timedelta(days=2)
    client = AwsClients(settings_for(aws))
    prepared = cleanup.prepare(client, scope, PRICES, now=later)
    archived = {a.resources[0] for a in prepared.plan if a.verb == "archive"}
    assert old not in archived and shared_later in archived
    ec2(aws).modify_image_attribute(ImageId=shared_later, LaunchPermission=share)
    result = cleanup.execute(client, prepared, Mode())
    assert (shared_later, ("shared with account 111122223333",)) in {
        (s.resource, s.reasons) for s in result.skipped
    }
    tiers = {
        s["StorageTier"]
        for s in ec2(aws).describe_snapshots(
            SnapshotIds=[
                *snapshots_of(aws, "us-east-1", old),
                *snapshots_of(aws, "us-east-1", shared_later),
            ]
        )["Snapshots"]
    }
    assert tiers == {"standard"}
