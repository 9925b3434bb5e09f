"""packerpy.toml's sections as frozen pydantic models: what a valid config holds."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from packerpy import naming
from packerpy.config.types import (
    AccountId,
    AmiId,
    EnvName,
    KmsKey,
    Name,
    OrgArn,
    OuArn,
    Region,
    TemplateName,
    VarName,
    VarValue,
    Version,
    _cidr,
    _image_path,
    _name_pattern,
    _pattern,
    _tags,
)

# Post-processing steps of an image that lists none (`packerpy init` writes them out).
DEFAULT_STEPS = ("copy", "share", "tag", "deprecate")
# Variables packerpy itself passes to every template through the var file.
RESERVED_VARIABLES = frozenset({"ami_name", "image_version", "tags"})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProjectSection(_Frozen):
    name: Name = "packerpy"
    # Tag keys every image must set (`lint` rule PPL005).
    required_tags: tuple[str, ...] = ()
    templates_dir: str = "hcl_templates"
    provisioners_dir: str = "provisioners"
    runs_dir: str = ".packerpy/runs"


class AwsSection(_Frozen):
    region: Region = "us-east-1"
    profile: str | None = None
    endpoint_url: Annotated[str, _pattern(r"https?://\S+", "an http(s) URL")] | None = None
    # Bounds both botocore's attempts and the amazon builder's max_retries, so an unreachable
    # endpoint fails in seconds instead of packer's default of several minutes.
    max_retries: int = Field(default=3, ge=1, le=20)
    retry_mode: Literal["standard", "adaptive"] = "standard"


class BaseFilter(_Frozen):
    name: str = Field(min_length=1)
    # packer refuses an unowned filter: anyone could publish an AMI matching the name.
    owners: tuple[str, ...] = Field(min_length=1)
    most_recent: bool = True


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
    public: bool = False
    # Create KMS grants so the accounts may use each region's key of an encrypted AMI (without
    # it the share step only reports what is missing); organizations and OUs need key policy.
    grant_kms: bool = False


class Communicator(_Frozen):
    type: Literal["none", "ssh"] = "none"
    ssh_username: str | None = None
    ssh_host: str | None = None
    ssh_port: int | None = Field(default=None, ge=1, le=65535)
    ssh_private_key_file: str | None = None
    ssh_timeout: Annotated[str, _pattern(r"\d+[smh]", "a duration like 5m")] = "5m"

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
    ssh_cidrs: tuple[Annotated[str, AfterValidator(_cidr)], ...] = ()
    associate_public_ip_address: bool | None = None
    # IMDSv2 on the build instance and the AMI (packer >= 1.7; `lint` warns on older packer).
    require_imdsv2: bool = True


class ScriptProvisioner(_Frozen):
    script: str = Field(min_length=1)


ProvisionerRef = (
    Annotated[str, _pattern(r"[a-z0-9][a-z0-9_-]*", "a provisioner name")] | ScriptProvisioner
)


class ImageConfig(_Frozen):
    version: Version
    template: TemplateName = "amazon-ebs"
    instance_type: Annotated[str, _pattern(r"[a-z0-9-]+\.[a-z0-9-]+", "an instance type")] = (
        "t3.micro"
    )
    base: BaseImage
    # The first region is where packer builds; packer copies the AMI to the others.
    regions: tuple[Region, ...] = ()
    encrypt: bool = False
    kms_key_ids: dict[Region, KmsKey] = Field(default_factory=dict)
    share: Share = Share()
    tags: Annotated[dict[str, str], AfterValidator(_tags)] = Field(default_factory=dict)
    variables: dict[VarName, VarValue] = Field(default_factory=dict)
    provisioners: tuple[ProvisionerRef, ...] = ()
    communicator: Communicator = Communicator()
    build_env: BuildEnv = BuildEnv()
    # Environment for the provisioner scripts (not secret: it is rendered into the template),
    # e.g. HARDEN_DISABLE_SERVICES or INVENTORY_OUT.
    provisioner_env: dict[EnvName, str] = Field(default_factory=dict)
    # Extra files and directories `scrub` removes from the image (its SCRUB_EXTRA_PATHS).
    scrub_paths: tuple[Annotated[str, AfterValidator(_image_path)], ...] = ()
    # Post-processing steps, run in this order after a bake and by `packerpy publish`.
    steps: tuple[Name, ...] = DEFAULT_STEPS
    # Deprecate each version this long after it was created (e.g. 180d, 26w, 12h).
    deprecate_after: (
        Annotated[str, _pattern(r"[1-9]\d*[hdw]", "a duration like 180d, 26w or 12h")] | None
    ) = None
    allow_public: bool = False
    # Names of environment variables handed to packer as sensitive variables (var.<lowercase>),
    # read at build time and never written anywhere.
    secrets: tuple[EnvName, ...] = ()
    # AMI names: {image} and {version} ('+build' metadata becomes '_', as AWS forbids '+').
    ami_name_pattern: Annotated[str, AfterValidator(_name_pattern)] = naming.DEFAULT_NAME_PATTERN
    # `packerpy version bump IMAGE prerelease` counts up TOKEN.1, TOKEN.2, ...
    prerelease_token: Annotated[
        str, _pattern(r"[0-9A-Za-z-]*[A-Za-z-][0-9A-Za-z-]*", "a prerelease token (e.g. rc)")
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
    project: ProjectSection = ProjectSection()
    aws: AwsSection = AwsSection()
    images: Annotated[dict[Name, ImageConfig], AfterValidator(_some_images)]


def json_schema() -> dict[str, Any]:
    return Config.model_json_schema()
