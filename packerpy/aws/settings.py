"""The effective AWS settings: packerpy.toml, then the environment, then command-line flags."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from packerpy.config.project import Project
from packerpy.config.strings import show
from packerpy.config.values import check_endpoint_url
from packerpy.errors import ConfigError
from packerpy.support import regions


@dataclass(frozen=True)
class AwsSettings:
    """The effective AWS settings: config, then environment, then command-line overrides."""

    region: str
    profile: str | None
    endpoint_url: str | None
    max_retries: int
    retry_mode: Literal["standard", "adaptive"]
    # How long packer (aws_polling) and the copy step wait for an AMI ([aws] ami_wait_minutes).
    ami_wait_minutes: int = 120


def aws_settings(
    project: Project,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> AwsSettings:
    """Flags win over AWS_ENDPOINT_URL, which wins over packerpy.toml (as with the AWS CLI)."""
    env = os.environ if environ is None else environ
    aws = project.config.aws
    if region is not None and region not in regions.known():
        raise ConfigError(f"--region: {show(region)} is not an AWS region")
    endpoint = endpoint_url or env.get("AWS_ENDPOINT_URL") or aws.endpoint_url
    if endpoint is not None:
        source = (
            "--endpoint-url"
            if endpoint_url
            else "AWS_ENDPOINT_URL"
            if env.get("AWS_ENDPOINT_URL")
            else "aws.endpoint_url"
        )
        try:
            check_endpoint_url(endpoint)
        except ValueError as exc:
            raise ConfigError(f"{source}: {show(endpoint)} {exc}") from None
    return AwsSettings(
        region=region or aws.region,
        profile=aws.profile,
        endpoint_url=endpoint,
        max_retries=aws.max_retries,
        retry_mode=aws.retry_mode,
        ami_wait_minutes=aws.ami_wait_minutes,
    )
