"""packerpy.toml's sections as frozen pydantic models: what a valid config holds."""

from __future__ import annotations

from typing import Annotated, Any, Literal

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

from packerpy import naming
from packerpy.config.rules import check_image_aws_rules, check_partitions
from packerpy.config.strings import check_document
from packerpy.config.types import (
    AccountId,
    AmiId,
    EnvName,
    InstanceType,
    KmsKey,
    Name,
    OrgArn,
    OuArn,
    ProjectPath,
    Region,
    TemplateName,
    VarName,
    Version,
    _name_pattern,
    _pattern,
)
from packerpy.config.values import (
    Cidr,
    DeprecateAfter,
    EndpointUrl,
    ImagePath,
    Owner,
    SshTimeout,
    Tags,
    VarValue,
)

# Post-processing steps of an image that lists none (`packerpy init` writes them out).
DEFAULT_STEPS = ("copy", "share", "tag", "deprecate")
# Variables packerpy itself passes to every template through the var file.
RESERVED_VARIABLES = frozenset({"ami_name", "image_version", "tags"})


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
    ssh_timeout: SshTimeout = "5m"

    @model_validator(mode="after")
    def _ssh_needs_user(self) -> Communicator:
        if self.type == "ssh" and not self.ssh_username:
            raise ValueError("communicator 'ssh' needs ssh_username")
        return self


class BuildEnv(_Frozen):
    """Where and how the temporary build instance runs."""

    subnet_id: Annotated[str, _pattern(r"subnet-[0-9a-f]{8,17}", "a subnet id")] | None = None
    vpc_id: Annotated[str, _pattern(r"vpc-[0-9a-f]{8,17}", "a VPC id")] | None = None
    # Sources allowed into packer's temporary security group (packer's default is 0.0.0.0/0).
    ssh_cidrs: tuple[Cidr, ...] = Field(default=(), max_length=50)
    associate_public_ip_address: StrictBool | None = None
    # IMDSv2 on the build instance and the AMI (packer >= 1.7; `lint` warns on older packer).
    require_imdsv2: StrictBool = True


class ScriptProvisioner(_Frozen):
    script: ProjectPath


ProvisionerRef = (
    Annotated[StrictStr, _pattern(r"[a-z0-9][a-z0-9_-]{0,63}", "a provisioner name")]
    | ScriptProvisioner
)


class ImageConfig(_Frozen):
    version: Version
    template: TemplateName = "amazon-ebs"
    instance_type: InstanceType = "t3.micro"
    base: BaseImage
    # The first region is where packer builds; packer copies the AMI to the others.
    regions: tuple[Region, ...] = ()
    encrypt: StrictBool = False
    kms_key_ids: dict[Region, KmsKey] = Field(default_factory=dict)
    share: Share = Share()
    tags: Tags = Field(default_factory=dict)
    variables: dict[VarName, VarValue] = Field(default_factory=dict)
    provisioners: tuple[ProvisionerRef, ...] = ()
    communicator: Communicator = Communicator()
    build_env: BuildEnv = BuildEnv()
    # Environment for the provisioner scripts (not secret: it is rendered into the template),
    # e.g. HARDEN_DISABLE_SERVICES or INVENTORY_OUT.
    provisioner_env: dict[EnvName, StrictStr] = Field(default_factory=dict)
    # Extra files and directories `scrub` removes from the image (its SCRUB_EXTRA_PATHS).
    scrub_paths: tuple[ImagePath, ...] = ()
    # Post-processing steps, run in this order after a bake and by `packerpy publish`.
    steps: tuple[Name, ...] = DEFAULT_STEPS
    # Deprecate each version this long after it was created (e.g. 180d, 26w, 12h).
    # At most 10 years (3650d), and 2 years (730d) for a public image (EnableImageDeprecation).
    deprecate_after: DeprecateAfter | None = None
    allow_public: StrictBool = False
    # Names of environment variables handed to packer as sensitive variables (var.<lowercase>),
    # read at build time and never written anywhere.
    secrets: tuple[EnvName, ...] = ()
    # AMI names: {image} and {version} ('+build' metadata becomes '_', as AWS forbids '+').
    ami_name_pattern: Annotated[
        StrictStr, StringConstraints(max_length=256), AfterValidator(_name_pattern)
    ] = naming.DEFAULT_NAME_PATTERN
    # `packerpy version bump IMAGE prerelease` counts up TOKEN.1, TOKEN.2, ...
    prerelease_token: Annotated[
        StrictStr,
        _pattern(r"[0-9A-Za-z-]{0,31}[A-Za-z-][0-9A-Za-z-]{0,31}", "a prerelease token (e.g. rc)"),
    ] = "rc"  # noqa: S105 - a version label, not a secret

    @model_validator(mode="after")
    def _consistent(self) -> ImageConfig:
        """Checks across fields; each helper raises ValueError naming the first conflict."""
        self._check_lists()
        self._check_instance()
        self._check_sharing()
        self._check_variables()
        return self

    def _check_lists(self) -> None:
        if len(set(self.regions)) != len(self.regions):
            raise ValueError("regions: a region is listed twice")
        if len(set(self.steps)) != len(self.steps):
            raise ValueError("steps: a step is listed twice")
        if len(set(self.secrets)) != len(self.secrets):
            raise ValueError("secrets: a secret is listed twice")

    def _check_instance(self) -> None:
        if "SCRUB_EXTRA_PATHS" in self.provisioner_env and self.scrub_paths:
            raise ValueError("set scrub_paths or provisioner_env.SCRUB_EXTRA_PATHS, not both")
        if clash := sorted(set(self.secrets) & set(self.provisioner_env)):
            raise ValueError(f"provisioner_env: {clash[0]!r} is also listed in secrets")
        if self.provisioners and self.communicator.type == "none":
            raise ValueError(
                "provisioners need a communicator: set communicator.type = 'ssh' "
                "(communicator 'none' cannot run scripts on the instance)"
            )

    def _check_sharing(self) -> None:
        if self.kms_key_ids and not self.encrypt:
            raise ValueError("kms_key_ids is set but encrypt is false")
        if self.share.public and not self.allow_public:
            raise ValueError(
                "share.public: anyone could launch this AMI; set allow_public = true "
                "if that is intended"
            )
        shared = self.share.accounts or self.share.org_arns or self.share.ou_arns
        if self.encrypt and shared and not self.kms_key_ids:
            raise ValueError(
                "share: an AMI encrypted with the default EBS key cannot be shared; "
                "set kms_key_ids (a customer-managed key per region)"
            )
        check_image_aws_rules(self)

    def _check_variables(self) -> None:
        secret_vars = {secret.lower() for secret in self.secrets}
        if clash := sorted(secret_vars & (RESERVED_VARIABLES | set(self.variables))):
            raise ValueError(f"secrets: {clash[0].upper()!r} collides with variable {clash[0]!r}")
        if reserved := sorted(RESERVED_VARIABLES.intersection(self.variables)):
            raise ValueError(f"variables: {reserved[0]!r} is reserved for packerpy's own use")


def image_regions(image: ImageConfig, default_region: str) -> tuple[str, ...]:
    """Where the image lives: its own list, else the AWS region in effect (the build region)."""
    return image.regions or (default_region,)


def _some_images(value: dict[str, ImageConfig]) -> dict[str, ImageConfig]:
    if not value:
        raise ValueError("define at least one [images.NAME] table")
    return value


class Config(_Frozen):
    """The whole file. Every key and string in it passes strings.check_document first."""

    project: ProjectSection = ProjectSection()
    aws: AwsSection = AwsSection()
    images: Annotated[dict[Name, ImageConfig], AfterValidator(_some_images)]

    @model_validator(mode="before")
    @classmethod
    def _every_string(cls, data: Any) -> Any:  # noqa: ANN401 - the raw document
        if isinstance(data, dict):
            check_document(data)
        return data

    @model_validator(mode="after")
    def _one_partition(self) -> Config:
        for name, image in self.images.items():
            check_partitions(name, image, self.aws.region)
        return self


def json_schema() -> dict[str, Any]:
    return Config.model_json_schema()
