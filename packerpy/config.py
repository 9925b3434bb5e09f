"""packerpy.toml: frozen pydantic models and the loader that turns every mistake into one line.

Validation happens here, once, at load: everything downstream receives models it can trust.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from packerpy import regions, resources
from packerpy.errors import ConfigError

CONFIG_FILENAME = "packerpy.toml"
# Tags packerpy writes itself; users may not set keys under this prefix.
TAG_PREFIX = "packerpy:"
# Variables packerpy itself passes to every template through the var file.
RESERVED_VARIABLES = frozenset({"ami_name", "image_version", "tags"})


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
    from packerpy import versioning  # noqa: PLC0415 - keeps tomlkit off the import path

    versioning.validate_name_pattern(value)
    return value


Region = Annotated[str, AfterValidator(_region)]
Name = Annotated[
    str, _pattern(r"[a-z][a-z0-9_-]{0,62}", "a name (lowercase letter, then a-z 0-9 _ -)")
]
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


def _cidr(value: str) -> str:
    import ipaddress  # noqa: PLC0415 - only configs with ssh_cidrs need it

    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"is not a CIDR block ({exc})") from None
    return value


class BuildEnv(_Frozen):
    """Where and how the temporary build instance runs."""

    subnet_id: Annotated[str, _pattern(r"subnet-[0-9a-f]{8,17}", "a subnet id")] | None = None
    vpc_id: Annotated[str, _pattern(r"vpc-[0-9a-f]{8,17}", "a VPC id")] | None = None
    # Sources allowed into packer's temporary security group (packer's default is 0.0.0.0/0).
    ssh_cidrs: tuple[Annotated[str, AfterValidator(_cidr)], ...] = ()
    associate_public_ip_address: bool | None = None
    # IMDSv2 on the build instance and the AMI (packer >= 1.7; `lint` warns on older packer).
    require_imdsv2: bool = True


def _image_path(value: str) -> str:
    parts = value.split("/")
    if not value.startswith("/") or value == "/" or ".." in parts:
        raise ValueError("is not an absolute path inside the image (no '..', not '/')")
    return value


EnvName = Annotated[str, _pattern(r"[A-Z_][A-Z0-9_]*", "an environment variable name (A-Z 0-9 _)")]


class ScriptProvisioner(_Frozen):
    script: str = Field(min_length=1)


ProvisionerRef = (
    Annotated[str, _pattern(r"[a-z0-9][a-z0-9_-]*", "a provisioner name")] | ScriptProvisioner
)


def _tags(value: dict[str, str]) -> dict[str, str]:
    for key, val in value.items():
        if key.startswith(TAG_PREFIX) or key.lower().startswith("aws:"):
            raise ValueError(f"tag key {key!r} uses a reserved prefix ({TAG_PREFIX!r} or 'aws:')")
        if not 1 <= len(key) <= 128 or len(val) > 256:
            raise ValueError(f"tag {key!r}: keys are 1-128 characters, values at most 256")
    return value


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
    steps: tuple[Name, ...] = ("copy", "share", "tag", "deprecate")
    # Deprecate each version this long after it was created (e.g. 180d, 26w, 12h).
    deprecate_after: (
        Annotated[str, _pattern(r"[1-9]\d*[hdw]", "a duration like 180d, 26w or 12h")] | None
    ) = None
    allow_public: bool = False
    # Names of environment variables handed to packer as sensitive variables (var.<lowercase>),
    # read at build time and never written anywhere.
    secrets: tuple[EnvName, ...] = ()
    # AMI names: {image} and {version} ('+build' metadata becomes '_', as AWS forbids '+').
    ami_name_pattern: Annotated[str, AfterValidator(_name_pattern)] = "{image}-{version}"
    # `packerpy version bump IMAGE prerelease` counts up TOKEN.1, TOKEN.2, ...
    prerelease_token: Annotated[
        str, _pattern(r"[0-9A-Za-z-]*[A-Za-z-][0-9A-Za-z-]*", "a prerelease token (e.g. rc)")
    ] = "rc"  # noqa: S105 - a version label, not a secret

    @model_validator(mode="after")
    def _consistent(self) -> ImageConfig:
        if len(set(self.regions)) != len(self.regions):
            raise ValueError("regions: a region is listed twice")
        if self.kms_key_ids and not self.encrypt:
            raise ValueError("kms_key_ids is set but encrypt is false")
        if "SCRUB_EXTRA_PATHS" in self.provisioner_env and self.scrub_paths:
            raise ValueError("set scrub_paths or provisioner_env.SCRUB_EXTRA_PATHS, not both")
        if clash := sorted(set(self.secrets) & set(self.provisioner_env)):
            raise ValueError(f"provisioner_env: {clash[0]!r} is also listed in secrets")
        if self.provisioners and self.communicator.type == "none":
            raise ValueError(
                "provisioners need a communicator: set communicator.type = 'ssh' "
                "(communicator 'none' cannot run scripts on the instance)"
            )
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
        secret_vars = {secret.lower() for secret in self.secrets}
        if clash := sorted(secret_vars & (RESERVED_VARIABLES | set(self.variables))):
            raise ValueError(f"secrets: {clash[0].upper()!r} collides with variable {clash[0]!r}")
        if reserved := sorted(RESERVED_VARIABLES.intersection(self.variables)):
            raise ValueError(f"variables: {reserved[0]!r} is reserved for packerpy's own use")
        if len(set(self.steps)) != len(self.steps):
            raise ValueError("steps: a step is listed twice")
        return self


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


@dataclass(frozen=True)
class Project:
    """A loaded config and where it lives: relative paths in it resolve against `root`."""

    path: Path
    config: Config

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def label(self) -> str:
        """How errors name the config file: relative to the cwd when that is shorter."""
        return display_path(self.path)

    def image(self, name: str) -> ImageConfig:
        try:
            return self.config.images[name]
        except KeyError:
            known = ", ".join(sorted(self.config.images))
            raise ConfigError(
                f"{self.label}: images.{name}: no such image (configured: {known})"
            ) from None

    def templates_dirs(self) -> tuple[Path, ...]:
        """Template search path: the project's own directory first, then the built-ins."""
        return (self.root / self.config.project.templates_dir, resources.builtin("hcl_templates"))

    def provisioner_dirs(self) -> tuple[Path, ...]:
        return (self.root / self.config.project.provisioners_dir, resources.builtin("provisioners"))

    def runs_dir(self) -> Path:
        return self.root / self.config.project.runs_dir


def find_config(explicit: Path | None, cwd: Path | None = None) -> Path:
    """The config named with -c, else packerpy.toml in the current directory."""
    path = explicit if explicit is not None else (cwd or Path.cwd()) / CONFIG_FILENAME
    if not path.is_file():
        hint = "" if explicit else " (run `packerpy init NAME` to create one, or pass -c PATH)"
        raise ConfigError(f"{path}: config file not found{hint}")
    return path


def load(path: Path) -> Project:
    """Read and validate a packerpy.toml; any problem is a ConfigError naming file, field, value."""
    path = path.resolve()
    label = display_path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{label}: cannot read: {exc}") from None
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{label}: {line}" for line in format_validation_error(exc)]
        more = lines[1:]
        raise ConfigError(lines[0], detail=more) from None
    project = Project(path=path, config=config)
    _check_references(project)
    return project


def display_path(path: Path) -> str:
    """A file as error messages name it: relative to the cwd when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def format_validation_error(exc: ValidationError) -> list[str]:
    """pydantic errors as `field.path[2]: 'value' message` lines."""
    out = []
    for err in exc.errors(include_url=False):
        loc = _loc(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        kind = err["type"]
        if kind == "missing":
            out.append(f"{loc}: is required")
        elif kind == "extra_forbidden":
            out.append(f"{loc}: unknown key")
        elif isinstance(err["input"], dict) or not loc:
            # A whole-table check: the message names what is wrong, the table is too long to echo.
            out.append(f"{loc or '(top level)'}: {_lower_first(msg)}")
        else:
            out.append(f"{loc}: {err['input']!r} {_lower_first(msg)}")
    return out


def _loc(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        # pydantic names union branches and validator functions in the path; users never see those.
        if isinstance(item, str) and (
            item.startswith(("function-", "tagged-union"))
            or item in {"str", "ScriptProvisioner", "[key]"}
        ):
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + item)
    return "".join(parts)


def _lower_first(msg: str) -> str:
    return msg[:1].lower() + msg[1:]


def _check_references(project: Project) -> None:
    """Files the config names must exist: templates, named provisioners and script paths."""
    from packerpy import versioning  # noqa: PLC0415

    for name, image in project.config.images.items():
        try:
            versioning.ami_name(image.ami_name_pattern, name, image.version)
        except ValueError as exc:
            raise ConfigError(f"{project.label}: images.{name}.ami_name_pattern: {exc}") from None
        if resources.find(project.templates_dirs(), f"{image.template}.pkr.hcl.j2") is None:
            known = ", ".join(available_templates(project)) or "none"
            raise ConfigError(
                f"{project.label}: images.{name}.template: {image.template!r} "
                f"is not a template (available: {known})"
            )
        for index, ref in enumerate(image.provisioners):
            where = f"{project.label}: images.{name}.provisioners[{index}]"
            if isinstance(ref, ScriptProvisioner):
                if not (project.root / ref.script).is_file():
                    raise ConfigError(f"{where}.script: {ref.script!r} does not exist")
            elif resources.find(project.provisioner_dirs(), f"{ref}.sh") is None:
                known = ", ".join(available_provisioners(project)) or "none"
                raise ConfigError(f"{where}: {ref!r} is not a provisioner (available: {known})")
        if (
            image.communicator.ssh_private_key_file
            and not (project.root / image.communicator.ssh_private_key_file).is_file()
        ):
            raise ConfigError(
                f"{project.label}: images.{name}.communicator.ssh_private_key_file: "
                f"{image.communicator.ssh_private_key_file!r} does not exist"
            )
        regions = image_regions(image, project.config.aws.region)
        for region in image.kms_key_ids:
            if region not in regions:
                raise ConfigError(
                    f"{project.label}: images.{name}.kms_key_ids: {region!r} "
                    f"is not one of the image's regions ({', '.join(regions)})"
                )
        if image.kms_key_ids and (missing := [r for r in regions if r not in image.kms_key_ids]):
            raise ConfigError(
                f"{project.label}: images.{name}.kms_key_ids: no key for region "
                f"{missing[0]!r} (with kms_key_ids set, every region needs a key)"
            )


def available_templates(project: Project) -> list[str]:
    return resources.names(project.templates_dirs(), ".pkr.hcl.j2")


def available_provisioners(project: Project) -> list[str]:
    return resources.names(project.provisioner_dirs(), ".sh")


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


def json_schema() -> dict[str, Any]:
    return Config.model_json_schema()
