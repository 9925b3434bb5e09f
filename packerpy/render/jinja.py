"""Jinja2 templates -> HCL2 text and a var file, with the manifest post-processor injected.

Templates are looked up in the project's hcl_templates/ first, then the built-ins. The template
holds what is static for an image; what changes per bake (version, AMI name, tags, user
variables) goes in the var file, so the rendered template of two versions is byte-identical.
What a template may read is declared in render/contract.py; this module only runs Jinja.
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

from packerpy.aws.settings import AwsSettings
from packerpy.config import Project
from packerpy.errors import ConfigError, TemplateError
from packerpy.packer.binary import PackerInfo
from packerpy.render import contract, environment, hcl
from packerpy.render.assets import SCRIPTS_DIR, copy_assets, provisioner_assets
from packerpy.render.contract import (
    INVENTORY_DEFAULT,
    INVENTORY_NAME,
    MANIFEST_BLOCK,
    SHELL_EXECUTE_COMMAND,
    builtin_variables,
)
from packerpy.render.environment import template_environment
from packerpy.support import atomic

# Names that moved to contract.py and assets.py stay importable from here for existing callers.
__all__ = [
    "INVENTORY_DEFAULT",
    "INVENTORY_NAME",
    "MANIFEST_BLOCK",
    "SCRIPTS_DIR",
    "SHELL_EXECUTE_COMMAND",
    "TEMPLATE_SUFFIX",
    "Rendered",
    "RenderedFiles",
    "builtin_variables",
    "check_hcl",
    "inject_manifest",
    "provisioner_assets",
    "render",
    "template_environment",
    "with_tags",
    "write",
]

TEMPLATE_SUFFIX = ".pkr.hcl.j2"
_BUILD_START = re.compile(r"build\s*\{\s*(#.*)?")
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_]*)\s*$")
# HCL's escaped `$${` and `%%{` (literal `${`, `%{`). python-hcl2 8 fails on some that packer
# reads, e.g. a string ending in "$${" (python-hcl2 issues #181, #238); check_hcl only needs the
# syntax, so it splits them before parsing. Line numbers do not change.
_ESCAPED_TEMPLATE = re.compile(r"(\$\$|%%)\{")


@dataclass(frozen=True)
class Rendered:
    image: str
    template: Path  # the Jinja2 source that was used
    text: str
    variables: Mapping[str, object] = field(default_factory=dict)
    # Files the template refers to by a path relative to itself (provisioner scripts), copied
    # beside it: the run record then holds exactly what ran, and the text has no checkout path.
    assets: Mapping[str, Path] = field(default_factory=dict)
    # The amazon plugin rendered for (options.AmazonPlugin.label): fingerprinted and tagged.
    amazon_plugin: str = ""

    @property
    def var_file_text(self) -> str:
        return hcl.attributes(self.variables, indent=0) + "\n"


@dataclass(frozen=True)
class RenderedFiles:
    template: Path
    var_file: Path


def with_tags(rendered: Rendered, tags: Mapping[str, str]) -> Rendered:
    """The same render with more tags for packer to apply (AMI, snapshots, every region)."""
    merged = {**dict(rendered.variables.get("tags", {})), **tags}  # type: ignore[call-overload]
    return dataclasses.replace(rendered, variables={**rendered.variables, "tags": merged})


def _template(project: Project, name: str, filename: str) -> jinja2.Template:
    env = template_environment(project.templates_dirs())
    try:
        return env.get_template(filename)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{exc.filename or filename}:{exc.lineno}: {exc.message}") from None
    except jinja2.TemplateNotFound:
        template = filename.removesuffix(TEMPLATE_SUFFIX)
        raise ConfigError(
            f"{project.label}: images.{name}.template: {template!r} is not a template"
        ) from None


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
    contract.check_capabilities(project, name, image, info)
    template = _template(project, name, image.template + TEMPLATE_SUFFIX)
    source = Path(template.filename or image.template + TEMPLATE_SUFFIX)
    assets = provisioner_assets(project, name, image)
    context = contract.build_context(
        project, name, image, settings, info, scripts=tuple(assets), base_ami=base_ami
    )
    try:
        text = template.render(context.as_jinja())
    except environment.Refused as exc:
        raise TemplateError(f"{_where(exc, source)}: {exc}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{_where(exc, source)}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{_where(exc, source)}: {exc}") from None
    text = inject_manifest(text, source)
    variables = {
        **builtin_variables(name, image, project.root, project=project.config.project.name),
        **image.variables,
    }
    return Rendered(
        image=name,
        template=source,
        text=text,
        variables=variables,
        assets=assets,
        amazon_plugin=context.amazon_plugin.version,
    )


def _where(exc: BaseException, source: Path) -> str:
    """file:line of the template frame that raised, from Jinja's rewritten traceback."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(TEMPLATE_SUFFIX):
            return f"{frame.filename}:{frame.lineno}"
    return str(source)


def inject_manifest(text: str, source: Path) -> str:
    """Add packerpy's manifest post-processor as the last thing in the (single) build block.

    contract.MANIFEST_BLOCK states the rule templates follow. Scans top-level lines only, skipping
    heredoc bodies, so a `}` inside a heredoc cannot be mistaken for the end of the block.
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
    """Parse with python-hcl2: a template packer cannot read fails here with a line number.

    The result is for checking only: escaped `$${` and `%%{` come back split (see above).
    """
    import hcl2  # noqa: PLC0415 - 0.1 s import, only needed when checking

    try:
        parsed: dict[str, Any] = hcl2.loads(_ESCAPED_TEMPLATE.sub(r"\1 {", text))
    except Exception as exc:  # noqa: BLE001 - hcl2 raises lark errors of many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TemplateError(f"{label}: not valid HCL2: {first}") from None
    return parsed


def write(rendered: Rendered, out_dir: Path) -> RenderedFiles:
    """Write `<image>.pkr.hcl`, `<image>.pkrvars.hcl` and the scripts atomically into out_dir."""
    files = RenderedFiles(
        template=out_dir / f"{rendered.image}.pkr.hcl",
        var_file=out_dir / f"{rendered.image}.pkrvars.hcl",
    )
    atomic.write_text(files.template, rendered.text)
    atomic.write_text(files.var_file, rendered.var_file_text)
    copy_assets(rendered.assets, out_dir)
    return files
