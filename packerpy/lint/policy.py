"""PPL rules: what a loaded config asks for (encryption, sharing, base filter, variables),
the packer in use, and shellcheck over the provisioner scripts images run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from packerpy.adopt import checks, template
from packerpy.config import ImageConfig, Project
from packerpy.lint.model import Finding, finding, relative
from packerpy.packer.binary import PackerInfo
from packerpy.render import jinja as render
from packerpy.support import proc

# Found in tools.py (one place for every external tool); bound here so tests can swap it.
from packerpy.tools import SHELLCHECK_FIX, shellcheck_binary

# Variable names that say the value is a credential (matched anywhere in the name).
SECRET_NAME = re.compile(
    r"passw(or)?d|secret|token|api[_-]?key|private[_-]?key|access[_-]?key", re.IGNORECASE
)
# ...unless the name says the value only points at one (ssh_private_key_file = "keys/id").
REFERENCE_SUFFIX = re.compile(r"[_-](file|path)$", re.IGNORECASE)
SHELLCHECK_LEVELS = frozenset({"error", "warning"})
SHELLCHECK_TIMEOUT_SECONDS = 60.0

_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"\s*\[\[?\s*({_DOTTED})\s*\]\]?")
_ASSIGN = re.compile(rf"\s*({_DOTTED})\s*=")


class TomlLines:
    """The line a dotted key is set on in a TOML text, else the line of its nearest parent."""

    def __init__(self, text: str) -> None:
        self._keys: list[tuple[tuple[str, ...], int]] = []
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), start=1):
            if header := _HEADER.match(line):
                table = _split(header.group(1))
                self._keys.append((table, number))
            elif assign := _ASSIGN.match(line):
                self._keys.append(((*table, *_split(assign.group(1))), number))

    def line(self, path: tuple[str, ...]) -> int | None:
        best: tuple[int, int | None] = (0, None)
        for key, number in self._keys:
            if len(key) > best[0] and path[: len(key)] == key:
                best = (len(key), number)
        return best[1]


def _split(dotted: str) -> tuple[str, ...]:
    return tuple(
        part[1:-1] if part[:1] in {'"', "'"} else part for part in re.findall(_KEY_PART, dotted)
    )


def secret_variables(
    values: Mapping[str, object], prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    """Key paths whose name looks like a credential and whose value could hold one."""
    for key, value in values.items():
        path = (*prefix, str(key))
        if (
            SECRET_NAME.search(str(key))
            and not REFERENCE_SUFFIX.search(str(key))
            and _may_hold_secret(value)
        ):
            yield path
        elif isinstance(value, Mapping):
            yield from secret_variables(value, path)


def _may_hold_secret(value: object) -> bool:
    # Flags, numbers and empty strings carry no credential (use_token = true, token_ttl = 300).
    if isinstance(value, bool | int | float):
        return False
    return bool(value)


# (rule id, key path in packerpy.toml to find the line by, message)
Hit = tuple[str, tuple[str, ...], str]


def check(project: Project, packer: PackerInfo | None) -> tuple[list[Finding], list[str]]:
    """PPL findings over the loaded config and the scripts it runs, and the files checked."""
    config_file = relative(project, project.path)
    where = TomlLines(project.path.read_text(encoding="utf-8"))
    required_tags = project.config.project.required_tags
    findings: list[Finding] = []
    scripts: dict[Path, None] = {}
    for name, image in project.config.images.items():
        hits = [
            *_image_hits(name, image, required_tags),
            *_adopted_hits(project, name, image),
            *_build_env_hits(name, image, packer),
            *_base_hits(name, image),
        ]
        findings.extend(
            finding(rule, config_file, where.line(path), message) for rule, path, message in hits
        )
        scripts.update((p, None) for p in render.provisioner_assets(project, name, image).values())
    findings.extend(shellcheck(project, list(scripts)))
    return findings, [config_file, *(relative(project, p) for p in scripts)]


def _image_hits(name: str, image: ImageConfig, required_tags: tuple[str, ...]) -> Iterator[Hit]:
    """PPL001 encryption, PPL005 required tags, PPL003 public, PPL006 plaintext secrets."""
    at = ("images", name)
    # A public AMI cannot be encrypted (EC2 refuses it; the config refuses the pair), so an
    # explicitly public image is unencrypted by necessity; PPL003 still reports it as public.
    if not image.encrypt and not image.share.public and not image.template_dir:
        yield "PPL001", (*at, "encrypt"), f"images.{name}: AMI is not encrypted"
    if missing_tags := [t for t in required_tags if t not in image.tags]:
        yield (
            "PPL005",
            (*at, "tags"),
            f"images.{name}.tags: missing required tag(s) {', '.join(missing_tags)}",
        )
    if image.share.public:
        yield "PPL003", (*at, "share", "public"), f"images.{name}: AMI is public (Group=all)"
    for key in secret_variables(image.variables):
        yield (
            "PPL006",
            (*at, "variables", *key),
            f"images.{name}.variables.{'.'.join(key)} looks like a secret passed in plaintext",
        )


def _adopted_hits(project: Project, name: str, image: ImageConfig) -> Iterator[Hit]:
    """PPL001 on what an adopted template really does: its encrypt_boot, not packerpy.toml."""
    if not image.template_dir:
        return
    found = template.read(project.root / image.template_dir)
    for source, encrypted in checks.encrypts(found, image.adopt.only).items():
        if encrypted is not True:
            how = "is an expression" if encrypted is None else "is not true"
            yield (
                "PPL001",
                ("images", name, "template_dir"),
                f"images.{name}: {image.template_dir}: {source} encrypt_boot {how}; "
                "the AMI may not be encrypted",
            )


def _build_env_hits(name: str, image: ImageConfig, packer: PackerInfo | None) -> Iterator[Hit]:
    """PPL009/PPL002 IMDSv2, PPL010 an open SSH CIDR, PPL011 SSH with no CIDRs."""
    if image.template_dir:  # an adopted template's build settings are its own
        return
    at = ("images", name)
    env = image.build_env
    if not env.require_imdsv2:
        yield (
            "PPL009",
            (*at, "build_env", "require_imdsv2"),
            f"images.{name}: IMDSv2 is not required",
        )
    elif packer is not None and not packer.amazon_plugin_options:
        yield (
            "PPL002",
            at,
            f"images.{name}: IMDSv2 cannot be required with packer {packer.version_text} "
            "(metadata_options and imds_support need packer 1.7+)",
        )
    for cidr in env.ssh_cidrs:
        if cidr in {"0.0.0.0/0", "::/0"}:
            yield (
                "PPL010",
                (*at, "build_env", "ssh_cidrs"),
                f"images.{name}.build_env.ssh_cidrs: {cidr} opens the build instance "
                "to the internet",
            )
    if image.communicator.type == "ssh" and not env.ssh_cidrs:
        yield (
            "PPL011",
            (*at, "communicator"),
            f"images.{name}: no build_env.ssh_cidrs, so packer's temporary security group "
            "allows SSH from 0.0.0.0/0",
        )


def _base_hits(name: str, image: ImageConfig) -> Iterator[Hit]:
    """PPL004 a wildcard base owner, PPL008 a filter that fails once it matches two AMIs."""
    base_filter = image.base.filter
    if base_filter is None:
        return
    at = ("images", name, "base", "filter")
    for owner in base_filter.owners:
        if "*" in owner or "?" in owner:
            yield (
                "PPL004",
                (*at, "owners"),
                f"images.{name}.base.filter.owners: {owner!r} is a wildcard, "
                "so anyone could publish a matching AMI",
            )
    if not base_filter.most_recent:
        yield (
            "PPL008",
            (*at, "most_recent"),
            f"images.{name}.base.filter.most_recent is false: "
            "the build fails once the filter matches two AMIs",
        )


def shellcheck(project: Project, scripts: list[Path]) -> list[Finding]:
    """PPL007: one finding per shellcheck error or warning, run as `sh` (how packer runs them)."""
    if not scripts:
        return []
    labels = {str(path): relative(project, path) for path in scripts}
    first = labels[str(scripts[0])]
    missing = finding(
        "PPL007",
        first,
        None,
        f"shellcheck is not installed: {len(scripts)} provisioner script(s) not checked",
        fix=SHELLCHECK_FIX,
    )
    binary = shellcheck_binary()
    if binary is None:
        return [missing]
    command = [binary, "--shell=sh", "--format=json", *labels]
    try:
        done = proc.run(command, timeout=SHELLCHECK_TIMEOUT_SECONDS)
    except proc.ToolMissing:
        return [missing]
    try:
        issues = json.loads(done.output) if done.returncode in {0, 1} else None
    except json.JSONDecodeError:
        issues = None
    if not isinstance(issues, list):
        said = next(iter(done.output.strip().splitlines()), "no output")
        return [
            finding(
                "PPL007",
                first,
                None,
                f"shellcheck failed (exit {done.returncode}): {said}",
                fix="run shellcheck on the provisioner scripts to see why",
            )
        ]
    return [
        finding(
            "PPL007",
            labels.get(str(issue.get("file")), str(issue.get("file"))),
            issue.get("line"),
            f"SC{issue.get('code')}: {' '.join(str(issue.get('message')).split())}",
            fix=f"fix the script (https://www.shellcheck.net/wiki/SC{issue.get('code')})",
        )
        for issue in issues
        if isinstance(issue, dict) and issue.get("level") in SHELLCHECK_LEVELS
    ]
