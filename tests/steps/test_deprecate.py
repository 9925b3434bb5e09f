"""Deprecate: the time comes from the AMI's creation, so a rerun plans nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from packerpy.steps.deprecate import DeprecateStep
from packerpy.steps.protocol import BuiltImage
from tests.helpers import ec2
from tests.steps.amis import context, image_config, make_ami

REGIONS = ("us-east-1", "eu-west-1")


def test_deprecate_is_planned_applied_once_then_idempotent(aws: str) -> None:
    amis = {region: make_ami(aws, region)[0] for region in REGIONS}
    built = BuiltImage(
        image="web",
        version="1.2.3",
        amis=amis,
        config=image_config(deprecate_after="180d"),
        regions=REGIONS,
    )
    dry = context(aws, built, dry_run=True)
    plan = DeprecateStep().run(dry)
    assert [(a.region, a.verb) for a in plan.plan] == [(r, "deprecate") for r in REGIONS]
    assert not plan.changed and dry.aws.log.mutating == []

    created = ec2(aws).describe_images(ImageIds=[amis["us-east-1"]])["Images"][0]["CreationDate"]
    at = datetime.fromisoformat(created.replace("Z", "+00:00")) + timedelta(days=180)
    ctx = context(aws, built)
    result = DeprecateStep().run(ctx)
    assert (
        result.changed
        and result.data["deprecate_at"] == at.replace(second=0, microsecond=0).isoformat()
    )
    assert sorted(ctx.aws.log.mutating) == [(r, "EnableImageDeprecation") for r in sorted(REGIONS)]
    assert result.plan[0].payload == {
        "ImageId": amis["us-east-1"],
        "DeprecateAt": result.data["deprecate_at"],
    }

    again = context(aws, built)
    rerun = DeprecateStep().run(again)
    assert rerun.plan == () and not rerun.changed and again.aws.log.mutating == []
