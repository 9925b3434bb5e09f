"""Image versions: SemVer bumps and ordering, AMI names, and editing the version in packerpy.toml.

Everything here is a pure function over strings except `set_version`, which rewrites one value
in the config file and leaves every other byte of it alone.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, MutableMapping
from pathlib import Path
from typing import TypeGuard

import semver

from packerpy import atomic
from packerpy.config import display_path
from packerpy.errors import ConfigError

BUMP_PARTS = ("major", "minor", "patch", "prerelease", "release")
DEFAULT_NAME_PATTERN = "{image}-{version}"
NAME_PLACEHOLDERS = ("image", "version")

AMI_NAME_MIN = 3
AMI_NAME_MAX = 128
# AWS: "alphanumeric characters, parentheses, square brackets, spaces, periods, slashes, dashes,
# single quotes, at-signs, or underscores" (ASCII: EC2 rejects other letters).
_AMI_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "()[] ./-'@_")
_AMI_NAME_CHARS_TEXT = "letters, digits, ( ) [ ] space . / - ' @ _"
# One SemVer prerelease identifier that is not purely numeric, so `token.N` reads as a label.
_TOKEN = re.compile(r"[0-9A-Za-z-]*[A-Za-z-][0-9A-Za-z-]*")


def _parse(version: str) -> semver.Version:
    """A SemVer 2.0 version; ValueError naming the string when it is not one."""
    try:
        return semver.Version.parse(version)
    except (ValueError, TypeError):
        raise ValueError(f"{version!r} is not a semantic version") from None


def is_version(value: str | None) -> TypeGuard[str]:
    """True for a SemVer 2.0 string (e.g. a `packerpy:version` tag read back from AWS)."""
    return value is not None and semver.Version.is_valid(value)


def bump(version: str, part: str, *, token: str = "rc") -> str:  # noqa: S107 - a label, not a secret
    """The next version after `version` in `part`; the result always has higher precedence.

    major, minor and patch follow semver's `Version.next_version`: on a release they bump that
    part and zero the lower ones (1.4.2 minor -> 1.5.0); on a prerelease they release the
    version the prerelease leads up to when it is of that kind (1.5.0-rc.2 patch or minor
    -> 1.5.0, 2.0.0-rc.1 major -> 2.0.0) and bump as usual otherwise (1.5.1-rc.1 minor -> 1.6.0).

    prerelease starts `token.1` on the next patch of a release (1.5.0 -> 1.5.1-rc.1), increments
    the counter of a `token` prerelease (1.5.1-rc.1 -> 1.5.1-rc.2), and restarts at `token.1`
    for another token (1.5.1-beta.3 -> 1.5.1-rc.1) -- on the next patch when `token` sorts before
    the old one (1.5.1-rc.1 with token alpha -> 1.5.2-alpha.1), so the bump never goes backwards.

    release drops the prerelease (1.5.1-rc.2 -> 1.5.1); on a release it is a ValueError.
    Every bump drops build metadata: it describes one build, not the next.
    """
    if part not in BUMP_PARTS:
        raise ValueError(
            f"unknown version part {part!r} (expected one of: {', '.join(BUMP_PARTS)})"
        )
    if not _TOKEN.fullmatch(token):
        raise ValueError(
            f"prerelease token {token!r} is not a SemVer identifier (letters, digits, '-'; "
            "not all digits)"
        )
    current = _parse(version)
    if part == "release":
        if current.prerelease is None:
            raise ValueError(f"{version} is already a release")
        return str(current.replace(prerelease=None, build=None))
    following = current.next_version(part, prerelease_token=token)
    # next_version drops build metadata on every path, but the contract is ours to keep.
    following = following.replace(build=None)
    if following.compare(current) <= 0:  # a bug in semver: never reuse or go back a version
        raise AssertionError(f"bump {part} of {version} gave {following}, not a later version")
    return str(following)


def _precedence(version: str) -> tuple[semver.Version, str]:
    # SemVer precedence ignores build metadata; the full string breaks ties so the order is
    # total and the same on every run.
    return _parse(version), version


def sort_versions(versions: Iterable[str]) -> list[str]:
    """`versions` oldest first by SemVer precedence (1.5.0-rc.2 < 1.5.0 < 1.9.0 < 1.10.0)."""
    return sorted(versions, key=_precedence)


def latest(versions: Iterable[str], *, include_prerelease: bool = True) -> str | None:
    """The highest version by SemVer precedence, or None when there is none to choose."""
    candidates = [v for v in versions if include_prerelease or _parse(v).prerelease is None]
    return max(candidates, key=_precedence, default=None)


def validate_name_pattern(pattern: str) -> None:
    """Reject an AMI name pattern that cannot give valid, distinct names to every version.

    Messages are predicates that read after the pattern (config errors print `'PATTERN' MESSAGE`).
    """
    try:
        fields = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ValueError(f"is not a valid pattern ({exc})") from None
    seen: set[str] = set()
    for literal, field, spec, conversion in fields:
        for char in literal:
            if char not in _AMI_NAME_CHARS:
                raise ValueError(
                    f"contains {char!r}, which AMI names may not (allowed: {_AMI_NAME_CHARS_TEXT})"
                )
        if field is None:
            continue
        if field not in NAME_PLACEHOLDERS or spec or conversion:
            shown = "{" + field + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            raise ValueError(
                f"has an unknown placeholder {shown} (allowed: {{image}}, {{version}})"
            )
        seen.add(field)
    if "version" not in seen:
        raise ValueError("must contain {version}, or every version of an image gets the same name")


def ami_name(pattern: str, image: str, version: str) -> str:
    """The AMI name for `image` at `version`, checked against AWS's AMI name rules.

    SemVer build metadata's '+' is not allowed in AMI names; it becomes '_', which never occurs
    in a SemVer string, so distinct versions still get distinct names.
    """
    validate_name_pattern(pattern)
    _parse(version)
    name = pattern.format(image=image, version=version.replace("+", "_"))
    for char in name:
        if char not in _AMI_NAME_CHARS:
            raise ValueError(
                f"AMI name {name!r}: character {char!r} is not allowed "
                f"(allowed: {_AMI_NAME_CHARS_TEXT})"
            )
    if not AMI_NAME_MIN <= len(name) <= AMI_NAME_MAX:
        raise ValueError(
            f"AMI name {name!r} is {len(name)} characters; "
            f"AWS allows {AMI_NAME_MIN} to {AMI_NAME_MAX}"
        )
    return name


def set_version(config_path: Path, image: str, new_version: str) -> str:
    """Set `images.<image>.version` in packerpy.toml to `new_version`; return the old version.

    tomlkit edits the one value in place, so comments, ordering, quoting and layout survive,
    and the file is replaced atomically so a crash never leaves half a config.
    """
    # Imported here: config loading imports this module and should not pay for tomlkit.
    import tomlkit  # noqa: PLC0415
    from tomlkit.exceptions import TOMLKitError  # noqa: PLC0415
    from tomlkit.items import String  # noqa: PLC0415

    label = display_path(config_path)
    where = f"{label}: images.{image}"
    if not semver.Version.is_valid(new_version):
        raise ConfigError(f"{where}.version: {new_version!r} is not a semantic version")
    # Write through a symlink rather than replacing it with a regular file.
    target = config_path.resolve()
    try:
        # Bytes, not read_text: universal newlines would turn CRLF files into LF ones.
        text = target.read_bytes().decode("utf-8")
        mode = target.stat().st_mode
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{label}: cannot read: {exc}") from None
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None

    images = doc.get("images")
    if not isinstance(images, MutableMapping) or image not in images:
        raise ConfigError(f"{where}: no such image")
    table = images[image]
    if not isinstance(table, MutableMapping):
        raise ConfigError(f"{where}: is not a table")
    if "version" not in table:
        raise ConfigError(f"{where}.version: is required")
    old = table["version"]
    if not isinstance(old, String):
        raise ConfigError(f"{where}.version: {old!r} is not a string")

    # Keep the old quoting ('...' vs "..."); SemVer characters need no escaping in any of them.
    table["version"] = String.from_raw(new_version, type_=old.type)
    # The replacement keeps the config's permissions (mkstemp would leave it 0600).
    atomic.write_bytes(target, tomlkit.dumps(doc).encode("utf-8"), mode=mode & 0o7777)
    return old.unwrap()
