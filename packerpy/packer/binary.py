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
from urllib.parse import urlsplit

from packerpy.errors import PackerMissingError
from packerpy.packer import version_cache
from packerpy.support import constraints, proc
from packerpy.support.constraints import Triple

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
# The first plugin whose amazon-ebs has imds_support (plugin commit 02c8a17e, first tag v1.2.2);
# 1.2.0 and 1.2.1 reject it (builder/ebs/builder.hcl2spec.go at those tags).
AMAZON_PLUGIN_FLOOR = "1.2.2"
# Plugin releases after 1.3.9 have no GitHub assets (plugin CHANGELOG 1.3.10), and packer before
# 1.14 installs only from GitHub: 1.7.0-1.8.4 abort on the first missing checksum file.
AMAZON_PLUGIN_LAST_ON_GITHUB = "1.3.9"
# packer 1.14.0 pulls official plugins from releases.hashicorp.com (packer CHANGELOG 1.14.0).
PLUGINS_FROM_RELEASES_SINCE = (1, 14, 0)
# `packer plugins installed` lists installed plugin binaries (packer 1.8.0).
PLUGINS_INSTALLED_SINCE = (1, 8, 0)
# Installed binaries are named packer-plugin-amazon_v1.3.9_x5.0_linux_amd64.
_PLUGIN_BINARY = re.compile(r"packer-plugin-amazon_v(\d+\.\d+\.\d+)_x\d")
# Names that moved to run.py, still importable from here so call sites keep working.
_IN_RUN = frozenset(
    {"ERROR_TAIL_LINES", "build", "fmt_diff", "init", "one_line", "secret_environment", "validate"}
)


@dataclass(frozen=True)
class PackerInfo:
    binary: str
    version: Triple
    # Versions of the amazon plugin installed where this packer looks (empty on packer 1.6).
    amazon_plugins: tuple[Triple, ...] = ()

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def uses_plugins(self) -> bool:
        """`packer { required_plugins }` and `packer init` exist (1.6 rejects both)."""
        return self.version >= PLUGINS_SINCE

    @property
    def amazon_plugin_options(self) -> bool:
        """The external amazon plugin is used (org/OU sharing, IMDS options); which of its
        options a template may use depends on the plugin's version (render/options.py)."""
        return self.version >= PLUGINS_SINCE

    def amazon_plugin_constraint(self, pinned: str | None = None) -> str | None:
        """The `required_plugins` version for this packer; None on 1.6 (builder is bundled)."""
        if not self.uses_plugins:
            return None
        if pinned is not None:
            return pinned
        if self.version >= PLUGINS_FROM_RELEASES_SINCE:
            return f">= {AMAZON_PLUGIN_FLOOR}, < 2.0.0"  # `~> 1` with the floor
        return f">= {AMAZON_PLUGIN_FLOOR}, <= {AMAZON_PLUGIN_LAST_ON_GITHUB}"

    def supports_on_error(self, value: str) -> bool:
        """`-on-error` other than cleanup needs packer >= 1.5.0 (ON_ERROR_SINCE)."""
        return value == "cleanup" or self.version >= ON_ERROR_SINCE

    def resolve_amazon_plugin(self, constraint: str) -> Triple | None:
        """The installed plugin packer will use: the newest one the constraint allows."""
        allowed = [v for v in self.amazon_plugins if constraints.allows(constraint, v)]
        return max(allowed, default=None)


# A closed port on loopback (discard): a request sent through it fails at once.
CLOSED_PROXY = "http://127.0.0.1:9"


def environment(
    base: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
    *,
    confine_to: str | None = None,
) -> dict[str, str]:
    """packer's environment: ours, minus HashiCorp's update check (a network call per run).

    `confine_to` (an endpoint URL): every HTTP(S) request packer makes goes through a proxy
    that does not exist, except to the endpoint's host. Under the sandbox or --endpoint-url a
    template that forgets the endpoint then fails at once instead of baking in real AWS (ux
    review, step 6: an adopted template did exactly that).
    """
    env = {**(os.environ if base is None else base), **(extra or {})}
    env["CHECKPOINT_DISABLE"] = "1"
    if confine_to:
        host = urlsplit(confine_to).hostname or ""
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env[name] = CLOSED_PROXY
        for name in ("NO_PROXY", "no_proxy"):
            env[name] = host
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
    version = version_cache.version_of(path, _run_version)
    plugins = installed_amazon_plugins(path, version) if version >= PLUGINS_SINCE else ()
    return PackerInfo(binary=path, version=version, amazon_plugins=plugins)


def _run_version(path: str) -> Triple:
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
    return (major, minor, patch)


def installed_amazon_plugins(
    binary: str, version: Triple, environ: Mapping[str, str] | None = None
) -> tuple[Triple, ...]:
    """Amazon plugin versions packer can load, newest first.

    From packer 1.8 `packer plugins installed` says; before it (or when that fails) the
    plugin directories are read: PACKER_PLUGIN_PATH, else the per-user directories of 1.8+
    (~/.config/packer/plugins) and 1.7 (~/.packer.d/plugins), each holding
    github.com/hashicorp/amazon/packer-plugin-amazon_vX.Y.Z_x5.0_<os>_<arch>.
    """
    env = os.environ if environ is None else environ
    names: list[str] = []
    if version >= PLUGINS_INSTALLED_SINCE:
        try:
            done = proc.run([binary, "plugins", "installed"], env=environment(env), timeout=30)
        except proc.ToolMissing:
            done = None
        if done is not None and done.returncode == 0:
            names = done.output.splitlines()
    if not names:
        names = [str(path) for path in _plugin_files(env)]
    found = {v for name in names if (v := _plugin_version(name)) is not None}
    return tuple(sorted(found, reverse=True))


def plugin_dirs(environ: Mapping[str, str]) -> list[Path]:
    """Where packer 1.7+ looks for installed plugins: PACKER_PLUGIN_PATH alone when set
    ("no other directories will be checked", packer's plugin docs), else the user's."""
    dirs = [Path(p) for p in environ.get("PACKER_PLUGIN_PATH", "").split(os.pathsep) if p]
    if dirs:
        return dirs
    home = Path(environ.get("HOME", "~")).expanduser()
    config = environ.get("PACKER_CONFIG_DIR")
    dirs.append(Path(config) / "plugins" if config else home / ".config" / "packer" / "plugins")
    dirs.append(home / ".packer.d" / "plugins")
    return dirs


def _plugin_files(environ: Mapping[str, str]) -> list[Path]:
    found: list[Path] = []
    for root in plugin_dirs(environ):
        for where in (root / AMAZON_PLUGIN_SOURCE, root):
            found.extend(where.glob("packer-plugin-amazon_v*"))
    return found


def _plugin_version(name: str) -> Triple | None:
    found = _PLUGIN_BINARY.search(Path(name.strip()).name)
    return constraints.parse_version(found.group(1)) if found else None


def init_command(info: PackerInfo, template: Path) -> list[str]:
    return [info.binary, "init", str(template)]


def fmt_check_command(info: PackerInfo, template: Path) -> list[str]:
    return [info.binary, "fmt", "-check", "-diff", str(template)]


def validate_command(
    info: PackerInfo, template: Path, var_file: Path, *, syntax_only: bool = False
) -> list[str]:
    flags = ["-syntax-only"] if syntax_only else [f"-var-file={var_file}"]
    return [info.binary, "validate", *flags, str(template)]


# `-on-error` values; packer 1.5.0 added the flag (packer CHANGELOG 1.5.0), every packer
# packerpy supports (>= 1.6) has all three. abort leaves the instance running (by design).
ON_ERROR_CHOICES = ("cleanup", "abort", "ask")
ON_ERROR_SINCE = (1, 5, 0)


@dataclass(frozen=True)
class BuildFlags:
    """packer build's own options, passed through from `packerpy build` (issue 11.1)."""

    variables: tuple[tuple[str, str], ...] = ()  # -var NAME=VALUE, in the order given
    var_files: tuple[Path, ...] = ()  # -var-file, after packerpy's own: the user's win
    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()  # -except (a Python keyword)
    on_error: str | None = None
    debug: bool = False  # packer pauses before each step: see `interactive`
    parallel_builds: int | None = None  # 0: no limit (packer's default)
    timestamp_ui: bool = False

    @property
    def interactive(self) -> bool:
        """packer reads the terminal (-debug, -on-error=ask): it runs attached, no progress UI."""
        return self.debug or self.on_error == "ask"

    def arguments(self) -> list[str]:
        """The flags in packer's spelling, `-name=value` so no value is read as a flag."""
        return [
            *(f"-var={name}={value}" for name, value in self.variables),
            *(f"-var-file={path}" for path in self.var_files),
            *(f"-only={name}" for name in self.only),
            *(f"-except={name}" for name in self.exclude),
            *([f"-on-error={self.on_error}"] if self.on_error else []),
            *(["-debug"] if self.debug else []),
            *(
                [f"-parallel-builds={self.parallel_builds}"]
                if self.parallel_builds is not None
                else []
            ),
            *(["-timestamp-ui"] if self.timestamp_ui else []),
        ]


def build_command(
    info: PackerInfo,
    template: Path,
    var_file: Path,
    *,
    only: Sequence[str] = (),
    flags: BuildFlags | None = None,
) -> list[str]:
    """packer build: machine-readable for packerpy's progress, human-readable with -debug
    (packer then prompts before each step and the user must read what it says)."""
    flags = flags or BuildFlags()
    output = [] if flags.interactive else ["-machine-readable", "-color=false"]
    return [
        info.binary,
        "build",
        *output,
        f"-var-file={var_file}",
        *(f"-only={name}" for name in only),
        *flags.arguments(),
        str(template),
    ]


def __getattr__(name: str) -> object:
    """`binary.build` and the other runners, from run.py (imported on first use)."""
    if name in _IN_RUN:
        return getattr(importlib.import_module("packerpy.packer.run"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
