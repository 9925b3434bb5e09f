"""estate/catalog.py: published versions of an image, found in moto by packerpy's own tags."""

from __future__ import annotations

from typing import Any

import pytest

from packerpy.aws.clients import AwsClients
from packerpy.estate import catalog
from tests.helpers import ec2, make_ami, settings_for

REGIONS = ("us-east-1", "eu-west-1")


def publish(endpoint: str, version: str, region: str = "us-east-1", **tags: str) -> str:
    """An AMI that packerpy would have made for `web` at `version`."""
    return make_ami(
        endpoint,
        region,
        name=f"web-{version}-{region}",
        tags={"packerpy:image": "web", "packerpy:version": version, **tags},
    )


def test_published_versions_are_found_by_tags_in_every_region(aws: str) -> None:
    east = publish(aws, "1.0.0", "us-east-1", **{"packerpy:fingerprint": "f1"})
    west = publish(aws, "1.0.0", "eu-west-1")
    only_west = publish(aws, "1.1.0", "eu-west-1")
    make_ami(aws, name="untagged")
    make_ami(aws, tags={"packerpy:image": "db", "packerpy:version": "9.0.0"})

    aws_clients = AwsClients(settings_for(aws))
    found = catalog.published(aws_clients, "web", REGIONS)

    assert [(p.version, p.amis) for p in found] == [
        ("1.0.0", {"us-east-1": east, "eu-west-1": west}),
        ("1.1.0", {"eu-west-1": only_west}),
    ]
    # Tags come from the first region's AMI (regions are listed in the order given).
    assert found[0].fingerprint == "f1"
    assert found[0].provenance() == {"packerpy:fingerprint": "f1"}
    assert found[0].base_ami is None
    assert found[0].created.endswith("Z")
    assert set(found[0].image_cache_seed()) == {("us-east-1", east), ("eu-west-1", west)}
    # One DescribeImages per region, nothing else.
    assert sorted(aws_clients.log.calls) == [
        ("eu-west-1", "DescribeImages"),
        ("us-east-1", "DescribeImages"),
    ]


def test_versions_come_in_semver_order(aws: str) -> None:
    for version in ("1.10.0", "1.9.0", "2.0.0-rc.1", "1.9.0-rc.2", "1.9.0+build.7"):
        publish(aws, version)
    found = catalog.published(AwsClients(settings_for(aws)), "web", ["us-east-1"])
    assert [p.version for p in found] == [
        "1.9.0-rc.2",
        "1.9.0",
        "1.9.0+build.7",
        "1.10.0",
        "2.0.0-rc.1",
    ]


def test_a_version_tag_that_is_not_semver_names_no_version(aws: str) -> None:
    for tag in ("latest", "v1.0.0", "1.0", ""):
        publish(aws, tag)
    make_ami(aws, tags={"packerpy:image": "web"})  # no version tag at all
    assert catalog.published(AwsClients(settings_for(aws)), "web", ["us-east-1"]) == []


def test_a_deregistered_ami_is_not_published(aws: str) -> None:
    gone = publish(aws, "1.0.0")
    kept = publish(aws, "1.1.0")
    ec2(aws).deregister_image(ImageId=gone)
    found = catalog.published(AwsClients(settings_for(aws)), "web", ["us-east-1"])
    assert [(p.version, p.amis) for p in found] == [("1.1.0", {"us-east-1": kept})]


def test_deregistered_and_failed_states_are_ignored(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AWS lists a deregistered AMI for a while, and a failed one for good; moto does neither,
    # so the DescribeImages answer is edited on its way in.
    states = {publish(aws, "1.0.0"): "deregistered", publish(aws, "1.0.1"): "failed"}
    kept = publish(aws, "1.1.0")
    real = catalog._images_in

    def with_state(aws_clients: AwsClients, region: str, image: str) -> list[dict[str, Any]]:
        found = real(aws_clients, region, image)
        return [{**i, "State": states.get(i["ImageId"], i["State"])} for i in found]

    monkeypatch.setattr(catalog, "_images_in", with_state)
    found = catalog.published(AwsClients(settings_for(aws)), "web", ["us-east-1"])
    assert [(p.version, p.amis) for p in found] == [("1.1.0", {"us-east-1": kept})]


def test_no_regions_means_no_calls(aws: str) -> None:
    aws_clients = AwsClients(settings_for(aws))
    assert catalog.published(aws_clients, "web", []) == []
    assert aws_clients.log.calls == []
