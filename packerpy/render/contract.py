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
from pathlib import Path
from typing import ClassVar

from packerpy import naming
from packerpy.aws.settings import AwsSettings
from packerpy.config import ImageConfig, Project, image_regions
from packerpy.config.models import AMI_POLL_DELAY_SECONDS
from packerpy.errors import ConfigError
from packerpy.packer.binary import AMAZON_PLUGIN_SOURCE, PackerInfo
from packerpy.packer.manifest import MANIFEST_NAME
from packerpy.render import hcl, options
from packerpy.render.compliance import compliance_download, compliance_env
from packerpy.render.hcltypes import hcl_type
from packerpy.render.views import (
    AmazonPluginView,
    AwsView,
    BaseFilterView,
    BaseView,
    BuildEnvView,
    CommunicatorView,
    ImageView,
    Inventory,
    PackerView,
    Plugin,
    ShareView,
)

# 2: ssh_private_key_file is var.ssh_private_key_file (the path moved to the var file), and
# inventory.to is a ${path.root} expression (review f11, f15).
TEMPLATE_CONTRACT_VERSION = 2

# Helpers every template gets besides the context: `value | hcl`, attrs(mapping, indent), expr().
TEMPLATE_FILTERS = ("hcl",)
TEMPLATE_FUNCTIONS = ("attrs", "expr")
# Variables packerpy passes in the var file (per bake, so the template stays version-free).
VAR_FILE_VARIABLES = ("ami_name", "image_version", "tags", "run_tags", "ssh_private_key_file")
# The key file's absolute path is machine-specific: it travels in the var file (only when set),
# so the template, and with it the fingerprint, is the same in every checkout (review f11).
KEY_FILE_VARIABLE = "ssh_private_key_file"
# `run_tags`' packerpy:run value outside a build (`packerpy render`); a build sets the run's id.
NO_RUN = "none"

# Scripts run as root with packer's environment variables kept: directly when the SSH user is
# root (images without sudo), else through sudo. `{{ }}` is packer's own template syntax.
SHELL_EXECUTE_COMMAND = (
    "chmod +x {{ .Path }}; {{ .Vars }} sh -c "
    '\'if [ "$(id -u)" -eq 0 ]; then exec sh -eu "$0"; else exec sudo -n -E sh -eu "$0"; fi\' '
    "{{ .Path }}"
)
# The same with `use_env_var_file = true`: packer uploads the variables as a file of exports
# and the script sources it, so no value (secrets included) is on the remote command line.
SHELL_ENV_FILE_COMMAND = (
    "chmod +x {{ .Path }}; . {{ .EnvVarFile }} && sh -c "
    '\'if [ "$(id -u)" -eq 0 ]; then exec sh -eu "$0"; else exec sudo -n -E sh -eu "$0"; fi\' '
    "{{ .Path }}"
)
# Where the inventory provisioner leaves its JSON unless provisioner_env.INVENTORY_OUT says.
INVENTORY_DEFAULT = "/var/lib/packerpy/inventory.json"
INVENTORY_NAME = "inventory.json"
# The manifest rule: a template has exactly one `build {` block, opened and closed at the start
# of a line, and no manifest post-processor of its own; packerpy appends this one as the block's
# last item (jinja.inject_manifest) and reads this run's AMIs from it.
# `${path.root}`: beside the template wherever packer is run from.
MANIFEST_BLOCK = (
    f'\n  post-processor "manifest" {{\n    output = "${{path.root}}/{MANIFEST_NAME}"\n  }}\n'
)


@dataclass(frozen=True)
class TemplateContext:
    """The top-level names of every template (contract version TEMPLATE_CONTRACT_VERSION)."""

    _path: ClassVar[str] = ""
    name: str  # the image's name in packerpy.toml
    image: ImageView
    packer: PackerView
    plugin: Plugin  # the amazon plugin for `required_plugins`: attrs(plugin, 6)
    amazon_plugin: AmazonPluginView  # its resolved version and the options it accepts
    aws: AwsView
    build_region: str
    copy_regions: tuple[str, ...]  # where packer copies the AMI (ami_regions)
    kms_key_id: str | None  # the build region's key
    region_kms_key_ids: Mapping[str, str]  # the copy regions' keys
    scripts: tuple[str, ...]  # provisioner scripts, relative to the rendered template
    script_paths: tuple[hcl.Hcl, ...]  # the same as "${path.root}/scripts/..." expressions
    shell_execute_command: str
    shell_env_file_command: str  # for `use_env_var_file = true`
    ssh_private_key_file: hcl.Hcl | None  # var.ssh_private_key_file (the var file's path)
    ami_description: hcl.Hcl  # "NAME ${var.image_version} (packerpy)"
    user_variables: tuple[str, ...]  # names of images.NAME.variables (values: var file)
    user_variable_types: Mapping[str, hcl.Hcl | None]  # name -> exact HCL type of its value
    secret_variables: tuple[str, ...]  # sensitive variable names (values: PKR_VAR_* env)
    secret_env: tuple[hcl.Hcl, ...]  # "NAME=${var.name}" for each secret
    script_env: tuple[str, ...]  # provisioner_env, scrub paths, then secret_env
    imdsv2: bool  # require IMDSv2, and this packer can say so
    inventory: Inventory | None  # fetch the inventory JSON back: from (instance), to (local)
    compliance: Inventory | None  # fetch the compliance results directory back: from, to
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
    plugin = options.amazon_plugin(project, info)
    # Scripts see each secret under its environment name; packer fills in the value.
    secret_env = tuple(hcl.expr(f'"{s}=${{var.{s.lower()}}}"') for s in image.secrets)
    inventory: Inventory | None = None
    if "inventory" in image.provisioners:
        # The inventory script's JSON comes back into the run record beside the template.
        source = image.provisioner_env.get("INVENTORY_OUT", INVENTORY_DEFAULT)
        inventory = {"from": source, "to": path_root(INVENTORY_NAME)}
    return TemplateContext(
        name=name,
        image=_image_view(image),
        packer=_packer_view(info),
        plugin={"source": AMAZON_PLUGIN_SOURCE, "version": plugin.constraint or ""},
        amazon_plugin=AmazonPluginView(plugin.constraint, plugin.label, plugin.options),
        aws=_aws_view(project, settings),
        build_region=regions[0],
        copy_regions=tuple(regions[1:]),
        kms_key_id=image.kms_key_ids.get(regions[0]),
        region_kms_key_ids={r: k for r, k in image.kms_key_ids.items() if r != regions[0]},
        scripts=scripts,
        script_paths=tuple(path_root(script) for script in scripts),
        shell_execute_command=SHELL_EXECUTE_COMMAND,
        shell_env_file_command=SHELL_ENV_FILE_COMMAND,
        ssh_private_key_file=(
            hcl.expr(f"var.{KEY_FILE_VARIABLE}")
            if image.communicator.ssh_private_key_file
            else None
        ),
        ami_description=hcl.Hcl(hcl.string(f"{name} ")[:-1] + '${var.image_version} (packerpy)"'),
        user_variables=tuple(sorted(image.variables)),
        user_variable_types={key: hcl_type(value) for key, value in image.variables.items()},
        secret_variables=tuple(secret.lower() for secret in image.secrets),
        secret_env=secret_env,
        script_env=(*_script_env(image), *secret_env),
        # Older packer and plugins reject metadata_options; `lint` warns about that.
        imdsv2=image.build_env.require_imdsv2 and plugin.supports("metadata_options"),
        inventory=inventory,
        compliance=compliance_download(image, f"{project.label}: images.{name}"),
        base_ami=base_ami or image.base.ami,
    )


def path_root(relative: str) -> hcl.Hcl:
    """`"${path.root}/RELATIVE"`: a file beside the template wherever packer runs from."""
    return hcl.Hcl('"${path.root}/' + hcl.string(relative)[1:])


def _packer_view(info: PackerInfo) -> PackerView:
    return PackerView(
        version=info.version,
        version_text=info.version_text,
        uses_plugins=info.uses_plugins,
        amazon_plugin_options=info.amazon_plugin_options,
        required_version=options.required_version(info),
    )


def _aws_view(project: Project, settings: AwsSettings) -> AwsView:
    wait = project.config.aws
    return AwsView(
        region=settings.region,
        profile=settings.profile,
        endpoint_url=settings.endpoint_url,
        max_retries=settings.max_retries,
        polling={
            "delay_seconds": AMI_POLL_DELAY_SECONDS,
            "max_attempts": wait.ami_wait_attempts,
        },
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
        share=ShareView(
            share.accounts, share.org_arns, share.ou_arns, share.public, share.snapshots
        ),
        communicator=CommunicatorView(
            type=comm.type,
            ssh_username=comm.ssh_username,
            ssh_host=comm.ssh_host,
            ssh_port=comm.ssh_port,
            ssh_timeout=comm.ssh_timeout,
            ssh_keypair_name=comm.ssh_keypair_name,
        ),
        build_env=BuildEnvView(
            subnet_id=env.subnet_id,
            vpc_id=env.vpc_id,
            ssh_cidrs=env.ssh_cidrs,
            associate_public_ip_address=env.associate_public_ip_address,
            require_imdsv2=env.require_imdsv2,
            ssh_from_public_ip=env.ssh_from_public_ip,
        ),
    )


def _script_env(image: ImageConfig) -> list[str]:
    env = {**compliance_env(image), **image.provisioner_env}
    if image.scrub_paths:
        env["SCRUB_EXTRA_PATHS"] = "\n".join(image.scrub_paths)
    return [f"{key}={value}" for key, value in sorted(env.items())]


def builtin_variables(
    name: str,
    image: ImageConfig,
    root: Path | None = None,
    run_id: str = NO_RUN,
    project: str = naming.DEFAULT_PROJECT,
) -> dict[str, object]:
    """The var file's VAR_FILE_VARIABLES: values that change per bake or per machine.

    `root` is the project's directory, which the key file's path is relative to. `run_tags` go
    on packer's builder instance and its volumes: the AMI's tags plus the run id, which is how
    `packerpy reap` finds what a killed run left behind.
    """
    tags = {**naming.identity_tags(project, name, image.version), **image.tags}
    found: dict[str, object] = {
        "ami_name": naming.ami_name(image.ami_name_pattern, name, image.version),
        "image_version": image.version,
        "tags": tags,
        "run_tags": {**tags, naming.RUN_TAG: run_id},
    }
    if key_file := image.communicator.ssh_private_key_file:
        found[KEY_FILE_VARIABLE] = str(((root or Path()) / key_file).resolve())
    return found


def check_capabilities(project: Project, name: str, image: ImageConfig, info: PackerInfo) -> None:
    """Refuse config this packer and amazon plugin cannot bake before any template runs."""
    plugin = options.amazon_plugin(project, info)
    where = f"{project.label}: images.{name}"
    found = f"packer {info.version_text}, amazon plugin {plugin.label}"
    if image.build_env.ssh_from_public_ip and not plugin.supports(_PUBLIC_IP):
        raise ConfigError(
            f"{where}.build_env.ssh_from_public_ip: needs amazon plugin >= 1.1.4 ({found})"
        )
    # packer 1.6's amazon builder sends every ssh_cidrs entry as CidrIp, and EC2 refuses an IPv6
    # block there after the instance launched (reliability review 1.13).
    if not info.uses_plugins and (ipv6 := [c for c in image.build_env.ssh_cidrs if ":" in c]):
        raise ConfigError(
            f"{where}.build_env.ssh_cidrs: {ipv6[0]!r} is IPv6; {found} cannot use it"
        )
    if "share" in image.steps:
        return  # the share step grants org and OU permissions after the bake
    for key in ("org_arns", "ou_arns"):
        if getattr(image.share, key) and not plugin.supports(f"ami_{key}"):
            raise ConfigError(
                f"{where}.share.{key}: needs packer >= 1.7 with amazon plugin >= 1.0.5 "
                f"({found}) or the share step in images.{name}.steps"
            )


_PUBLIC_IP = "temporary_security_group_source_public_ip"
