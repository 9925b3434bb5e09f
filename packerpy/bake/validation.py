"""`packerpy validate`: the config, then every image's rendered template, checked by packer.

Renders run one after another (Jinja2 and python-hcl2, in process); packer's own checks (fmt
-check, init, validate: 2-3 processes per template) run concurrently, bounded, and are skipped
for a template whose content the same packer binary already accepted (packer/validated.py).
A 50-image project took 15 s before (one packer process after another, every time).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from packerpy.aws.clients import AwsClients
from packerpy.aws.settings import AwsSettings
from packerpy.bake import adopted
from packerpy.config import Project, image_regions
from packerpy.errors import PackerTemplateError
from packerpy.estate import regions
from packerpy.packer import binary as packer
from packerpy.packer import validated
from packerpy.render import jinja as render
from packerpy.steps import registry

# packer processes at once: each is short and mostly CPU (Go start-up, HCL parsing); past the
# core count they only queue. Measured on 2 shared cores: 4 workers validate 50 templates in
# about a third of the sequential time.
MAX_PACKER_WORKERS = 4
CACHE_DIRNAME = "validated"


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


def render_files(
    project: Project, name: str, settings: AwsSettings, info: packer.PackerInfo, out_dir: Path
) -> tuple[render.Rendered, render.RenderedFiles]:
    rendered = render.render(project, name, settings, info)
    return rendered, _write_checked(rendered, out_dir)


def _write_checked(rendered: render.Rendered, out_dir: Path) -> render.RenderedFiles:
    """Write the files, then parse both with python-hcl2 (about 0.1 s each)."""
    files = render.write(rendered, out_dir)
    render.check_hcl(rendered.text, str(files.template))
    render.check_hcl(rendered.var_file_text, str(files.var_file))
    return files


def render_to(project: Project, name: str, settings: AwsSettings, out_dir: Path) -> RenderResult:
    """Write the HCL packerpy would run for `name` into out_dir."""
    info = packer.detect()
    if project.image(name).template_dir:  # adopted: the files as they are, and the var file
        found, roles = adopted.read_checked(project, name, settings)
        values = adopted.values(project, name, settings, roles, {})
        copy, var_file = adopted.stage(found.path, out_dir, values)
        return RenderResult(name, str(copy), str(var_file), str(found.path), info.version_text)
    rendered, files = render_files(project, name, settings, info, out_dir)
    return RenderResult(
        image=name,
        template=str(files.template),
        var_file=str(files.var_file),
        source=str(rendered.template),
        packer_version=info.version_text,
    )


def packer_checks(
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


def _content_key(
    info: packer.PackerInfo, rendered: render.Rendered, secret_names: Sequence[str]
) -> str | None:
    assets = sorted(rendered.assets.items())
    parts: list[str | bytes] = [rendered.text, rendered.var_file_text, *secret_names]
    for name, path in assets:
        parts += [name, path.read_bytes()]
    return validated.key(info, parts)


def validate(project: Project, settings: AwsSettings, only: str | None = None) -> ValidateResult:
    """Config, then each image's rendered template: python-hcl2, packer fmt -check, validate."""
    info = packer.detect()
    names = [only] if only else sorted(project.config.images)
    # Opt-in regions the account has not enabled: one DescribeRegions, or a note when offline.
    wanted = {
        f"{project.label}: images.{n}.regions": image_regions(project.image(n), settings.region)
        for n in names
    }
    cache = validated.Validated(project.state_dir() / "cache" / CACHE_DIRNAME)
    with (
        tempfile.TemporaryDirectory(prefix="packerpy-validate-") as tmp,
        ThreadPoolExecutor(max_workers=MAX_PACKER_WORKERS) as pool,
    ):
        opt_in_check = pool.submit(regions.validate_check, AwsClients(settings), wanted)
        checks: list[tuple[str, render.Rendered | None, str | None, Future[None] | None]] = []
        resolved: set[tuple[str, ...]] = set()  # each resolve scans every installed package
        for name in names:
            image = project.image(name)
            if tuple(image.steps) not in resolved:
                registry.resolve(image.steps, where=f"{project.label}: images.{name}.steps")
                resolved.add(tuple(image.steps))
            if image.template_dir:  # the user's directory, as it is: no render, no fmt check
                checks.append(
                    (name, None, None, pool.submit(adopted.validate, info, project, name, settings))
                )
                continue
            rendered = render.render(project, name, settings, info)
            found = _content_key(info, rendered, image.secrets)
            pending = None
            if not cache.seen(found):  # content the same packer accepted needs no check again
                files = _write_checked(rendered, Path(tmp) / name)
                pending = pool.submit(packer_checks, info, files, image.secrets)
            checks.append((name, rendered, found, pending))
        for _, _, found, pending in checks:  # the first failure in the images' order
            if pending is not None:
                pending.result()
                if found is not None:
                    cache.remember(found)
        opt_in = opt_in_check.result()
    return ValidateResult(
        config=str(project.path),
        packer_version=info.version_text,
        images=tuple(
            _image_check(project, name, rendered, opt_in) for name, rendered, _, _ in checks
        ),
    )


def _image_check(
    project: Project, name: str, rendered: render.Rendered | None, opt_in: str
) -> ImageCheck:
    if rendered is None:  # adopted: packer validate of the directory as it is
        return ImageCheck(
            name, str(project.image(name).template_dir), ("config", "packer validate", opt_in)
        )
    return ImageCheck(
        image=name,
        source=str(rendered.template),
        checks=("config", "render", "python-hcl2", "packer fmt", "packer validate", opt_in),
    )
