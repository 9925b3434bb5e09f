"""packerpy.toml: frozen models, the loader, and the project it describes.

Validation happens at load for everything the file itself decides. What depends on the machine
(the packer version, installed step plugins, secrets in the environment) is checked when a
command needs it.
"""

from __future__ import annotations

from packerpy.config.load import find_config, format_validation_error, load
from packerpy.config.models import (
    RESERVED_VARIABLES,
    Config,
    ImageConfig,
    ScriptProvisioner,
    image_regions,
    json_schema,
)
from packerpy.config.project import CONFIG_FILENAME, Project

__all__ = [
    "CONFIG_FILENAME",
    "RESERVED_VARIABLES",
    "Config",
    "ImageConfig",
    "Project",
    "ScriptProvisioner",
    "find_config",
    "format_validation_error",
    "image_regions",
    "json_schema",
    "load",
]
