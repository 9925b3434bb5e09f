"""The fault-injecting proxy itself: pass-through, throttling and withheld responses."""

from __future__ import annotations

import time
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.fault_proxy import FaultProxy
from tests.helpers import ec2


def client(endpoint: str, **config: object):
    return boto3.client(
        "ec2", region_name="us-east-1", endpoint_url=endpoint, config=Config(**config)
    )


@pytest.fixture
def proxy(aws):
    with FaultProxy(aws) as running:
        yield running


def test_pass_through(aws, proxy):
    direct = ec2(aws).describe_regions()["Regions"]
    assert ec2(proxy.endpoint).describe_regions()["Regions"] == direct
    assert proxy.requests == ["DescribeRegions"]
    assert proxy.throttled == 0


def test_pass_through_keeps_upstream_errors(proxy):
    with pytest.raises(ClientError) as caught:
        ec2(proxy.endpoint).describe_images(ImageIds=["ami-0123456789abcdef0"])
    assert caught.value.response["Error"]["Code"] == "InvalidAMIID.NotFound"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_non_ec2_paths_pass_through_unfaulted(proxy):
    proxy.throttle_every(1)
    with urllib.request.urlopen(f"{proxy.endpoint}/moto-api/", timeout=10) as reply:  # noqa: S310
        assert reply.status == 200
    assert proxy.requests == []
    assert proxy.throttled == 0


def test_throttled_calls_are_retried(proxy):
    proxy.throttle_every(3)
    retrying = client(proxy.endpoint, retries={"mode": "standard", "total_max_attempts": 5})
    for _ in range(10):
        assert retrying.describe_images(Owners=["self"])["Images"] == []
    # Requests 3, 6, 9 and 12 are throttled, each retried once: 10 calls + 4 retries.
    assert proxy.throttled == 4
    assert proxy.requests == ["DescribeImages"] * 14


def test_throttle_without_retries_fails(proxy):
    proxy.throttle_every(2)
    single = client(proxy.endpoint, retries={"mode": "standard", "total_max_attempts": 1})
    single.describe_images(Owners=["self"])
    with pytest.raises(ClientError) as caught:
        single.describe_images(Owners=["self"])
    assert caught.value.response["Error"]["Code"] == "RequestLimitExceeded"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    assert proxy.throttled == 1

    proxy.pass_through()
    single.describe_images(Owners=["self"])
    assert proxy.throttled == 1


def test_hang_after_acts_upstream_but_never_answers(aws):
    direct = ec2(aws)
    vpc = direct.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    with FaultProxy(aws) as proxy:
        proxy.hang_after("CreateTags")
        impatient = client(
            proxy.endpoint, read_timeout=1, retries={"mode": "standard", "total_max_attempts": 1}
        )
        assert impatient.describe_vpcs(VpcIds=[vpc])["Vpcs"]  # other actions still answered
        with pytest.raises(ReadTimeoutError):
            impatient.create_tags(Resources=[vpc], Tags=[{"Key": "release", "Value": "1.2.3"}])
        assert proxy.hung == ["CreateTags"]
        tags = direct.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc]}])["Tags"]
        assert [(t["Key"], t["Value"]) for t in tags] == [("release", "1.2.3")]
        started = time.monotonic()
    # Closing releases the held connection instead of waiting on it.
    assert time.monotonic() - started < 3
    assert proxy.requests == ["DescribeVpcs", "CreateTags"]
