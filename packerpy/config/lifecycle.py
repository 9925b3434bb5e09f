"""An image's release-lifecycle sections: channels, verify, scan, SBOM, retention, compliance,
adoption of a hand-written template; and the project-wide cost model of cleanup.

Each section is optional with defaults that do nothing surprising: no channels, a verify of the
AMI's state and policy only (no launch test without `verify.tests`), no scan without advisories,
no retention (cleanup keeps everything), no compliance scan.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    model_validator,
)

from packerpy.config.sections import Text, _Frozen
from packerpy.config.types import InstanceType, Name, ProjectPath, VarName, _pattern
from packerpy.config.values import SshTimeout

Severity = Literal["low", "medium", "high", "critical"]
# S3 bucket names: 3-63 characters, lowercase letters, digits, '.' and '-' (S3 bucket naming).
BucketName = Annotated[
    StrictStr, _pattern(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "an S3 bucket name")
]
# A retention or archive age in days: 30d, 12w (whole days; AWS bills snapshots per GiB-month).
DayCount = Annotated[StrictStr, _pattern(r"[1-9][0-9]{0,4}[dw]", "a duration like 30d or 12w")]


class VerifySection(_Frozen):
    """`packerpy verify`: policy checks, then a launch test when `tests` lists scripts."""

    tests: tuple[ProjectPath, ...] = ()
    # The launch-test instance; unset values come from the image (instance_type, build_env).
    instance_type: InstanceType | None = None
    subnet_id: Annotated[str, _pattern(r"subnet-[0-9a-f]{8,17}", "a subnet id")] | None = None
    security_group_id: (
        Annotated[str, _pattern(r"sg-[0-9a-f]{8,17}", "a security group id")] | None
    ) = None
    # SSH to the instance: user and key default to the image's communicator settings.
    ssh_username: Text | None = None
    ssh_private_key_file: ProjectPath | None = None
    ssh_keypair_name: Text | None = None
    # Connect here instead of the instance's address (a bastion, or the tests' loopback sshd).
    ssh_host: Text | None = None
    ssh_port: StrictInt | None = Field(default=None, ge=1, le=65535)
    # Running + status checks + the scripts; the instance is terminated whatever happens.
    timeout: SshTimeout = "15m"
    # Public launch permission is a policy failure unless the image sets allow_public.


class ScanSection(_Frozen):
    """The offline vulnerability scan (`packerpy scan`; `verify` gates on it when configured)."""

    # OSV data: a directory of JSON files or an ecosystem's all.zip (a CI cache; never fetched).
    advisories: ProjectPath | None = None
    fail_on: Severity = "high"
    deny_licenses: tuple[Text, ...] = ()


class SbomSection(_Frozen):
    # s3://BUCKET/<project>/<image>/<version>.cdx.json (SSE on); unset: the run record only.
    bucket: BucketName | None = None
    prefix: Annotated[StrictStr, _pattern(r"[A-Za-z0-9_./-]{0,200}", "an S3 key prefix")] = ""
    # SSE-KMS with this key (id, ARN or alias/...); unset: SSE-S3 (AES256).
    kms_key_id: Text | None = None


class RetentionSection(_Frozen):
    """What `cleanup` keeps; everything a channel, an instance, a launch template, an ASG, a
    share or a keep tag uses is kept whatever these say."""

    keep_last: StrictInt = Field(default=5, ge=1, le=1000)
    keep_prereleases: StrictInt = Field(default=2, ge=0, le=1000)
    keep_days: StrictInt = Field(default=30, ge=0, le=36500)
    # Move snapshots of kept versions older than this to the archive tier (ModifySnapshotTier).
    archive_after: DayCount | None = None
    # A channel's target and this many of its previous targets are kept (rollback needs them).
    channel_history: StrictInt = Field(default=3, ge=0, le=100)
    # Delete AMIs shared with other accounts, organizations or OUs too (their use is unseen).
    include_shared: StrictBool = False


class ComplianceSection(_Frozen):
    """The OpenSCAP scan run as the bake's last provisioner; `verify` gates on min_score."""

    profile: Annotated[
        StrictStr,
        _pattern(r"[A-Za-z0-9_.:-]{1,200}", "an XCCDF profile id (xccdf_org.ssgproject...)"),
    ]
    # A SCAP source data stream, e.g. ssg-debian11-ds.xml; unset: chosen from the image's OS.
    content: (
        Annotated[StrictStr, _pattern(r"[A-Za-z0-9_./-]{1,255}", "a data stream file")] | None
    ) = None
    min_score: StrictFloat | StrictInt | None = Field(default=None, ge=0, le=100)
    # Leave the scanner installed in the image (by default it is removed after the scan).
    keep_scanner: StrictBool = False
    # The bake fails when the scan cannot run (scanner or content missing).
    required: StrictBool = True


# packerpy's values an adopted template may declare variables for (README, Adopting).
AdoptRole = Literal["ami_name", "image_version", "tags", "region", "aws_endpoint"]


class AdoptSection(_Frozen):
    """How packerpy talks to a hand-written template (`template_dir`): variable name -> role."""

    vars: dict[VarName, AdoptRole] = Field(default_factory=dict)
    # Packer's -only for a template with several builds/sources.
    only: tuple[Text, ...] = ()

    @model_validator(mode="after")
    def _one_each(self) -> AdoptSection:
        roles = list(self.vars.values())
        if len(set(roles)) != len(roles):
            raise ValueError("vars: a role is mapped twice")
        return self


class CostSection(_Frozen):
    """Prices of cleanup's estimate, USD per GiB-month of snapshot storage."""

    # EBS snapshot prices, us-east-1, from https://aws.amazon.com/ebs/pricing/ (2026-11-27):
    # standard tier $0.05, archive tier $0.0125 per GiB-month.
    snapshot_gib_month: StrictFloat = Field(default=0.05, ge=0)
    archive_gib_month: StrictFloat = Field(default=0.0125, ge=0)
    prices_as_of: Annotated[StrictStr, _pattern(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "a date")] = (
        "2026-11-27"
    )


def _channels(value: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(value)) != len(value):
        raise ValueError("a channel is listed twice")
    return value


# Ordered: a version reaches a channel only from the one before it (README, Promotion).
Channels = Annotated[tuple[Name, ...], Field(max_length=10), AfterValidator(_channels)]

__all__ = [
    "AdoptRole",
    "AdoptSection",
    "BucketName",
    "Channels",
    "ComplianceSection",
    "CostSection",
    "RetentionSection",
    "SbomSection",
    "ScanSection",
    "Severity",
    "VerifySection",
]
