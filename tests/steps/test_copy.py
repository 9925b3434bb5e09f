"""Copy: plans a copy per missing region, adopts an earlier copy, and its waits are cancellable."""

from __future__ import annotations

import threading

import pytest

from packerpy.aws.images import wait_available
from packerpy.aws.operation import Outcome
from packerpy.errors import Cancelled
from packerpy.steps.copy import CopyStep
from packerpy.steps.protocol import BuiltImage, desired_tags
from tests.helpers import ec2
from tests.steps.amis import context, image_config, make_ami, tags_of


@pytest.fixture
def built(aws: str) -> BuiltImage:
    ami, _ = make_ami(aws, "us-east-1", name="web-1.2.3")
    return BuiltImage(
        image="web",
        version="1.2.3",
        amis={"us-east-1": ami},
        config=image_config(),
        regions=("us-east-1", "eu-west-1"),
    )


def named(endpoint: str, region: str, name: str) -> list[str]:
    found = ec2(endpoint, region).describe_images(
        Owners=["self"], Filters=[{"Name": "name", "Values": [name]}]
    )["Images"]
    return [image["ImageId"] for image in found]


def test_copy_dry_run_plans_one_copy_per_missing_region(aws: str, built: BuiltImage) -> None:
    ctx = context(aws, built, dry_run=True)
    result = CopyStep().run(ctx)
    source = built.amis["us-east-1"]
    assert [(a.region, a.verb, a.resources, a.mutating) for a in result.plan] == [
        ("eu-west-1", "copy", (source,), True)
    ]
    assert result.plan[0].payload["SourceRegion"] == "us-east-1"
    assert result.actions == (f"eu-west-1: copy {source} from us-east-1",)
    assert not result.changed and ctx.aws.log.mutating == []
    assert named(aws, "eu-west-1", "web-1.2.3") == []


def test_copy_tags_the_copy_then_a_rerun_adopts_it(aws: str, built: BuiltImage) -> None:
    first = context(aws, built)
    result = CopyStep().run(first)
    copy = result.amis["eu-west-1"] if result.amis else ""
    assert result.changed and copy.startswith("ami-")
    assert result.actions == (
        f"eu-west-1: copy {built.amis['us-east-1']} from us-east-1 -> {copy}",
    )
    assert first.aws.log.mutating == [("eu-west-1", "CopyImage"), ("eu-west-1", "CreateTags")]
    assert tags_of(aws, "eu-west-1", copy) == desired_tags(built)

    # As after a publish killed before it recorded the copy: the region looks missing again.
    again = context(aws, built)
    adopted = CopyStep().run(again)
    assert [(a.verb, a.resources, a.mutating) for a in adopted.plan] == [("adopt", (copy,), False)]
    assert adopted.amis == {**built.amis, "eu-west-1": copy}
    assert again.aws.log.mutating == []
    assert named(aws, "eu-west-1", "web-1.2.3") == [copy]  # no duplicate


def test_a_cancelled_copy_starts_nothing(aws: str, built: BuiltImage) -> None:
    ctx = context(aws, built)
    ctx.cancel.set()
    with pytest.raises(Cancelled) as info:
        CopyStep().run(ctx)
    outcome = info.value.outcome
    assert isinstance(outcome, Outcome)
    assert [a.verb for a in outcome.not_started] == ["copy"] and outcome.done == ()
    assert ctx.aws.log.mutating == []


def test_the_wait_for_a_copy_stops_when_cancelled(aws: str, built: BuiltImage) -> None:
    ctx = context(aws, built)
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    # An id moto does not know polls as "not there yet" until the token is set.
    with pytest.raises(Cancelled, match="stopped waiting for ami-12345678"):
        wait_available(ctx.aws, "eu-west-1", "ami-12345678", cancel, delay=0.05, attempts=1000)
    assert ctx.aws.log.mutating == []
