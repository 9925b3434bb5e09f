"""aws/pages.py: every pageable read asks for bounded pages and reads all of them (review F12).

moto ignores MaxResults; the sandbox extension (sandbox/moto_ext.py) pages DescribeImages as EC2
does, so a reader that stopped after the first page would miss versions here.
"""

from __future__ import annotations

from typing import Any

import pytest

from packerpy.aws.clients import AwsClients
from packerpy.aws.pages import IMAGES_PAGE, items, pages
from packerpy.config import ImageConfig
from packerpy.estate import base_ami, catalog
from tests.helpers import ec2, make_ami, settings_for

# Several of moto's public images match this (owned by 591542846629).
ECS_FILTER = {"name": "al2022-ami-ecs-hvm-*", "owners": ["591542846629"]}


def sent_max_results(aws_clients: AwsClients, region: str = "us-east-1") -> list[Any]:
    """The MaxResults of every DescribeImages `aws_clients` sends in `region` from now on."""
    seen: list[Any] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        seen.append(params.get("MaxResults"))

    aws_clients.ec2(region).meta.events.register("provide-client-params.ec2.DescribeImages", record)
    return seen


def describe_calls(aws_clients: AwsClients) -> int:
    return sum(op == "DescribeImages" for _, op in aws_clients.log.calls)


def test_f12_pages_reads_every_page(aws: str) -> None:
    made = {make_ami(aws, name=f"paged-{n}") for n in range(12)}
    aws_clients = AwsClients(settings_for(aws))
    found = items(aws_clients.ec2(), "describe_images", "Images", 5, Owners=["self"])
    assert {image["ImageId"] for image in found} == made and len(found) == 12
    assert describe_calls(aws_clients) == 3  # 5 + 5 + 2


def test_f12_catalog_finds_every_version_across_pages(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = [f"1.{n}.0" for n in range(12)]
    for version in versions:
        make_ami(
            aws,
            tags={"packerpy:project": "acme", "packerpy:image": "web", "packerpy:version": version},
        )
    monkeypatch.setattr(catalog, "IMAGES_PAGE", 5)
    aws_clients = AwsClients(settings_for(aws))
    sizes = sent_max_results(aws_clients)
    found = catalog.published(aws_clients, "web", ["us-east-1"], project="acme")
    assert [p.version for p in found] == versions
    assert describe_calls(aws_clients) == 3 and sizes == [5, 5, 5]


def test_f12_the_catalog_asks_for_pages_of_1000(aws: str) -> None:
    make_ami(
        aws, tags={"packerpy:project": "acme", "packerpy:image": "web", "packerpy:version": "1.0.0"}
    )
    aws_clients = AwsClients(settings_for(aws))
    sizes = sent_max_results(aws_clients)
    assert len(catalog.published(aws_clients, "web", ["us-east-1"], project="acme")) == 1
    assert sizes == [IMAGES_PAGE] == [1000]


def test_f12_the_base_filter_reads_every_page(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    filters = [
        {"Name": "name", "Values": [ECS_FILTER["name"]]},
        {"Name": "root-device-type", "Values": ["ebs"]},
        {"Name": "virtualization-type", "Values": ["hvm"]},
        {"Name": "state", "Values": ["available"]},
    ]
    candidates = ec2(aws).describe_images(Owners=ECS_FILTER["owners"], Filters=filters)["Images"]
    assert len(candidates) > 5  # more than one page of 5
    newest = max(c["CreationDate"] for c in candidates)
    monkeypatch.setattr(base_ami, "IMAGES_PAGE", 5)
    aws_clients = AwsClients(settings_for(aws))
    sizes = sent_max_results(aws_clients)
    image = ImageConfig.model_validate({"version": "1.0.0", "base": {"filter": ECS_FILTER}})
    found = base_ami.resolve_base(aws_clients, "web", image, "us-east-1")
    assert found.created == newest
    assert found.id in {c["ImageId"] for c in candidates if c["CreationDate"] == newest}
    pages_needed = -(-len(candidates) // 5)
    assert describe_calls(aws_clients) == pages_needed and sizes == [5] * pages_needed


def test_f12_a_pinned_base_is_one_call_without_max_results(aws: str) -> None:
    # EC2 refuses MaxResults with ImageIds (InvalidParameterCombination): by id is one call.
    aws_clients = AwsClients(settings_for(aws))
    sizes = sent_max_results(aws_clients)
    image = ImageConfig.model_validate({"version": "1.0.0", "base": {"ami": "ami-03cf127a"}})
    base_ami.resolve_base(aws_clients, "web", image, "us-east-1")
    assert sizes == [None]


def test_f12_pages_refuses_resources_named_by_id() -> None:
    with pytest.raises(ValueError, match=r"^describe_images: ImageIds names its resources"):
        next(pages(object(), "describe_images", 5, ImageIds=["ami-03cf127a"]))
