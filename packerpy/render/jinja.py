"""Jinja2 templates -> HCL2 text and a var file, with the manifest post-processor injected.

Templates are looked up in the project's hcl_templates/ first, then the built-ins. The template
holds what is static for an image; what changes per bake (version, AMI name, tags, user
variables) goes in the var file, so the rendered template of two versions is byte-identical.
"""

from __future__ import annotations

import dataclasses
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from packerpy import naming
from packerpy.aws.settings import AwsSettings
from packerpy.config import (
    ImageConfig,
    Project,
    ScriptProvisioner,
    image_regions,
)
from packerpy.errors import ConfigError, TemplateError
from packerpy.packer.binary import AMAZON_PLUGIN_SOURCE, AMAZON_PLUGIN_VERSION, PackerInfo
from packerpy.packer.manifest import MANIFEST_NAME
from packerpy.render import hcl
from packerpy.support import atomic
from packerpy.support import paths as resources

TEMPLATE_SUFFIX = ".pkr.hcl.j2"
MANIFEST_BLOCK = f'\n  post-processor "manifest" {{\n    output = "{MANIFEST_NAME}"\n  }}\n'
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
_BUILD_START = re.compile(r"build\s*\{\s*(#.*)?")
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_]*)\s*$")


SCRIPTS_DIR = "scripts"


@dataclass(frozen=True)
class Rendered:
    image: str
    template: Path  # the Jinja2 source that was used
    text: str
    variables: Mapping[str, object] = field(default_factory=dict)
    # Files the template refers to by a path relative to itself (provisioner scripts), copied
    # beside it: the run record then holds exactly what ran, and the text has no checkout path.
    assets: Mapping[str, Path] = field(default_factory=dict)

    @property
    def var_file_text(self) -> str:
        return hcl.attributes(self.variables, indent=0) + "\n"


@dataclass(frozen=True)
class RenderedFiles:
    template: Path
    var_file: Path


def _finalize(value: object) -> object:
    """Everything a template prints must have passed through the HCL encoder."""
    if isinstance(value, hcl.Hcl):
        return value
    raise _Unencoded(value)


class _Unencoded(Exception):
    def __init__(self, value: object) -> None:
        super().__init__(value)
        self.value = value


def _encode(value: object) -> hcl.Hcl:
    if isinstance(value, jinja2.Undefined):
        str(value)  # StrictUndefined raises UndefinedError naming the missing variable
    return hcl.encode(value)


def environment(search_path: tuple[Path, ...]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(path) for path in search_path]),
        undefined=jinja2.StrictUndefined,
        # HCL is not HTML: escaping is hcl.encode's job, so Jinja's autoescape stays off.
        autoescape=False,  # noqa: S701
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["hcl"] = _encode
    env.globals["attrs"] = hcl.attributes
    env.globals["expr"] = hcl.expr
    return env


def builtin_variables(name: str, image: ImageConfig) -> dict[str, object]:
    """Values that change per bake, passed to packer through the var file."""
    tags = {**naming.identity_tags(name, image.version), **image.tags}
    return {
        "ami_name": naming.ami_name(image.ami_name_pattern, name, image.version),
        "image_version": image.version,
        "tags": tags,
    }


def _check_capabilities(project: Project, name: str, image: ImageConfig, info: PackerInfo) -> None:
    if info.amazon_plugin_options or "share" in image.steps:
        return  # the share step grants org and OU permissions after the bake
    for key in ("org_arns", "ou_arns"):
        if getattr(image.share, key):
            raise ConfigError(
                f"{project.label}: images.{name}.share.{key}: needs packer >= 1.7 "
                f"(found {info.version_text}) or the share step in images.{name}.steps"
            )


def _context(
    project: Project,
    name: str,
    image: ImageConfig,
    settings: AwsSettings,
    info: PackerInfo,
    scripts: list[str],
) -> dict[str, Any]:
    regions = image_regions(image, settings.region)
    key_file = image.communicator.ssh_private_key_file
    # Scripts see each secret under its environment name; packer fills in the value.
    secret_env = [hcl.expr(f'"{s}=${{var.{s.lower()}}}"') for s in image.secrets]
    return {
        "name": name,
        "image": image,
        "packer": info,
        "plugin": {"source": AMAZON_PLUGIN_SOURCE, "version": AMAZON_PLUGIN_VERSION},
        "aws": settings,
        "build_region": regions[0],
        "copy_regions": list(regions[1:]),
        "kms_key_id": image.kms_key_ids.get(regions[0]),
        "region_kms_key_ids": {r: k for r, k in image.kms_key_ids.items() if r != regions[0]},
        "scripts": scripts,
        "shell_execute_command": SHELL_EXECUTE_COMMAND,
        "ssh_private_key_file": str((project.root / key_file).resolve()) if key_file else None,
        "user_variables": sorted(image.variables),
        # Older packer rejects metadata_options and imds_support; `lint` warns about that.
        "imdsv2": image.build_env.require_imdsv2 and info.amazon_plugin_options,
        "secret_variables": [secret.lower() for secret in image.secrets],
        "secret_env": secret_env,
        "script_env": [*_script_env(image), *secret_env],
        # The inventory script's JSON comes back into the run record beside the template.
        "inventory": (
            {
                "from": image.provisioner_env.get("INVENTORY_OUT", INVENTORY_DEFAULT),
                "to": INVENTORY_NAME,
            }
            if "inventory" in image.provisioners
            else None
        ),
    }


def _script_env(image: ImageConfig) -> list[str]:
    env = dict(image.provisioner_env)
    if image.scrub_paths:
        env["SCRUB_EXTRA_PATHS"] = "\n".join(image.scrub_paths)
    return [f"{key}={value}" for key, value in sorted(env.items())]


def provisioner_assets(project: Project, name: str, image: ImageConfig) -> dict[str, Path]:
    """Relative path in the output directory -> source file, in provisioning order."""
    assets: dict[str, Path] = {}
    for index, ref in enumerate(image.provisioners):
        if isinstance(ref, ScriptProvisioner):
            source = project.root / ref.script
        else:
            found = resources.find(project.provisioner_dirs(), f"{ref}.sh")
            if found is None:  # checked at load; a file removed since is still a config error
                raise ConfigError(f"{project.label}: images.{name}: provisioner {ref!r} not found")
            source = found
        assets[f"{SCRIPTS_DIR}/{index:02d}-{source.name}"] = source.resolve()
    return assets


def with_tags(rendered: Rendered, tags: Mapping[str, str]) -> Rendered:
    """The same render with more tags for packer to apply (AMI, snapshots, every region)."""
    merged = {**dict(rendered.variables.get("tags", {})), **tags}  # type: ignore[call-overload]
    return dataclasses.replace(rendered, variables={**rendered.variables, "tags": merged})


def render(
    project: Project,
    name: str,
    settings: AwsSettings,
    info: PackerInfo,
    *,
    base_ami: str | None = None,
) -> Rendered:
    """Render `name`'s template; `base_ami` pins the source AMI in place of the base filter."""
    image = project.image(name)
    _check_capabilities(project, name, image, info)
    env = environment(project.templates_dirs())
    filename = image.template + TEMPLATE_SUFFIX
    try:
        template = env.get_template(filename)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{exc.filename or filename}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateNotFound:
        raise ConfigError(
            f"{project.label}: images.{name}.template: {image.template!r} is not a template"
        ) from None
    source = Path(template.filename or filename)
    assets = provisioner_assets(project, name, image)
    try:
        context = _context(project, name, image, settings, info, list(assets))
        text = template.render({**context, "base_ami": base_ami or image.base.ami})
    except _Unencoded as exc:
        raise TemplateError(
            f"{_where(exc, source)}: {exc.value!r} printed without the hcl filter "
            "(write {{ value | hcl }} so it is quoted and escaped)"
        ) from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{_where(exc, source)}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{_where(exc, source)}: {exc}") from None
    text = inject_manifest(text, source)
    variables = {**builtin_variables(name, image), **image.variables}
    return Rendered(image=name, template=source, text=text, variables=variables, assets=assets)


def _where(exc: BaseException, source: Path) -> str:
    """file:line of the template frame that raised, from Jinja's rewritten traceback."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(TEMPLATE_SUFFIX):
            return f"{frame.filename}:{frame.lineno}"
    return str(source)


def inject_manifest(text: str, source: Path) -> str:
    """Add packerpy's manifest post-processor as the last thing in the (single) build block.

    Scans top-level lines only, skipping heredoc bodies, so a `}` inside a heredoc cannot be
    mistaken for the end of the block.
    """
    lines = text.splitlines(keepends=True)
    starts: list[int] = []
    end: int | None = None
    heredoc: str | None = None
    in_build = False
    for index, line in enumerate(lines):
        stripped = line.rstrip("\r\n")
        if heredoc is not None:
            if stripped.strip() == heredoc:
                heredoc = None
            continue
        if match := _HEREDOC.search(stripped):
            heredoc = match.group(1)
            continue
        if _BUILD_START.fullmatch(stripped):
            starts.append(index)
            in_build = True
        elif in_build and stripped.rstrip() == "}":
            end = index if end is None else end
            in_build = False
    if len(starts) != 1 or end is None:
        found = "no build block" if not starts else f"{len(starts)} build blocks"
        raise TemplateError(
            f"{source}: has {found}; packerpy bakes one `build {{ ... }}` block per image "
            "(opening `build {` and closing `}` at the start of a line)"
        )
    return "".join([*lines[:end], MANIFEST_BLOCK.lstrip("\n"), *lines[end:]])


def check_hcl(text: str, label: str) -> dict[str, Any]:
    """Parse with python-hcl2: a template packer cannot read fails here with a line number."""
    import hcl2  # noqa: PLC0415 - 0.1 s import, only needed when checking

    try:
        parsed: dict[str, Any] = hcl2.loads(text)
    except Exception as exc:  # noqa: BLE001 - hcl2 raises lark errors of many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TemplateError(f"{label}: not valid HCL2: {first}") from None
    return parsed


def write(rendered: Rendered, out_dir: Path) -> RenderedFiles:
    """Write `<image>.pkr.hcl` and `<image>.pkrvars.hcl` atomically into out_dir."""
    files = RenderedFiles(
        template=out_dir / f"{rendered.image}.pkr.hcl",
        var_file=out_dir / f"{rendered.image}.pkrvars.hcl",
    )
    atomic.write_text(files.template, rendered.text)
    atomic.write_text(files.var_file, rendered.var_file_text)
    for relative, source in rendered.assets.items():
        atomic.write_bytes(out_dir / relative, source.read_bytes(), mode=0o755)
    return files
