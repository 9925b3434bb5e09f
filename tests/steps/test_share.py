"""Share: one call per permission kind, prune only on request, `changed` from the actions."""

from __future__ import annotations

import pytest

from packerpy.steps.protocol import BuiltImage
from packerpy.steps.share import ShareStep
from tests.helpers import ec2
from tests.steps.amis import context, image_config, make_ami

A, B, C = "111122223333", "444455556666", "777788889999"


def shared(accounts: list[str], ami: str, *, snapshots: bool = True) -> BuiltImage:
    config = image_config(share={"accounts": accounts, "snapshots": snapshots})
    return BuiltImage(image="web", version="1.2.3", amis={"us-east-1": ami}, config=config)


@pytest.fixture
def ami(aws: str) -> tuple[str, str]:
    image, snaps = make_ami(aws, "us-east-1")
    return image, snaps[0]


def launch_users(endpoint: str, ami: str) -> list[str]:
    found = ec2(endpoint).describe_image_attribute(ImageId=ami, Attribute="launchPermission")
    return sorted(p["UserId"] for p in found["LaunchPermissions"] if "UserId" in p)


def test_share_converges_then_changes_nothing(aws: str, ami: tuple[str, str]) -> None:
    image, snapshot = ami
    ctx = context(aws, shared([A, B], image))
    result = ShareStep().run(ctx)
    assert [(a.verb, a.resources) for a in result.plan] == [
        ("share", (image,)),
        ("share", (snapshot,)),
    ]
    assert result.changed and result.actions == (
        f"us-east-1: share {image} with {A}, {B}",
        f"us-east-1: share {snapshot} with {A}, {B}",
    )
    assert sorted(op for _, op in ctx.aws.log.mutating) == [
        "ModifyImageAttribute",
        "ModifySnapshotAttribute",
    ]
    again = context(aws, shared([A, B], image))
    rerun = ShareStep().run(again)
    assert rerun.plan == () and not rerun.changed and again.aws.log.mutating == []


def test_a_dropped_account_is_kept_and_reported_unless_pruned(
    aws: str, ami: tuple[str, str]
) -> None:
    image, snapshot = ami
    ShareStep().run(context(aws, shared([A, B], image)))
    kept = context(aws, shared([A], image))
    result = ShareStep().run(kept)
    # Only findings: `changed` is False because no mutating action ran, whatever they say.
    assert [(a.verb, a.resources, a.mutating) for a in result.plan] == [
        ("keep", (image,), False),
        ("keep", (snapshot,), False),
    ]
    assert all(B in line and "--prune" in line for line in result.actions)
    assert not result.changed and kept.aws.log.mutating == []

    pruned = context(aws, shared([A], image), prune=True)
    result = ShareStep().run(pruned)
    assert [a.verb for a in result.plan] == ["unshare", "unshare"] and result.changed
    assert launch_users(aws, image) == [A]


def test_adding_and_pruning_together_is_one_launch_permission_call(
    aws: str, ami: tuple[str, str]
) -> None:
    image, _ = ami
    ShareStep().run(context(aws, shared([A, B], image)))
    ctx = context(aws, shared([A, C], image), prune=True)
    result = ShareStep().run(ctx)
    assert result.actions[0] == f"us-east-1: share {image} with {C}; unshare from {B}"
    assert result.plan[0].payload["LaunchPermission"] == {
        "Add": [{"UserId": C}],
        "Remove": [{"UserId": B}],
    }
    assert [op for _, op in ctx.aws.log.mutating].count("ModifyImageAttribute") == 1
    assert launch_users(aws, image) == [A, C]


def test_snapshots_are_shared_only_when_share_snapshots_opts_in(
    aws: str, ami: tuple[str, str]
) -> None:
    image, snapshot = ami
    ctx = context(aws, shared([A], image, snapshots=False))
    result = ShareStep().run(ctx)
    assert [(a.verb, a.resources) for a in result.plan] == [("share", (image,))]
    found = ec2(aws).describe_snapshot_attribute(
        SnapshotId=snapshot, Attribute="createVolumePermission"
    )
    assert found["CreateVolumePermissions"] == []
