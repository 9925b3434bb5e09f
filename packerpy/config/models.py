"""packerpy.toml's sections as frozen pydantic models: what a valid config holds."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    StrictBool,
    StrictStr,
    StringConstraints,
    model_validator,
)

from packerpy import naming
from packerpy.config.lifecycle import (
    AdoptSection,
    Channels,
    ComplianceSection,
    CostSection,
    RetentionSection,
    SbomSection,
    ScanSection,
    VerifySection,
)
from packerpy.config.rules import check_image_aws_rules, check_partitions
from packerpy.config.sections import (
    AMI_POLL_DELAY_SECONDS,
    DEFAULT_STEPS,
    RESERVED_VARIABLES,
    SHARE_MAX,
    AwsSection,
    BaseFilter,
    BaseImage,
    BuildEnv,
    Communicator,
    PackerSection,
    ProjectSection,
    ProvisionerRef,
    ScriptProvisioner,
    Share,
    Text,
    _Frozen,
)
from packerpy.config.strings import check_document
from packerpy.config.types import (
    EnvName,
    InstanceType,
    KmsKey,
    Name,
    ProjectPath,
    Region,
    TemplateName,
    VarName,
    Version,
    _name_pattern,
    _pattern,
)
from packerpy.config.values import (
    DeprecateAfter,
    ImagePath,
    Tags,
    VarValue,
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
    # The release lifecycle (config/lifecycle.py); none of it is in the image's fingerprint
    # except compliance, whose scan runs in the bake.
    channels: Channels = ()
    verify: VerifySection = VerifySection()
    scan: ScanSection = ScanSection()
    sbom: SbomSection = SbomSection()
    retention: RetentionSection | None = None
    compliance: ComplianceSection | None = None
    adopt: AdoptSection = AdoptSection()
    # A hand-written template directory (`packerpy adopt`): packer runs it unchanged, and
    # `template`, `instance_type`, `provisioners` and `communicator` are the template's business.
    template_dir: ProjectPath | None = None

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
        if self.template_dir and (self.provisioners or self.template != "amazon-ebs"):
            raise ValueError(
                "template_dir: an adopted template runs as written; its provisioners and "
                "template are its own (remove provisioners/template from this image)"
            )
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
    packer: PackerSection = PackerSection()
    cost: CostSection = CostSection()
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


# Re-exported: callers import the whole config vocabulary from models.
__all__ = [
    "AMI_POLL_DELAY_SECONDS",
    "DEFAULT_STEPS",
    "RESERVED_VARIABLES",
    "SHARE_MAX",
    "AwsSection",
    "BaseFilter",
    "BaseImage",
    "BuildEnv",
    "Communicator",
    "Config",
    "ImageConfig",
    "PackerSection",
    "ProjectSection",
    "ProvisionerRef",
    "ScriptProvisioner",
    "Share",
    "Text",
    "image_regions",
    "json_schema",
]
