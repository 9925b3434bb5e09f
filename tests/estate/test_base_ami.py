"""estate/base_ami.py: the AMI an image builds on, pinned or selected by an owner-scoped filter.

moto ships public images of a few owners; these tests select among them as packer would.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from packerpy.aws.clients import AwsClients
from packerpy.config import ImageConfig
from packerpy.errors import AwsError
from packerpy.estate.base_ami import BaseAmi, resolve_base
from tests.helpers import ec2, settings_for

RHEL = "ami-bb9a6bc2"  # moto's only image named RHEL-7.4_HVM_GA-*, owned by 309956199498
RHEL_FILTER = {"name": "RHEL-7.4_HVM_GA-*", "owners": ["309956199498"]}
# Several of moto's images match this (owned by 591542846629).
ECS_FILTER = {"name": "al2022-ami-ecs-hvm-*", "owners": ["591542846629"]}


def image(base: dict[str, Any]) -> ImageConfig:
    return ImageConfig.model_validate({"version": "1.0.0", "base": base})


def resolve(endpoint: str, base: dict[str, Any]) -> BaseAmi:
    return resolve_base(AwsClients(settings_for(endpoint)), "web", image(base), "us-east-1")


def test_a_pinned_ami_is_described(aws: str) -> None:
    found = resolve(aws, {"ami": "ami-03cf127a"})
    assert (found.id, found.name) == (
        "ami-03cf127a",
        "Windows_Server-2016-English-Nano-Base-2017.10.13",
    )
    assert found.created.endswith("Z")


def test_a_pinned_ami_that_does_not_exist_is_an_aws_error(aws: str) -> None:
    with pytest.raises(
        AwsError, match=r"^aws us-east-1: describe base AMI ami-0123456789abcdef0 failed: "
    ):
        resolve(aws, {"ami": "ami-0123456789abcdef0"})


def test_a_filter_selects_the_owners_matching_ami(aws: str) -> None:
    found = resolve(aws, {"filter": RHEL_FILTER})
    assert (found.id, found.name) == (RHEL, "RHEL-7.4_HVM_GA-20170808-x86_64-2-Hourly2-GP2")


def test_a_filter_is_scoped_to_its_owners(aws: str) -> None:
    with pytest.raises(AwsError) as info:
        resolve(aws, {"filter": {**RHEL_FILTER, "owners": ["self"]}})
    assert info.value.message == (
        "aws us-east-1: images.web.base: no AMI matches name 'RHEL-7.4_HVM_GA-*' owned by self"
    )


def test_a_disabled_ami_is_not_a_base_yet(aws: str) -> None:
    ec2(aws).disable_image(ImageId=RHEL)
    with pytest.raises(AwsError, match=r"no AMI matches name 'RHEL-7\.4_HVM_GA-\*'"):
        resolve(aws, {"filter": RHEL_FILTER})


def test_several_matches_pick_the_newest(aws: str) -> None:
    found = resolve(aws, {"filter": ECS_FILTER})
    candidates = ec2(aws).describe_images(
        Owners=["591542846629"], Filters=[{"Name": "name", "Values": ["al2022-ami-ecs-hvm-*"]}]
    )["Images"]
    assert len(candidates) > 1
    assert found.created == max(c["CreationDate"] for c in candidates)
    assert found.id in {c["ImageId"] for c in candidates}


def test_several_matches_without_most_recent_is_an_error(aws: str) -> None:
    with pytest.raises(AwsError) as info:
        resolve(aws, {"filter": {**ECS_FILTER, "most_recent": False}})
    assert re.fullmatch(
        r"aws us-east-1: images\.web\.base\.filter matches \d+ AMIs and most_recent is false; "
        r"narrow the filter or set most_recent = true",
        info.value.message,
    )
