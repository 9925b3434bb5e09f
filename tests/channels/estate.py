"""Published versions and channel parameters in the test moto: what channel tests start from."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packerpy import config
from packerpy.aws.settings import AwsSettings
from packerpy.config import Project
from tests.helpers import boto_client, make_ami, make_project, settings_for

REGIONS = ("us-east-1", "eu-west-1")
CHANNELS = ("dev", "staging", "prod")


def project(tmp_path: Path, regions: Sequence[str] = REGIONS, **image: Any) -> Project:
    """acme's web image in `regions` with the three channels (tests.helpers.BASE_PROJECT)."""
    fields = {"regions": list(regions), "channels": list(CHANNELS), **image}
    return config.load(make_project(tmp_path, images={"web": fields}))


def settings(endpoint: str) -> AwsSettings:
    return settings_for(endpoint)


def publish(
    endpoint: str,
    version: str,
    regions: Sequence[str] = REGIONS,
    *,
    verified: str | None = "pass",
    **tags: str,
) -> dict[str, str]:
    """`version` of acme's web as one tagged AMI per region (verify's tag set by hand)."""
    extra = {"packerpy:verified": verified} if verified else {}
    return {
        region: make_ami(
            endpoint,
            region,
            name=f"web-{version}",
            tags={
                "packerpy:project": "acme",
                "packerpy:image": "web",
                "packerpy:version": version,
                **extra,
                **tags,
            },
        )
        for region in regions
    }


def ssm(endpoint: str, region: str) -> Any:
    return boto_client("ssm", endpoint, region)


def parameter(channel: str) -> str:
    return f"/packerpy/acme/web/{channel}"


def value(endpoint: str, region: str, channel: str) -> str | None:
    """The channel's AMI id in `region` as boto3 reads it, None when unset."""
    client = ssm(endpoint, region)
    try:
        found: str = client.get_parameter(Name=parameter(channel))["Parameter"]["Value"]
    except client.exceptions.ParameterNotFound:
        return None
    return found


def history(endpoint: str, region: str, channel: str) -> list[dict[str, Any]]:
    client = ssm(endpoint, region)
    found: list[dict[str, Any]] = client.get_parameter_history(
        Name=parameter(channel), MaxResults=50
    )["Parameters"]
    return found
