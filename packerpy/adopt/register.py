"""`packerpy adopt DIR --image NAME`: read the directory, append the image to packerpy.toml."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from packerpy import config
from packerpy.adopt import propose, template
from packerpy.config import edit
from packerpy.errors import ConfigError
from packerpy.support.paths import display_path


@dataclass(frozen=True)
class AdoptResult:
    proposal: propose.Proposal
    template_dir: str
    files: tuple[str, ...]
    written: bool


def _relative(project: config.Project, directory: Path) -> str:
    root = project.root.resolve()
    resolved = directory.resolve()
    if not resolved.is_relative_to(root) and not project.config.project.allow_outside_paths:
        raise ConfigError(
            f"{display_path(directory)}: outside the project ({display_path(root)}); copy it in, "
            "or set project.allow_outside_paths = true"
        )
    return Path(os.path.relpath(resolved, root)).as_posix()


def adopt(
    project: config.Project, directory: Path, image: str, *, dry_run: bool = False
) -> AdoptResult:
    """Propose (and unless dry_run, append) `[images.<image>]` for a template directory."""
    if image in project.config.images:
        raise ConfigError(f"{project.label}: images.{image} exists already; pick another --image")
    relative = _relative(project, directory)
    found = template.read(directory)
    proposal = propose.propose(found, image, relative)
    if not dry_run:
        edit.append_image(project.path, image, proposal.block, check=config.load)
    return AdoptResult(
        proposal=proposal, template_dir=relative, files=found.files, written=not dry_run
    )
