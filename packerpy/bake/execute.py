"""Carrying out a `Bake` plan: the files into the run directory, packer init, packer build.

The run directory then holds exactly what ran (template, var file, scripts, packer's log and
manifest), and the manifest names this run's AMIs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from packerpy import records
from packerpy.bake.plan import Bake, Target
from packerpy.errors import ManifestError
from packerpy.packer import binary as packer
from packerpy.packer import manifest
from packerpy.packer.events import Event
from packerpy.render import jinja as render
from packerpy.steps.protocol import BuiltImage


def prepare(info: packer.PackerInfo, plan: Bake, run_dir: Path) -> render.RenderedFiles:
    """Write the plan's files into the run directory and install packer's plugins."""
    files = render.write(plan.rendered, run_dir)
    # No separate `packer validate`: packer build validates the whole template before it
    # launches anything, and reports a rejection as a template error.
    packer.init(info, files.template)
    return files


def run_packer(
    info: packer.PackerInfo,
    files: render.RenderedFiles,
    *,
    on_event: Callable[[Event], None],
    timeout: float | None,
    secrets: Mapping[str, str],
    on_start: Callable[[int], None] | None = None,
    endpoint: str | None = None,
) -> dict[str, str]:
    """Run packer build and return this run's region -> AMI from its manifest.

    `on_start` receives packer's pid (the run record's live.json keeps it for the reaper)."""
    manifest_path = files.template.parent / manifest.MANIFEST_NAME
    manifest_path.unlink(missing_ok=True)  # a stale manifest must not pass for this run's
    packer.build(
        info,
        files.template,
        files.var_file,
        log_path=files.template.parent / records.LOG_NAME,
        on_event=on_event,
        timeout=timeout,
        secrets=secrets,
        on_start=on_start,
        endpoint=endpoint,
    )
    artifacts = manifest.read(manifest_path)
    if len(artifacts) != 1:
        raise ManifestError(f"{manifest_path}: expected one artifact, got {len(artifacts)}")
    return artifacts[0].amis


def baked_image(target: Target, tags: Mapping[str, str], amis: Mapping[str, str]) -> BuiltImage:
    """What packer made (with its provenance `tags`), as the steps' input."""
    return BuiltImage(
        image=target.name,
        version=target.image.version,
        amis=dict(amis),
        config=target.image,
        provenance=dict(tags),
        regions=target.regions,
        project=target.project.config.project.name,
    )
