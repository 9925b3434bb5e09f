"""The checks before a bake: `validate` (config, render, python-hcl2, packer fmt and validate)
and `render` (the HCL packerpy would run). Nothing here prints."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packerpy.aws.clients import AwsClients
from packerpy.aws.settings import AwsSettings
from packerpy.bake import adopted
from packerpy.config import Project, image_regions
from packerpy.errors import PackerTemplateError
from packerpy.estate import regions
from packerpy.packer import binary as packer
from packerpy.render import jinja as render
from packerpy.steps import registry


@dataclass(frozen=True)
class RenderResult:
    image: str
    template: str
    var_file: str
    source: str
    packer_version: str


@dataclass(frozen=True)
class ImageCheck:
    image: str
    source: str
    checks: tuple[str, ...]


@dataclass(frozen=True)
class ValidateResult:
    config: str
    packer_version: str
    images: tuple[ImageCheck, ...]


def _render_files(
    project: Project, name: str, settings: AwsSettings, info: packer.PackerInfo, out_dir: Path
) -> tuple[render.Rendered, render.RenderedFiles]:
    rendered = render.render(project, name, settings, info)
    files = render.write(rendered, out_dir)
    render.check_hcl(rendered.text, str(files.template))
    render.check_hcl(rendered.var_file_text, str(files.var_file))
    return rendered, files


def render_to(project: Project, name: str, settings: AwsSettings, out_dir: Path) -> RenderResult:
    """Write the HCL packerpy would run for `name` into out_dir."""
    info = packer.detect()
    if project.image(name).template_dir:  # adopted: the files as they are, and the var file
        found, roles = adopted.read_checked(project, name, settings)
        values = adopted.values(project, name, settings, roles, {})
        copy, var_file = adopted.stage(found.path, out_dir, values)
        return RenderResult(name, str(copy), str(var_file), str(found.path), info.version_text)
    rendered, files = _render_files(project, name, settings, info, out_dir)
    return RenderResult(
        image=name,
        template=str(files.template),
        var_file=str(files.var_file),
        source=str(rendered.template),
        packer_version=info.version_text,
    )


def _packer_checks(
    info: packer.PackerInfo, files: render.RenderedFiles, secret_names: Sequence[str]
) -> None:
    diff = packer.fmt_diff(info, files.template)
    if diff is not None:
        raise PackerTemplateError(
            f"{files.template.name}: rendered template is not in `packer fmt` form; "
            "fix the Jinja2 template's layout (the diff follows)",
            tail=diff.splitlines()[-20:],
        )
    packer.init(info, files.template)
    # Validation needs no real secret: a placeholder proves the template accepts the variable.
    placeholders = {name.lower(): "validate-placeholder" for name in secret_names}
    packer.validate(info, files.template, files.var_file, secrets=placeholders)


def validate(project: Project, settings: AwsSettings, only: str | None = None) -> ValidateResult:
    """Config, then each image's rendered template: python-hcl2, packer fmt -check, validate."""
    info = packer.detect()
    names = [only] if only else sorted(project.config.images)
    # Opt-in regions the account has not enabled: one DescribeRegions, or a note when offline.
    wanted = {
        f"{project.label}: images.{n}.regions": image_regions(project.image(n), settings.region)
        for n in names
    }
    opt_in = regions.validate_check(AwsClients(settings), wanted)
    checked = []
    for name in names:
        image = project.image(name)
        registry.resolve(image.steps, where=f"{project.label}: images.{name}.steps")
        if image.template_dir:  # the user's directory, as it is: no render, no fmt check
            adopted.validate(info, project, name, settings)
            checked.append(ImageCheck(name, image.template_dir, ("config", "packer validate")))
            continue
        with tempfile.TemporaryDirectory(prefix="packerpy-validate-") as tmp:
            rendered, files = _render_files(project, name, settings, info, Path(tmp))
            _packer_checks(info, files, image.secrets)
        checked.append(
            ImageCheck(
                image=name,
                source=str(rendered.template),
                checks=("config", "render", "python-hcl2", "packer fmt", "packer validate", opt_in),
            )
        )
    return ValidateResult(
        config=str(project.path), packer_version=info.version_text, images=tuple(checked)
    )
