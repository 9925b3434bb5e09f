"""Field types of packerpy.toml: one Annotated type per kind of value, each with its check."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator

from packerpy import naming
from packerpy.support import regions


def _region(value: str) -> str:
    if value not in regions.known():
        raise ValueError("is not an AWS region")
    return value


def _pattern(regex: str, what: str) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"is not {what}")
        return value

    return AfterValidator(check)


def _semver(value: str) -> str:
    import semver  # noqa: PLC0415 - small, but only config loading needs it

    if not semver.Version.is_valid(value):
        raise ValueError("is not a semantic version (MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD])")
    return value


def _name_pattern(value: str) -> str:
    naming.validate_name_pattern(value)
    return value


# Project, image and step names (`packerpy init NAME` checks the same rule).
NAME_REGEX = r"[a-z][a-z0-9_-]{0,62}"
NAME_RULE = "a name (lowercase letter, then a-z 0-9 _ -)"

Region = Annotated[str, AfterValidator(_region)]
Name = Annotated[str, _pattern(NAME_REGEX, NAME_RULE)]
AmiId = Annotated[str, _pattern(r"ami-[0-9a-f]{8}([0-9a-f]{9})?", "an AMI id (ami-xxxxxxxx)")]
AccountId = Annotated[str, _pattern(r"\d{12}", "a 12-digit AWS account id")]
OrgArn = Annotated[
    str,
    _pattern(
        r"arn:aws[a-z-]*:organizations::\d{12}:organization/o-[a-z0-9]{10,32}",
        "an organization ARN (arn:aws:organizations::ACCOUNT:organization/o-xxxxxxxxxx)",
    ),
]
OuArn = Annotated[
    str,
    _pattern(
        r"arn:aws[a-z-]*:organizations::\d{12}:ou/o-[a-z0-9]{10,32}/ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}",
        "an OU ARN (arn:aws:organizations::ACCOUNT:ou/o-xxxxxxxxxx/ou-xxxx-xxxxxxxx)",
    ),
]
KmsKey = Annotated[
    str,
    _pattern(
        r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        r"|alias/[A-Za-z0-9/_-]{1,250}"
        r"|arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+))",
        "a KMS key id, key ARN, alias/NAME or alias ARN",
    ),
]
Version = Annotated[str, AfterValidator(_semver)]
TemplateName = Annotated[str, _pattern(r"[A-Za-z0-9][A-Za-z0-9_.-]*", "a template name")]
# HCL identifiers: packer variable names.
VarName = Annotated[str, _pattern(r"[A-Za-z_][A-Za-z0-9_-]*", "an HCL identifier")]
VarValue = str | int | float | bool | list[Any] | dict[str, Any]


def _cidr(value: str) -> str:
    import ipaddress  # noqa: PLC0415 - only configs with ssh_cidrs need it

    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"is not a CIDR block ({exc})") from None
    return value


def _image_path(value: str) -> str:
    parts = value.split("/")
    if not value.startswith("/") or value == "/" or ".." in parts:
        raise ValueError("is not an absolute path inside the image (no '..', not '/')")
    return value


EnvName = Annotated[str, _pattern(r"[A-Z_][A-Z0-9_]*", "an environment variable name (A-Z 0-9 _)")]


def _tags(value: dict[str, str]) -> dict[str, str]:
    for key, val in value.items():
        if key.startswith(naming.TAG_PREFIX) or key.lower().startswith("aws:"):
            raise ValueError(
                f"tag key {key!r} uses a reserved prefix ({naming.TAG_PREFIX!r} or 'aws:')"
            )
        if not 1 <= len(key) <= 128 or len(val) > 256:
            raise ValueError(f"tag {key!r}: keys are 1-128 characters, values at most 256")
    return value
