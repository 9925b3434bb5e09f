"""A loaded config and where it lives: search paths, the state and runs directories."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packerpy.config.models import Config, ImageConfig
from packerpy.errors import ConfigError
from packerpy.support import paths
from packerpy.support.paths import display_path

CONFIG_FILENAME = "packerpy.toml"
# packerpy's own files in a project (run records, caches, the sandbox state): git-ignored.
STATE_DIRNAME = ".packerpy"


@dataclass(frozen=True)
class Project:
    """A loaded config and where it lives: relative paths in it resolve against `root`."""

    path: Path
    config: Config

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def label(self) -> str:
        """How errors name the config file: relative to the cwd when that is shorter."""
        return display_path(self.path)

    def image(self, name: str) -> ImageConfig:
        try:
            return self.config.images[name]
        except KeyError:
            known = ", ".join(sorted(self.config.images))
            raise ConfigError(
                f"{self.label}: images.{name}: no such image (configured: {known})"
            ) from None

    def templates_dirs(self) -> tuple[Path, ...]:
        """Template search path: the project's own directory first, then the built-ins."""
        return (self.root / self.config.project.templates_dir, paths.builtin("hcl_templates"))

    def provisioner_dirs(self) -> tuple[Path, ...]:
        return (self.root / self.config.project.provisioners_dir, paths.builtin("provisioners"))

    def state_dir(self) -> Path:
        return self.root / STATE_DIRNAME

    def runs_dir(self) -> Path:
        return self.root / self.config.project.runs_dir


def available_templates(project: Project) -> list[str]:
    return paths.names(project.templates_dirs(), ".pkr.hcl.j2")


def available_provisioners(project: Project) -> list[str]:
    return paths.names(project.provisioner_dirs(), ".sh")
