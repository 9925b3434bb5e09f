"""The config's sections below the image level: project, aws, packer, and an image's parts."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)

from packerpy.config.types import (
    AccountId,
    AmiId,
    Name,
    OrgArn,
    OuArn,
    ProjectPath,
    Region,
    SsmPrefix,
    _pattern,
)
from packerpy.config.values import (
    Cidr,
    EndpointUrl,
    Owner,
    SshTimeout,
)
from packerpy.support import constraints

# Post-processing steps of an image that lists none (`packerpy init` writes them out).
DEFAULT_STEPS = ("copy", "share", "tag", "deprecate")
# Variables packerpy itself passes to every template through the var file.
RESERVED_VARIABLES = frozenset(
    {"ami_name", "image_version", "tags", "ssh_private_key_file", "run_tags"}
)
# How often packer and the copy step poll an AMI's state ([aws] ami_wait_minutes sets how long).
AMI_POLL_DELAY_SECONDS = 30


# AMI share quota: 1,000 entities (accounts, organizations, OUs) per AMI per Region (ami-quotas).
SHARE_MAX = 1000
# A string that is neither a name nor an id (profile, user name, host, filter name): bounded
# so packer's argv and error messages stay small (AMI names, which filters match, are <= 128).
Text = Annotated[StrictStr, StringConstraints(min_length=1, max_length=256)]


class _Frozen(BaseModel):
    # Strict scalars (StrictBool, StrictInt, StrictStr) in every model: TOML has real booleans
    # and integers, so "no" -> False, true -> 1 or "3" -> 3 is a typo accepted, not a convenience.
    # (Model-wide strict=True would also refuse TOML arrays for tuple fields.)
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProjectSection(_Frozen):
    name: Name = "packerpy"
    # Tag keys every image must set (`lint` rule PPL005).
    required_tags: tuple[Annotated[StrictStr, StringConstraints(max_length=128)], ...] = ()
    # Directories and files the config names must resolve (symlinks followed) inside the project,
    # so `lint` never scans the host and no host file is copied into a render or an image.
    # allow_outside_paths = true lifts that for a deliberate layout (a shared templates
    # checkout, a key under ~/.ssh).
    templates_dir: ProjectPath = "hcl_templates"
    provisioners_dir: ProjectPath = "provisioners"
    runs_dir: ProjectPath = ".packerpy/runs"
    allow_outside_paths: StrictBool = False
    # Channel parameters: <ssm_prefix>/<project>/<image>/<channel> in each region of the image.
    ssm_prefix: SsmPrefix = "/packerpy"


class AwsSection(_Frozen):
    region: Region = "us-east-1"
    profile: (
        Annotated[StrictStr, _pattern(r"[A-Za-z0-9_.@+=,-]{1,64}", "a profile name")] | None
    ) = None
    endpoint_url: EndpointUrl | None = None
    # Bounds both botocore's attempts and the amazon builder's max_retries, so an unreachable
    # endpoint fails in seconds instead of packer's default of several minutes.
    max_retries: StrictInt = Field(default=3, ge=1, le=20)
    retry_mode: Literal["standard", "adaptive"] = "standard"
    # How long packer (aws_polling) and the copy step wait for an AMI to become available.
    # packer's own default is 30 min (120 x 15 s), too short for large cross-region encrypted
    # copies (hashicorp/packer#8415, #13143).
    ami_wait_minutes: StrictInt = Field(default=120, ge=10, le=24 * 60)

    @property
    def ami_wait_attempts(self) -> int:
        """Polls of AMI_POLL_DELAY_SECONDS that make ami_wait_minutes."""
        return self.ami_wait_minutes * 60 // AMI_POLL_DELAY_SECONDS


def _constraint(value: str) -> str:
    try:
        constraints.parse(value)
    except ValueError:  # config errors print `'VALUE' MESSAGE`: the message is a predicate
        raise ValueError(f"is not a version constraint ({constraints.EXAMPLE})") from None
    return value


class PackerSection(_Frozen):
    # The amazon plugin's `required_plugins` version, e.g. "= 1.3.9"; unset: chosen by packer
    # version (README, Templates).
    amazon_plugin: Annotated[StrictStr, AfterValidator(_constraint)] | None = None


class BaseFilter(_Frozen):
    name: Text
    # packer refuses an unowned filter: anyone could publish an AMI matching the name.
    owners: tuple[Owner, ...] = Field(min_length=1, max_length=100)
    most_recent: StrictBool = True


class BaseImage(_Frozen):
    ami: AmiId | None = None
    filter: BaseFilter | None = None

    @model_validator(mode="after")
    def _one_of(self) -> BaseImage:
        if (self.ami is None) == (self.filter is None):
            raise ValueError("set exactly one of 'ami' or 'filter'")
        return self


class Share(_Frozen):
    accounts: tuple[AccountId, ...] = ()
    org_arns: tuple[OrgArn, ...] = ()
    ou_arns: tuple[OuArn, ...] = ()
    # Launch permission for everyone (Group=all); refused unless the image sets allow_public.
    public: StrictBool = False
    # Also grant the accounts create-volume permission on the snapshots (snapshot_users). Not
    # needed to launch a shared AMI, and it lets them copy the raw disks: opt in.
    snapshots: StrictBool = False
    # Create KMS grants so the accounts may use each region's key of an encrypted AMI (without
    # it the share step only reports what is missing); organizations and OUs need key policy.
    grant_kms: StrictBool = False

    @model_validator(mode="after")
    def _quota(self) -> Share:
        if (count := len(self.accounts) + len(self.org_arns) + len(self.ou_arns)) > SHARE_MAX:
            raise ValueError(
                f"shares with {count} entities; AWS allows {SHARE_MAX} per AMI per region"
            )
        for field in ("accounts", "org_arns", "ou_arns"):
            if len(set(getattr(self, field))) != len(getattr(self, field)):
                raise ValueError(f"{field}: an entry is listed twice")
        return self


class Communicator(_Frozen):
    type: Literal["none", "ssh"] = "none"
    ssh_username: (
        Annotated[StrictStr, _pattern(r"[A-Za-z0-9_.][A-Za-z0-9_.@-]{0,63}", "a user name")] | None
    ) = None
    ssh_host: (
        Annotated[StrictStr, _pattern(r"[A-Za-z0-9.:-]{1,253}", "a host name or IP address")] | None
    ) = None
    ssh_port: StrictInt | None = Field(default=None, ge=1, le=65535)
    ssh_private_key_file: ProjectPath | None = None
    # The EC2 key pair holding ssh_private_key_file's public key. packer creates a temporary
    # key pair only when neither is set (amazon plugin run_config.go): a key file alone launches
    # the instance with no key pair, so packerpy requires both.
    ssh_keypair_name: Annotated[StrictStr, _pattern(r"[ -~]{1,255}", "a key pair name")] | None = (
        None
    )
    ssh_timeout: SshTimeout = "5m"

    @model_validator(mode="after")
    def _ssh_needs_user(self) -> Communicator:
        if self.type == "ssh" and not self.ssh_username:
            raise ValueError("communicator 'ssh' needs ssh_username")
        if bool(self.ssh_private_key_file) != bool(self.ssh_keypair_name):
            raise ValueError(
                "set ssh_private_key_file and ssh_keypair_name together (the EC2 key pair "
                "holding the file's public key), or neither for packer's temporary key pair"
            )
        return self


class BuildEnv(_Frozen):
    """Where and how the temporary build instance runs."""

    subnet_id: Annotated[str, _pattern(r"subnet-[0-9a-f]{8,17}", "a subnet id")] | None = None
    vpc_id: Annotated[str, _pattern(r"vpc-[0-9a-f]{8,17}", "a VPC id")] | None = None
    # Sources allowed into packer's temporary security group (packer's default is 0.0.0.0/0).
    ssh_cidrs: tuple[Cidr, ...] = Field(default=(), max_length=50)
    associate_public_ip_address: StrictBool | None = None
    # Allow SSH into the temporary security group only from this machine's public IP
    # (temporary_security_group_source_public_ip; amazon plugin >= 1.1.4).
    ssh_from_public_ip: StrictBool = False

    @model_validator(mode="after")
    def _one_source(self) -> BuildEnv:
        if self.ssh_from_public_ip and self.ssh_cidrs:
            raise ValueError("set ssh_cidrs or ssh_from_public_ip, not both")
        return self

    # IMDSv2 on the build instance and the AMI (packer >= 1.7; `lint` warns on older packer).
    require_imdsv2: StrictBool = True


class ScriptProvisioner(_Frozen):
    script: ProjectPath


ProvisionerRef = (
    Annotated[StrictStr, _pattern(r"[a-z0-9][a-z0-9_-]{0,63}", "a provisioner name")]
    | ScriptProvisioner
)
