"""The template contract: every name a template may read, declared in one place and versioned.

Project templates override the built-in one, so what they read is public API. The context is
built here, field by field, from the config: renaming a config or internal field changes one
line below, never a user's template. Templates get these frozen views, never ImageConfig,
AwsSettings or PackerInfo themselves.

Compatibility: adding a name keeps TEMPLATE_CONTRACT_VERSION; removing or changing the meaning
of one bumps it. docs/template-contract.md documents this module (a test keeps them in sync).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import ClassVar, TypedDict

from packerpy import naming
from packerpy.aws.settings import AwsSettings
from packerpy.config import ImageConfig, Project, image_regions
from packerpy.errors import ConfigError
from packerpy.packer.binary import AMAZON_PLUGIN_SOURCE, AMAZON_PLUGIN_VERSION, PackerInfo
from packerpy.packer.manifest import MANIFEST_NAME
from packerpy.render import hcl

TEMPLATE_CONTRACT_VERSION = 1

# Helpers every template gets besides the context: `value | hcl`, attrs(mapping, indent), expr().
TEMPLATE_FILTERS = ("hcl",)
TEMPLATE_FUNCTIONS = ("attrs", "expr")
# Variables packerpy passes in the var file (per bake, so the template stays version-free).
VAR_FILE_VARIABLES = ("ami_name", "image_version", "tags")

# Scripts run as root with packer's environment variables kept: directly when the SSH user is
# root (images without sudo), else through sudo. `{{ }}` is packer's own template syntax.
SHELL_EXECUTE_COMMAND = (
    "chmod +x {{ .Path }}; {{ .Vars }} sh -c "
    '\'if [ "$(id -u)" -eq 0 ]; then exec sh -eu "$0"; else exec sudo -n -E sh -eu "$0"; fi\' '
    "{{ .Path }}"
)
# Where the inventory provisioner leaves its JSON unless provisioner_env.INVENTORY_OUT says.
INVENTORY_DEFAULT = "/var/lib/packerpy/inventory.json"
INVENTORY_NAME = "inventory.json"
# The manifest rule: a template has exactly one `build {` block, opened and closed at the start
# of a line, and no manifest post-processor of its own; packerpy appends this one as the block's
# last item (jinja.inject_manifest) and reads this run's AMIs from it.
MANIFEST_BLOCK = f'\n  post-processor "manifest" {{\n    output = "{MANIFEST_NAME}"\n  }}\n'


# Each view names its own path (`_path`) so an undeclared attribute error can say `image.foo`.
@dataclass(frozen=True)
class BaseFilterView:
    _path: ClassVar[str] = "image.base.filter"
    name: str
    owners: tuple[str, ...]
    most_recent: bool


@dataclass(frozen=True)
class BaseView:
    _path: ClassVar[str] = "image.base"
    ami: str | None
    filter: BaseFilterView | None


@dataclass(frozen=True)
class ShareView:
    _path: ClassVar[str] = "image.share"
    accounts: tuple[str, ...]
    org_arns: tuple[str, ...]
    ou_arns: tuple[str, ...]
    public: bool


@dataclass(frozen=True)
class CommunicatorView:
    # No ssh_private_key_file: a config-relative path is wrong in the run directory; the context's
    # top-level ssh_private_key_file is the resolved one.
    _path: ClassVar[str] = "image.communicator"
    type: str
    ssh_username: str | None
    ssh_host: str | None
    ssh_port: int | None
    ssh_timeout: str


@dataclass(frozen=True)
class BuildEnvView:
    _path: ClassVar[str] = "image.build_env"
    subnet_id: str | None
    vpc_id: str | None
    ssh_cidrs: tuple[str, ...]
    associate_public_ip_address: bool | None
    require_imdsv2: bool


@dataclass(frozen=True)
class ImageView:
    """What a template may read of the image's config. Per-bake values (version, tags, the
    user's variables) are left out on purpose: they reach packer through the var file, so the
    rendered template of two versions is byte-identical."""

    _path: ClassVar[str] = "image"
    instance_type: str
    encrypt: bool
    base: BaseView
    share: ShareView
    communicator: CommunicatorView
    build_env: BuildEnvView


@dataclass(frozen=True)
class PackerView:
    """The packer that will run the template. The binary's path is left out: it differs per
    machine and would make renders differ."""

    _path: ClassVar[str] = "packer"
    version: tuple[int, int, int]
    version_text: str
    uses_plugins: bool  # `packer { required_plugins }` and `packer init` exist (>= 1.7)
    amazon_plugin_options: bool  # org/OU sharing, IMDS options, deprecate_at (>= 1.7)


@dataclass(frozen=True)
class AwsView:
    _path: ClassVar[str] = "aws"
    region: str  # the AWS region in effect; templates build in `build_region`
    profile: str | None
    endpoint_url: str | None
    max_retries: int


class Plugin(TypedDict):
    source: str
    version: str


# A mapping, not a view: `from` is a Python keyword, and templates read `inventory.from`.
Inventory = TypedDict("Inventory", {"from": str, "to": str})


@dataclass(frozen=True)
class TemplateContext:
    """The top-level names of every template (contract version TEMPLATE_CONTRACT_VERSION)."""

    _path: ClassVar[str] = ""
    name: str  # the image's name in packerpy.toml
    image: ImageView
    packer: PackerView
    plugin: Plugin  # the amazon plugin for `required_plugins`: attrs(plugin, 6)
    aws: AwsView
    build_region: str
    copy_regions: tuple[str, ...]  # where packer copies the AMI (ami_regions)
    kms_key_id: str | None  # the build region's key
    region_kms_key_ids: Mapping[str, str]  # the copy regions' keys
    scripts: tuple[str, ...]  # provisioner scripts, relative to the rendered template
    shell_execute_command: str
    ssh_private_key_file: str | None  # absolute
    user_variables: tuple[str, ...]  # names of images.NAME.variables (values: var file)
    secret_variables: tuple[str, ...]  # sensitive variable names (values: PKR_VAR_* env)
    secret_env: tuple[hcl.Hcl, ...]  # "NAME=${var.name}" for each secret
    script_env: tuple[str, ...]  # provisioner_env, scrub paths, then secret_env
    imdsv2: bool  # require IMDSv2, and this packer can say so
    inventory: Inventory | None  # fetch the inventory JSON back: from (instance), to (local)
    base_ami: str | None  # the resolved base AMI; None: resolve image.base.filter in packer

    def as_jinja(self) -> dict[str, object]:
        # Shallow on purpose: the views stay objects, so a misspelt attribute is undefined.
        return {field.name: getattr(self, field.name) for field in fields(self)}


def context_names() -> frozenset[str]:
    return frozenset(field.name for field in fields(TemplateContext))


def build_context(
    project: Project,
    name: str,
    image: ImageConfig,
    settings: AwsSettings,
    info: PackerInfo,
    *,
    scripts: tuple[str, ...],
    base_ami: str | None,
) -> TemplateContext:
    """The context for `name`'s template; the one place config meets template names."""
    regions = image_regions(image, settings.region)
    key_file = image.communicator.ssh_private_key_file
    # Scripts see each secret under its environment name; packer fills in the value.
    secret_env = tuple(hcl.expr(f'"{s}=${{var.{s.lower()}}}"') for s in image.secrets)
    inventory: Inventory | None = None
    if "inventory" in image.provisioners:
        # The inventory script's JSON comes back into the run record beside the template.
        source = image.provisioner_env.get("INVENTORY_OUT", INVENTORY_DEFAULT)
        inventory = {"from": source, "to": INVENTORY_NAME}
    return TemplateContext(
        name=name,
        image=_image_view(image),
        packer=PackerView(
            version=info.version,
            version_text=info.version_text,
            uses_plugins=info.uses_plugins,
            amazon_plugin_options=info.amazon_plugin_options,
        ),
        plugin={"source": AMAZON_PLUGIN_SOURCE, "version": AMAZON_PLUGIN_VERSION},
        aws=AwsView(
            region=settings.region,
            profile=settings.profile,
            endpoint_url=settings.endpoint_url,
            max_retries=settings.max_retries,
        ),
        build_region=regions[0],
        copy_regions=tuple(regions[1:]),
        kms_key_id=image.kms_key_ids.get(regions[0]),
        region_kms_key_ids={r: k for r, k in image.kms_key_ids.items() if r != regions[0]},
        scripts=scripts,
        shell_execute_command=SHELL_EXECUTE_COMMAND,
        ssh_private_key_file=str((project.root / key_file).resolve()) if key_file else None,
        user_variables=tuple(sorted(image.variables)),
        secret_variables=tuple(secret.lower() for secret in image.secrets),
        secret_env=secret_env,
        script_env=(*_script_env(image), *secret_env),
        # Older packer rejects metadata_options and imds_support; `lint` warns about that.
        imdsv2=image.build_env.require_imdsv2 and info.amazon_plugin_options,
        inventory=inventory,
        base_ami=base_ami or image.base.ami,
    )


def _image_view(image: ImageConfig) -> ImageView:
    base, share, comm, env = image.base, image.share, image.communicator, image.build_env
    found = base.filter
    return ImageView(
        instance_type=image.instance_type,
        encrypt=image.encrypt,
        base=BaseView(
            ami=base.ami,
            filter=BaseFilterView(found.name, found.owners, found.most_recent) if found else None,
        ),
        share=ShareView(share.accounts, share.org_arns, share.ou_arns, share.public),
        communicator=CommunicatorView(
            type=comm.type,
            ssh_username=comm.ssh_username,
            ssh_host=comm.ssh_host,
            ssh_port=comm.ssh_port,
            ssh_timeout=comm.ssh_timeout,
        ),
        build_env=BuildEnvView(
            subnet_id=env.subnet_id,
            vpc_id=env.vpc_id,
            ssh_cidrs=env.ssh_cidrs,
            associate_public_ip_address=env.associate_public_ip_address,
            require_imdsv2=env.require_imdsv2,
        ),
    )


def _script_env(image: ImageConfig) -> list[str]:
    env = dict(image.provisioner_env)
    if image.scrub_paths:
        env["SCRUB_EXTRA_PATHS"] = "\n".join(image.scrub_paths)
    return [f"{key}={value}" for key, value in sorted(env.items())]


def builtin_variables(
    name: str, image: ImageConfig, project: str = naming.DEFAULT_PROJECT
) -> dict[str, object]:
    """The var file's VAR_FILE_VARIABLES: values that change per bake."""
    tags = {**naming.identity_tags(project, name, image.version), **image.tags}
    return {
        "ami_name": naming.ami_name(image.ami_name_pattern, name, image.version),
        "image_version": image.version,
        "tags": tags,
    }


def check_capabilities(project: Project, name: str, image: ImageConfig, info: PackerInfo) -> None:
    """Refuse config this packer cannot bake before any template runs."""
    if info.amazon_plugin_options or "share" in image.steps:
        return  # the share step grants org and OU permissions after the bake
    for key in ("org_arns", "ou_arns"):
        if getattr(image.share, key):
            raise ConfigError(
                f"{project.label}: images.{name}.share.{key}: needs packer >= 1.7 "
                f"(found {info.version_text}) or the share step in images.{name}.steps"
            )
