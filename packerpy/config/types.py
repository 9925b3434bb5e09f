"""Field types of packerpy.toml: one Annotated type per kind of value, each with its check."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StrictStr, StringConstraints

from packerpy import naming
from packerpy.support import regions


def _region(value: str) -> str:
    if value not in regions.known():
        raise ValueError("is not an AWS region")
    return value


def _pattern(regex: str, what: str) -> AfterValidator:
    # re.ASCII: without it \d and \w accept Arabic-Indic or fullwidth digits, which EC2 rejects
    # at share time (after the bake). The patterns below also spell digits [0-9].
    compiled = re.compile(regex, re.ASCII)

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


def _project_path(value: str) -> str:
    """Lexical checks; where the path resolves to is checked at load (it needs the project)."""
    if any(len(part.encode()) > 255 for part in value.split("/")):
        raise ValueError("has a path component longer than 255 bytes")
    return value


# Project, image and step names (`packerpy init NAME` checks the same rule).
NAME_REGEX = r"[a-z][a-z0-9_-]{0,62}"
NAME_RULE = "a name (lowercase letter, then a-z 0-9 _ -)"
# Partitions packer's ValidateKmsKey accepts in a key ARN (amazon plugin, builder/common): an
# aws-iso* key ARN passes a looser pattern and then fails `packer validate`.
_ARN_PARTITION = r"aws|aws-cn|aws-us-gov"

Region = Annotated[StrictStr, AfterValidator(_region)]
Name = Annotated[StrictStr, _pattern(NAME_REGEX, NAME_RULE)]
AmiId = Annotated[StrictStr, _pattern(r"ami-[0-9a-f]{8}([0-9a-f]{9})?", "an AMI id (ami-xxxxxxxx)")]
AccountId = Annotated[StrictStr, _pattern(r"[0-9]{12}", "a 12-digit AWS account id")]
ORG_ARN = re.compile(
    rf"arn:(?P<partition>{_ARN_PARTITION}):organizations::[0-9]{{12}}:organization/o-[a-z0-9]{{10,32}}",
    re.ASCII,
)
OU_ARN = re.compile(
    rf"arn:(?P<partition>{_ARN_PARTITION}):organizations::[0-9]{{12}}:"
    r"ou/o-[a-z0-9]{10,32}/ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}",
    re.ASCII,
)
OrgArn = Annotated[
    StrictStr,
    _pattern(
        ORG_ARN.pattern,
        "an organization ARN (arn:aws:organizations::ACCOUNT:organization/o-xxxxxxxxxx)",
    ),
]
OuArn = Annotated[
    StrictStr,
    _pattern(
        OU_ARN.pattern,
        "an OU ARN (arn:aws:organizations::ACCOUNT:ou/o-xxxxxxxxxx/ou-xxxx-xxxxxxxx)",
    ),
]
# A key id is a UUID or a multi-Region key id; an alias name is 1-256 characters (KMS
# CreateAlias). A key ARN names its region, which must be the map key it is listed under.
_KEY_ID = r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
_ALIAS = r"alias/[A-Za-z0-9/_-]{1,250}"
KMS_ARN = re.compile(
    rf"arn:(?P<partition>{_ARN_PARTITION}):kms:(?P<region>[a-z]{{2}}(-gov)?-[a-z]+-[0-9]):"
    rf"[0-9]{{12}}:(?P<key>key/{_KEY_ID}|{_ALIAS})",
    re.ASCII,
)
KmsKey = Annotated[
    StrictStr,
    _pattern(
        rf"{_KEY_ID}|{_ALIAS}|{KMS_ARN.pattern}", "a KMS key id, key ARN, alias/NAME or alias ARN"
    ),
]
Version = Annotated[StrictStr, StringConstraints(max_length=128), AfterValidator(_semver)]
TemplateName = Annotated[
    StrictStr, _pattern(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", "a template name (at most 100)")
]
# HCL identifiers: packer variable names.
VarName = Annotated[StrictStr, _pattern(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", "an HCL identifier")]
EnvName = Annotated[
    StrictStr, _pattern(r"[A-Z_][A-Z0-9_]{0,127}", "an environment variable name (A-Z 0-9 _)")
]
# EC2 instance types are FAMILY.SIZE: t3.micro, m7i-flex.large, u-6tb1.metal, mac2-m2pro.metal,
# c5.metal-24xl (DescribeInstanceTypes). The family has a generation digit; "x.y" is refused.
InstanceType = Annotated[
    StrictStr,
    _pattern(
        r"(u-[0-9]+tb[0-9]+|[a-z]+[0-9][a-z0-9]*(-[a-z0-9]+)?)\."
        r"(nano|micro|small|medium|large|[0-9]{0,3}xlarge|metal(-[0-9]{1,3}xl)?)",
        "an instance type (FAMILY.SIZE, e.g. t3.micro)",
    ),
]
# A path in the project (templates, scripts, a key file). Each component within NAME_MAX (255)
# and the whole within 1024, so no check of it can fail with ENAMETOOLONG.
ProjectPath = Annotated[
    StrictStr, StringConstraints(min_length=1, max_length=1024), AfterValidator(_project_path)
]
# The SSM path under which channel parameters live (/packerpy/<project>/<image>/<channel>).
SsmPrefix = Annotated[
    StrictStr,
    _pattern(r"(/[A-Za-z0-9_.-]{1,128}){1,10}", "an SSM path prefix like /packerpy or /org/amis"),
]
