"""AMIs in the test moto, and clients that record their calls: what step tests start from."""

from __future__ import annotations

from typing import Any

from packerpy.aws.clients import AwsClients
from packerpy.aws.settings import AwsSettings
from packerpy.config import ImageConfig
from packerpy.steps.protocol import BuiltImage, StepContext
from tests.helpers import ec2


def make_ami(endpoint: str, region: str, name: str | None = None) -> tuple[str, list[str]]:
    """A self-owned AMI with one snapshot; returns (AMI id, snapshot ids)."""
    client = ec2(endpoint, region)
    source = client.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = client.run_instances(ImageId=source, MinCount=1, MaxCount=1)["Instances"][0]
    ami = client.create_image(InstanceId=instance["InstanceId"], Name=name or f"web-{region}")[
        "ImageId"
    ]
    image = client.describe_images(ImageIds=[ami])["Images"][0]
    snaps = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m]
    return ami, snaps


def tags_of(endpoint: str, region: str, resource: str) -> dict[str, str]:
    found = ec2(endpoint, region).describe_tags(
        Filters=[{"Name": "resource-id", "Values": [resource]}]
    )["Tags"]
    return {t["Key"]: t["Value"] for t in found}


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


def image_config(**fields: Any) -> ImageConfig:
    return ImageConfig.model_validate(
        {"version": "1.2.3", "base": {"ami": "ami-03cf127a"}, **fields}
    )


def context(endpoint: str, built: BuiltImage, **options: Any) -> StepContext:
    return StepContext(built=built, aws=clients(endpoint), **options)
