"""The sandbox's moto extension: AMI deprecation round-trips through the real sandbox server."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from tests.helpers import REPO, boto_client, ec2

DEPRECATE_AT = datetime(2031, 1, 2, 3, 4, 10, tzinfo=UTC)


def make_ami(client, name: str = "deprecation-test") -> str:
    """A fresh AMI of our own, baked from one of moto's Amazon images."""
    base = client.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = client.run_instances(ImageId=base, MinCount=1, MaxCount=1)["Instances"][0]
    return client.create_image(InstanceId=instance["InstanceId"], Name=name)["ImageId"]


def image(client, ami_id: str) -> dict:
    return client.describe_images(ImageIds=[ami_id])["Images"][0]


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-2"])
def test_enable_then_disable_deprecation(aws, region):
    client = ec2(aws, region)
    ami_id = make_ami(client)
    assert "DeprecationTime" not in image(client, ami_id)

    reply = client.enable_image_deprecation(ImageId=ami_id, DeprecateAt=DEPRECATE_AT)
    assert reply["Return"] is True
    assert image(client, ami_id)["DeprecationTime"] == "2031-01-02T03:04:00.000Z"

    assert client.disable_image_deprecation(ImageId=ami_id)["Return"] is True
    assert "DeprecationTime" not in image(client, ami_id)


def test_deprecation_is_per_region_and_per_ami(aws):
    east, west = ec2(aws, "us-east-1"), ec2(aws, "us-west-2")
    deprecated, other, west_ami = make_ami(east, "first"), make_ami(east, "second"), make_ami(west)
    east.enable_image_deprecation(ImageId=deprecated, DeprecateAt=DEPRECATE_AT)
    assert "DeprecationTime" in image(east, deprecated)
    assert "DeprecationTime" not in image(east, other)
    assert "DeprecationTime" not in image(west, west_ami)


def test_seconds_round_to_the_nearest_minute(aws):
    client = ec2(aws)
    ami_id = make_ami(client)
    client.enable_image_deprecation(ImageId=ami_id, DeprecateAt=DEPRECATE_AT.replace(second=45))
    assert image(client, ami_id)["DeprecationTime"] == "2031-01-02T03:05:00.000Z"


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.enable_image_deprecation(
            ImageId="ami-0123456789abcdef0", DeprecateAt=DEPRECATE_AT
        ),
        lambda c: c.disable_image_deprecation(ImageId="ami-0123456789abcdef0"),
    ],
    ids=["enable", "disable"],
)
def test_unknown_ami_is_not_found(aws, call):
    with pytest.raises(ClientError) as caught:
        call(ec2(aws))
    assert caught.value.response["Error"]["Code"] == "InvalidAMIID.NotFound"


def test_deregistered_ami_is_unavailable(aws):
    client = ec2(aws)
    ami_id = make_ami(client)
    client.deregister_image(ImageId=ami_id)
    with pytest.raises(ClientError) as caught:
        client.enable_image_deprecation(ImageId=ami_id, DeprecateAt=DEPRECATE_AT)
    assert caught.value.response["Error"]["Code"] == "InvalidAMIID.Unavailable"


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (datetime(2031, 1, 2, 3, 4, 29, 999999, tzinfo=UTC), "2031-01-02T03:04:00.000Z"),
        (datetime(2031, 1, 2, 3, 4, 30, tzinfo=UTC), "2031-01-02T03:05:00.000Z"),
        (datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC), "2032-01-01T00:00:00.000Z"),
        (datetime(2031, 1, 2, 3, 4, 5), "2031-01-02T03:04:00.000Z"),  # naive means UTC
        (
            datetime(2031, 1, 2, 5, 4, tzinfo=timezone(timedelta(hours=2))),
            "2031-01-02T03:04:00.000Z",
        ),
        ("2031-01-02T03:04:05.123Z", "2031-01-02T03:04:00.000Z"),
    ],
)
def test_deprecation_time_rule(given, shown):
    from packerpy.sandbox.moto_ext import deprecation_time

    assert deprecation_time(given) == shown


def test_production_code_never_imports_the_extension():
    importers = [
        path.relative_to(REPO).as_posix()
        for path in (REPO / "packerpy").rglob("*.py")
        if path.name != "moto_ext.py" and re.search(r"\bmoto_ext\b", path.read_text())
    ]
    assert importers == ["packerpy/sandbox/server.py"]


# --- DescribeImages pages, DescribeRegions, AWS managed KMS keys (review finding 12, 13, 3) ---


def registered(client, count: int) -> list[str]:
    """`count` fresh self-owned AMIs (registered: 50x faster than imaging an instance)."""
    return [
        client.register_image(
            Name=f"page-{n}",
            RootDeviceName="/dev/sda1",
            BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8}}],
        )["ImageId"]
        for n in range(count)
    ]


def test_f12_describe_images_honours_max_results_and_next_token(aws):
    client = ec2(aws)
    made = registered(client, 7)
    first = client.describe_images(Owners=["self"], MaxResults=5)
    assert len(first["Images"]) == 5 and first["NextToken"]
    second = client.describe_images(Owners=["self"], MaxResults=5, NextToken=first["NextToken"])
    assert len(second["Images"]) == 2 and "NextToken" not in second
    seen = [i["ImageId"] for i in first["Images"] + second["Images"]]
    assert sorted(seen) == sorted(made)
    # Without MaxResults moto's single answer is unchanged.
    assert len(client.describe_images(Owners=["self"])["Images"]) == 7


@pytest.mark.parametrize(
    ("call", "code"),
    [
        # EC2 API reference: ImageIds cannot be combined with MaxResults.
        (
            lambda c: c.describe_images(ImageIds=["ami-03cf127a"], MaxResults=5),
            "InvalidParameterCombination",
        ),
        # "You can specify a value between 5 and 1000."
        (lambda c: c.describe_images(Owners=["self"], MaxResults=4), "InvalidParameterValue"),
        (
            lambda c: c.describe_images(Owners=["self"], MaxResults=5, NextToken="bogus"),
            "InvalidNextToken",
        ),
    ],
    ids=["with-image-ids", "below-5", "bad-token"],
)
def test_f12_describe_images_refuses_what_ec2_refuses(aws, call, code):
    with pytest.raises(ClientError) as caught:
        call(ec2(aws))
    assert caught.value.response["Error"]["Code"] == code


def test_f13_describe_regions_lists_opt_in_regions_only_with_all_regions(aws):
    client = ec2(aws)
    everything = {
        r["RegionName"]: r["OptInStatus"]
        for r in client.describe_regions(AllRegions=True)["Regions"]
    }
    enabled = {r["RegionName"] for r in client.describe_regions()["Regions"]}
    assert everything["ap-east-1"] == "not-opted-in"
    assert everything["us-east-1"] == "opt-in-not-required"
    assert "ap-east-1" not in enabled and "us-east-1" in enabled
    assert enabled == {name for name, status in everything.items() if status != "not-opted-in"}


def test_f3_the_key_behind_alias_aws_ebs_is_aws_managed(aws):

    kms = boto_client("kms", aws)
    assert kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyManager"] == "AWS"
    assert kms.create_key()["KeyMetadata"]["KeyManager"] == "CUSTOMER"
