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


def _relative(config_path: Path, directory: Path) -> str:
    root = config_path.resolve().parent
    resolved = directory.resolve()
    if not resolved.is_relative_to(root):
        raise ConfigError(
            f"{display_path(directory)}: outside the project ({display_path(root)}); "
            "adopt a directory inside it"
        )
    return Path(os.path.relpath(resolved, root)).as_posix()


def adopt(config_path: Path, directory: Path, image: str, *, dry_run: bool = False) -> AdoptResult:
    """Propose (and unless dry_run, append) `[images.<image>]` for a template directory.

    Works on a packerpy.toml with no image yet (a team whose templates are all hand-written):
    the file is loaded in full only once the entry is in it, and the entry is taken out again
    when the whole does not load.
    """
    relative = _relative(config_path, directory)
    found = template.read(directory)
    proposal = propose.propose(found, image, relative)
    if not dry_run:
        edit.append_image(config_path, image, proposal.block, check=config.load)
    return AdoptResult(
        proposal=proposal, template_dir=relative, files=found.files, written=not dry_run
    )
