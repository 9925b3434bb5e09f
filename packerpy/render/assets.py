"""Provisioner scripts: where each configured provisioner's file is, and copying it beside the
rendered template (used by render, and by lint to know which scripts an image runs)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from packerpy.config import ImageConfig, Project, ScriptProvisioner
from packerpy.errors import ConfigError
from packerpy.support import atomic
from packerpy.support import paths as resources

SCRIPTS_DIR = "scripts"


def provisioner_assets(project: Project, name: str, image: ImageConfig) -> dict[str, Path]:
    """Relative path in the output directory -> source file, in provisioning order.

    The index prefix keeps the order and tells apart two scripts with one file name.
    """
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


def copy_assets(assets: Mapping[str, Path], out_dir: Path) -> None:
    """Copy each script to its relative path under out_dir, executable, all-or-nothing per file."""
    for relative, source in assets.items():
        atomic.write_bytes(out_dir / relative, source.read_bytes(), mode=0o755)
