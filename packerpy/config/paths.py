"""Paths the config names stay inside the project, unless it says otherwise.

`templates_dir = "/"` made `lint` scan the whole host, and a script provisioner of `/etc/passwd`
was copied into the render, the run record and the image. Each path is resolved the way the
commands use it (relative to the project root, symlinks followed) and must land inside the root;
`project.allow_outside_paths = true` allows a deliberate exception.
"""

from __future__ import annotations

from collections.abc import Iterator

from packerpy.config.models import ScriptProvisioner
from packerpy.config.project import Project
from packerpy.config.strings import show
from packerpy.errors import ConfigError


def _named_paths(project: Project) -> Iterator[tuple[str, str]]:
    section = project.config.project
    yield "project.templates_dir", section.templates_dir
    yield "project.provisioners_dir", section.provisioners_dir
    yield "project.runs_dir", section.runs_dir
    for name, image in project.config.images.items():
        for index, ref in enumerate(image.provisioners):
            if isinstance(ref, ScriptProvisioner):
                yield f"images.{name}.provisioners[{index}].script", ref.script
        if image.template_dir:
            yield f"images.{name}.template_dir", image.template_dir
        if key_file := image.communicator.ssh_private_key_file:
            yield f"images.{name}.communicator.ssh_private_key_file", key_file


def check_paths(project: Project) -> None:
    """Raise ConfigError naming the first path that resolves outside the project root."""
    root = project.root.resolve()
    for field, value in _named_paths(project):
        try:
            resolved = (root / value).resolve()
        except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop (RuntimeError < 3.13)
            raise ConfigError(
                f"{project.label}: {field}: {show(value)} cannot be resolved ({exc})"
            ) from None
        if project.config.project.allow_outside_paths:
            continue
        if resolved != root and not resolved.is_relative_to(root):
            raise ConfigError(
                f"{project.label}: {field}: {show(value)} is outside the project "
                f"({show(str(resolved))}); set project.allow_outside_paths = true to allow it"
            )


__all__ = ["check_paths"]
