"""Edits of packerpy.toml that keep every other byte: tomlkit in place, replaced atomically."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path

import semver

from packerpy import versions
from packerpy.config.project import Project
from packerpy.errors import ConfigError
from packerpy.support import atomic
from packerpy.support.paths import display_path


@dataclass(frozen=True)
class BumpResult:
    image: str
    old: str
    new: str
    config: str


def bump(project: Project, name: str, part: str) -> BumpResult:
    """Rewrite the image's version in packerpy.toml (comments and layout kept, atomic)."""
    image = project.image(name)
    try:
        new = versions.bump(image.version, part, token=image.prerelease_token)
    except ValueError as exc:
        raise ConfigError(f"version bump {name} {part}: {exc}") from None
    old = set_version(project.path, name, new)
    return BumpResult(image=name, old=old, new=new, config=project.label)


def set_version(config_path: Path, image: str, new_version: str) -> str:
    """Set `images.<image>.version` in packerpy.toml to `new_version`; return the old version.

    tomlkit edits the one value in place, so comments, ordering, quoting and layout survive,
    and the file is replaced atomically so a crash never leaves half a config.
    """
    # Lazy: tomlkit is needed only by the commands that edit the config.
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
