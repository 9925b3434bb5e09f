from __future__ import annotations

from typing import Any

import pytest

from packerpy.config import ImageConfig
from packerpy.errors import EXIT_AWS, AwsError
from packerpy.steps import protocol as base
from packerpy.steps.tag import TagStep
from tests.helpers import ec2
from tests.steps.amis import clients, make_ami, tags_of

IMAGE = ImageConfig.model_validate(
    {"version": "1.2.3", "base": {"ami": "ami-03cf127a"}, "tags": {"team": "platform"}}
)
WANT = {
    "packerpy:project": "packerpy",
    "packerpy:image": "web",
    "packerpy:version": "1.2.3",
    "team": "platform",
}


@pytest.fixture
def built(aws: str) -> tuple[base.BuiltImage, dict[str, list[str]]]:
    amis, snaps = {}, {}
    for region in ("us-east-1", "eu-west-1"):
        amis[region], snaps[region] = make_ami(aws, region)
    return base.BuiltImage(image="web", version="1.2.3", amis=amis, config=IMAGE), snaps


def test_tag_dry_run_plans_without_mutating(aws: str, built: Any) -> None:
    image, snaps = built
    aws_clients = clients(aws)
    result = TagStep().run(base.StepContext(built=image, aws=aws_clients, dry_run=True))
    assert result.dry_run and not result.changed
    assert result.actions == tuple(
        f"{region}: tag {', '.join([image.amis[region], *snaps[region]])}"
        for region in ("us-east-1", "eu-west-1")
    )
    assert aws_clients.log.mutating == []
    assert tags_of(aws, "us-east-1", image.amis["us-east-1"]) == {}


def test_tag_converges_in_one_call_per_region_then_makes_none(aws: str, built: Any) -> None:
    image, snaps = built
    first = clients(aws)
    result = TagStep().run(base.StepContext(built=image, aws=first))
    assert result.changed
    # Regions run concurrently: one CreateTags each, in either order.
    assert sorted(first.log.mutating) == [("eu-west-1", "CreateTags"), ("us-east-1", "CreateTags")]
    for region in ("us-east-1", "eu-west-1"):
        for resource in [image.amis[region], *snaps[region]]:
            assert tags_of(aws, region, resource) == WANT
    second = clients(aws)
    again = TagStep().run(base.StepContext(built=image, aws=second))
    assert not again.changed and again.actions == ()
    assert second.log.mutating == []


def test_tag_repairs_only_what_drifted(aws: str, built: Any) -> None:
    image, snaps = built
    TagStep().run(base.StepContext(built=image, aws=clients(aws)))
    snapshot = snaps["eu-west-1"][0]
    ec2(aws, "eu-west-1").delete_tags(Resources=[snapshot], Tags=[{"Key": "team"}])
    repair = clients(aws)
    result = TagStep().run(base.StepContext(built=image, aws=repair))
    assert result.actions == (f"eu-west-1: tag {snapshot}",)
    assert repair.log.mutating == [("eu-west-1", "CreateTags")]
    assert tags_of(aws, "eu-west-1", snapshot) == WANT


def test_tag_missing_ami_is_an_aws_error(aws: str) -> None:
    image = base.BuiltImage(
        image="web", version="1.2.3", amis={"us-east-1": "ami-12345678"}, config=IMAGE
    )
    with pytest.raises(AwsError) as info:
        TagStep().run(base.StepContext(built=image, aws=clients(aws)))
    assert info.value.exit_code == EXIT_AWS
    assert "ami-12345678" in info.value.message
