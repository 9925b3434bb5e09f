"""The effective AWS settings: packerpy.toml, then the environment, then command-line flags."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from packerpy.config.project import Project
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
        raise ConfigError(f"--region: {region!r} is not an AWS region")
    endpoint = endpoint_url or env.get("AWS_ENDPOINT_URL") or aws.endpoint_url
    if endpoint is not None and not re.fullmatch(r"https?://\S+", endpoint):
        raise ConfigError(f"endpoint url: {endpoint!r} is not an http(s) URL")
    return AwsSettings(
        region=region or aws.region,
        profile=aws.profile,
        endpoint_url=endpoint,
        max_retries=aws.max_retries,
        retry_mode=aws.retry_mode,
    )
