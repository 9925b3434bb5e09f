"""The identity guard: tag, share, deprecate and copy never touch another image's AMI (4.5)."""

from __future__ import annotations

import pytest

from packerpy.errors import EXIT_AWS
from packerpy.steps import protocol as base
from packerpy.steps.deprecate import DeprecateStep
from packerpy.steps.identity import IdentityMismatch
from packerpy.steps.share import ShareStep
from packerpy.steps.tag import TagStep
from tests.helpers import ec2
from tests.steps.amis import clients, image_config, make_ami, tags_of

OTHER = {"packerpy:project": "packerpy", "packerpy:image": "api", "packerpy:version": "7.0.0"}
STEPS = [TagStep(), ShareStep(), DeprecateStep()]


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.name)
def test_r4_5_a_step_refuses_an_ami_that_is_another_images(aws: str, step: object) -> None:
    ami, _ = make_ami(aws, "us-east-1", name="7.0.0")
    ec2(aws).create_tags(Resources=[ami], Tags=[{"Key": k, "Value": v} for k, v in OTHER.items()])
    config = image_config(
        version="7.0.0", share={"accounts": ["999988887777"]}, deprecate_after="30d"
    )
    built = base.BuiltImage(image="web", version="7.0.0", amis={"us-east-1": ami}, config=config)
    ctx = base.StepContext(built=built, aws=clients(aws))
    with pytest.raises(IdentityMismatch) as info:
        step.run(ctx)  # type: ignore[attr-defined]
    assert info.value.exit_code == EXIT_AWS
    assert info.value.message == (
        f"aws us-east-1: refusing to {step.name} {ami} (7.0.0): it is not "  # type: ignore[attr-defined]
        "packerpy:project=packerpy, packerpy:image=web, packerpy:version=7.0.0: it carries "
        "packerpy:project=packerpy, packerpy:image=api, packerpy:version=7.0.0; "
        "packerpy changes only AMIs whose identity tags match"
    )
    assert ctx.aws.log.mutating == []
    assert tags_of(aws, "us-east-1", ami) == OTHER
    launch = ec2(aws).describe_image_attribute(ImageId=ami, Attribute="launchPermission")
    assert launch["LaunchPermissions"] == []


def test_an_untagged_ami_of_this_run_is_tagged(aws: str) -> None:
    """No identity tag at all: an AMI this run just made, which the tag step is there to tag."""
    ami, _ = make_ami(aws, "us-east-1")
    built = base.BuiltImage(
        image="web", version="1.2.3", amis={"us-east-1": ami}, config=image_config()
    )
    TagStep().run(base.StepContext(built=built, aws=clients(aws)))
    assert tags_of(aws, "us-east-1", ami)["packerpy:image"] == "web"
