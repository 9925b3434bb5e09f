from __future__ import annotations

from typing import Any, ClassVar

import pytest

from packerpy.aws.clients import AwsClients
from packerpy.aws.settings import AwsSettings
from packerpy.config import ImageConfig
from packerpy.errors import EXIT_AWS, AwsError, ConfigError
from packerpy.steps import protocol as base
from packerpy.steps import registry
from packerpy.steps.tag import TagStep
from tests.conftest import ec2

IMAGE = ImageConfig.model_validate(
    {"version": "1.2.3", "base": {"ami": "ami-03cf127a"}, "tags": {"team": "platform"}}
)
WANT = {"packerpy:image": "web", "packerpy:version": "1.2.3", "team": "platform"}


def make_ami(endpoint: str, region: str) -> tuple[str, list[str]]:
    client = ec2(endpoint, region)
    source = client.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = client.run_instances(ImageId=source, MinCount=1, MaxCount=1)["Instances"][0]
    ami = client.create_image(InstanceId=instance["InstanceId"], Name=f"web-{region}")["ImageId"]
    image = client.describe_images(ImageIds=[ami])["Images"][0]
    snaps = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m]
    return ami, snaps


def tags_of(endpoint: str, region: str, resource: str) -> dict[str, str]:
    found = ec2(endpoint, region).describe_tags(
        Filters=[{"Name": "resource-id", "Values": [resource]}]
    )["Tags"]
    return {t["Key"]: t["Value"] for t in found}


@pytest.fixture
def built(aws: str) -> tuple[base.BuiltImage, dict[str, list[str]]]:
    amis, snaps = {}, {}
    for region in ("us-east-1", "eu-west-1"):
        amis[region], snaps[region] = make_ami(aws, region)
    return base.BuiltImage(image="web", version="1.2.3", amis=amis, config=IMAGE), snaps


def clients(endpoint: str) -> AwsClients:
    return AwsClients(
        AwsSettings(
            region="us-east-1",
            profile=None,
            endpoint_url=endpoint,
            max_retries=2,
            retry_mode="standard",
        )
    )


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


class NotifyStep:
    name: ClassVar[str] = "notify"

    def run(self, ctx: base.StepContext) -> base.StepResult:
        return base.StepResult(step=self.name, changed=False)


class FakeEntryPoint:
    def __init__(self, name: str, obj: object) -> None:
        self.name, self.obj = name, obj

    def load(self) -> object:
        return self.obj


def test_registry_loads_entry_points_and_keeps_builtins(monkeypatch: pytest.MonkeyPatch) -> None:
    eps = [FakeEntryPoint("notify", NotifyStep), FakeEntryPoint("tag", NotifyStep)]
    monkeypatch.setattr(
        registry, "entry_points", lambda group: eps if group == registry.ENTRY_POINT_GROUP else []
    )
    steps = registry.resolve(["tag", "notify"], where="images.web.steps")
    assert [type(s) for s in steps] == [TagStep, NotifyStep]


def test_registry_rejects_unknown_and_non_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "entry_points", lambda group: [FakeEntryPoint("bad", object)])
    with pytest.raises(ConfigError) as info:
        registry.resolve(["tag", "tagg"], where="packerpy.toml: images.web.steps")
    assert info.value.message == (
        "packerpy.toml: images.web.steps[1]: 'tagg' is not a known step (known: bad, copy, deprecate, share, tag)"
    )
    with pytest.raises(
        ConfigError, match=r"steps\[0\]: 'bad' does not implement the step protocol"
    ):
        registry.resolve(["bad"], where="steps")
