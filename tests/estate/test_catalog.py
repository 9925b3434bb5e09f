"""estate/catalog.py: published versions of an image, found in moto by packerpy's own tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from packerpy.aws.clients import AwsClients
from packerpy.estate import catalog
from tests.helpers import ec2, make_ami, settings_for

REGIONS = ("us-east-1", "eu-west-1")
PROJECT = "acme"


def publish(endpoint: str, version: str, region: str = "us-east-1", **tags: str) -> str:
    """An AMI that packerpy would have made for `web` at `version`."""
    return make_ami(
        endpoint,
        region,
        name=f"web-{version}-{region}",
        tags={
            "packerpy:project": PROJECT,
            "packerpy:image": "web",
            "packerpy:version": version,
            **tags,
        },
    )


def test_published_versions_are_found_by_tags_in_every_region(aws: str) -> None:
    east = publish(aws, "1.0.0", "us-east-1", **{"packerpy:fingerprint": "f1"})
    west = publish(aws, "1.0.0", "eu-west-1")
    only_west = publish(aws, "1.1.0", "eu-west-1")
    make_ami(aws, name="untagged")
    make_ami(aws, tags={"packerpy:image": "db", "packerpy:version": "9.0.0"})

    aws_clients = AwsClients(settings_for(aws))
    found = catalog.published(aws_clients, "web", REGIONS, project=PROJECT)

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
    found = catalog.published(AwsClients(settings_for(aws)), "web", ["us-east-1"], project=PROJECT)
    # 1.9.0+build.7 is 1.9.0 (build metadata does not count): one version, two AMIs.
    assert [catalog.version_key(p.version) for p in found] == [
        "1.9.0-rc.2",
        "1.9.0",
        "1.10.0",
        "2.0.0-rc.1",
    ]
    assert [len(ids) for p in found for ids in p.duplicates.values()] == [1]


def test_a_version_tag_that_is_not_semver_names_no_version(aws: str) -> None:
    for tag in ("latest", "v1.0.0", "1.0", ""):
        publish(aws, tag)
    make_ami(aws, tags={"packerpy:image": "web"})  # no version tag at all
    assert (
        catalog.published(AwsClients(settings_for(aws)), "web", ["us-east-1"], project=PROJECT)
        == []
    )


def test_a_deregistered_ami_is_not_published(aws: str) -> None:
    gone = publish(aws, "1.0.0")
    kept = publish(aws, "1.1.0")
    ec2(aws).deregister_image(ImageId=gone)
    found = catalog.published(AwsClients(settings_for(aws)), "web", ["us-east-1"], project=PROJECT)
    assert [(p.version, p.amis) for p in found] == [("1.1.0", {"us-east-1": kept})]


def test_deregistered_and_failed_states_are_ignored(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AWS lists a deregistered AMI for a while, and a failed one for good; moto does neither,
    # so the DescribeImages answer is edited on its way in.
    states = {publish(aws, "1.0.0"): "deregistered", publish(aws, "1.0.1"): "failed"}
    kept = publish(aws, "1.1.0")
    real = catalog.project_images

    def with_state(
        aws_clients: AwsClients, region: str, project: str, images: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        found = real(aws_clients, region, project, images)
        return [{**i, "State": states.get(i["ImageId"], i["State"])} for i in found]

    monkeypatch.setattr(catalog, "project_images", with_state)
    found = catalog.published(AwsClients(settings_for(aws)), "web", ["us-east-1"], project=PROJECT)
    assert [(p.version, p.amis) for p in found] == [("1.1.0", {"us-east-1": kept})]


def test_no_regions_means_no_calls(aws: str) -> None:
    aws_clients = AwsClients(settings_for(aws))
    assert catalog.published(aws_clients, "web", [], project=PROJECT) == []
    assert aws_clients.log.calls == []


def test_r4_3_two_amis_of_one_version_in_a_region_are_both_reported(aws: str) -> None:
    first = publish(aws, "1.0.0")
    second = publish(aws, "1.0.0")
    (found,) = catalog.published(
        AwsClients(settings_for(aws)), "web", ["us-east-1"], project=PROJECT
    )
    assert {found.amis["us-east-1"], *found.duplicates["us-east-1"]} == {first, second}


def test_r4_4_build_metadata_is_the_same_version(aws: str) -> None:
    plain = publish(aws, "1.0.0")
    rebuild = publish(aws, "1.0.0+rebuild")
    (found,) = catalog.published(
        AwsClients(settings_for(aws)), "web", ["us-east-1"], project=PROJECT
    )
    assert {found.amis["us-east-1"], *found.duplicates["us-east-1"]} == {plain, rebuild}
    assert catalog.same_version("1.0.0", "1.0.0+rebuild")
    assert not catalog.same_version("1.0.0", "1.0.0-rc.1")


def test_r4_5_another_projects_ami_of_the_same_image_is_not_published(aws: str) -> None:
    publish(aws, "1.0.0", **{"packerpy:project": "other"})
    no_project = make_ami(aws, tags={"packerpy:image": "web", "packerpy:version": "1.1.0"})
    mine = publish(aws, "1.2.0")
    aws_clients = AwsClients(settings_for(aws))
    found = catalog.published(aws_clients, "web", ["us-east-1"], project=PROJECT)
    assert [(p.version, p.amis) for p in found] == [("1.2.0", {"us-east-1": mine})]
    assert no_project not in found[0].amis.values()


def test_f16_a_disabled_ami_is_still_published(aws: str) -> None:
    """DescribeImages hides disabled AMIs unless IncludeDisabled=True (EC2 API reference,
    DescribeImages: "IncludeDisabled ... Default: false"); their versions are still taken."""
    disabled = publish(aws, "1.0.0")
    ec2(aws).disable_image(ImageId=disabled)
    aws_clients = AwsClients(settings_for(aws))
    requests: list[dict[str, Any]] = []
    aws_clients.ec2("us-east-1").meta.events.register(
        "provide-client-params.ec2.DescribeImages",
        lambda params, **_: requests.append(dict(params)),
    )
    found = catalog.published(aws_clients, "web", ["us-east-1"], project=PROJECT)
    assert [(p.version, p.amis) for p in found] == [("1.0.0", {"us-east-1": disabled})]
    assert requests and all(r["IncludeDisabled"] is True for r in requests)
