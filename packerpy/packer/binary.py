"""The packer binary: version detection, what that version can do, and its command lines.

Command builders are pure functions returning lists (tests compare them by equality). Running
them lives in run.py; the runners stay importable from here for existing callers.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from packerpy.errors import PackerMissingError
from packerpy.support import proc

if TYPE_CHECKING:
    # run.py imports this module, so the runners are re-exported lazily (see __getattr__).
    from packerpy.packer.run import ERROR_TAIL_LINES as ERROR_TAIL_LINES
    from packerpy.packer.run import build as build
    from packerpy.packer.run import fmt_diff as fmt_diff
    from packerpy.packer.run import init as init
    from packerpy.packer.run import one_line as one_line
    from packerpy.packer.run import secret_environment as secret_environment
    from packerpy.packer.run import validate as validate

INSTALL_HINT = (
    "install Packer >= 1.6 (Debian/Ubuntu: apt-get install packer; "
    "others: https://developer.hashicorp.com/packer/install) or set PACKERPY_PACKER"
)
# From 1.7 packer loads the amazon builder as a plugin declared in required_plugins.
PLUGINS_SINCE = (1, 7, 0)
AMAZON_PLUGIN_SOURCE = "github.com/hashicorp/amazon"
AMAZON_PLUGIN_VERSION = ">= 1.2.0"  # imds_support arrived in the amazon plugin 1.2
# Names that moved to run.py, still importable from here so call sites keep working.
_IN_RUN = frozenset(
    {"ERROR_TAIL_LINES", "build", "fmt_diff", "init", "one_line", "secret_environment", "validate"}
)


@dataclass(frozen=True)
class PackerInfo:
    binary: str
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def uses_plugins(self) -> bool:
        """`packer { required_plugins }` and `packer init` exist (1.6 rejects both)."""
        return self.version >= PLUGINS_SINCE

    @property
    def amazon_plugin_options(self) -> bool:
        """Options only the external amazon plugin knows: org/OU sharing, IMDS, deprecate_at."""
        return self.version >= PLUGINS_SINCE


def environment(
    base: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """packer's environment: ours, minus HashiCorp's update check (a network call per run)."""
    env = {**(os.environ if base is None else base), **(extra or {})}
    env["CHECKPOINT_DISABLE"] = "1"
    return env


def _binary() -> str:
    return os.environ.get("PACKERPY_PACKER", "packer")


def detect(binary: str | None = None) -> PackerInfo:
    """Find packer and read its version; cached per binary for the life of the process."""
    return _detect(binary or _binary())


@cache
def _detect(binary: str) -> PackerInfo:
    path = shutil.which(binary)
    if path is None:
        raise PackerMissingError(f"packer: {binary!r} not found on PATH; {INSTALL_HINT}")
    try:
        done = proc.run([path, "version"], env=environment(), timeout=30)
    except proc.ToolMissing:
        raise PackerMissingError(f"packer: {path} cannot be run; {INSTALL_HINT}") from None
    match = re.search(r"Packer v(\d+)\.(\d+)\.(\d+)", done.output)
    if done.returncode != 0 or match is None:
        raise PackerMissingError(
            f"packer: {path} did not report a version (exit {done.returncode}); {INSTALL_HINT}",
        )
    major, minor, patch = (int(part) for part in match.groups())
    return PackerInfo(binary=path, version=(major, minor, patch))


def init_command(info: PackerInfo, template: Path) -> list[str]:
    return [info.binary, "init", str(template)]


def fmt_check_command(info: PackerInfo, template: Path) -> list[str]:
    return [info.binary, "fmt", "-check", "-diff", str(template)]


def validate_command(
    info: PackerInfo, template: Path, var_file: Path, *, syntax_only: bool = False
) -> list[str]:
    flags = ["-syntax-only"] if syntax_only else [f"-var-file={var_file}"]
    return [info.binary, "validate", *flags, str(template)]


def build_command(
    info: PackerInfo, template: Path, var_file: Path, *, only: Sequence[str] = ()
) -> list[str]:
    return [
        info.binary,
        "build",
        "-machine-readable",
        "-color=false",
        f"-var-file={var_file}",
        *(f"-only={name}" for name in only),
        str(template),
    ]


def __getattr__(name: str) -> object:
    """`binary.build` and the other runners, from run.py (imported on first use)."""
    if name in _IN_RUN:
        return getattr(importlib.import_module("packerpy.packer.run"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
