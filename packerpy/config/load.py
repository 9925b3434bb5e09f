"""Reading packerpy.toml: TOML, then the models, then the files it names; one-line errors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from packerpy import naming
from packerpy.config.models import Config, ImageConfig, ScriptProvisioner, image_regions
from packerpy.config.paths import check_paths
from packerpy.config.project import (
    CONFIG_FILENAME,
    Project,
    available_provisioners,
    available_templates,
)
from packerpy.config.strings import key_text, show
from packerpy.errors import ConfigError
from packerpy.support import paths
from packerpy.support.paths import display_path


def find_config(explicit: Path | None, cwd: Path | None = None) -> Path:
    """The config named with -c, else packerpy.toml in the current directory."""
    path = explicit if explicit is not None else (cwd or Path.cwd()) / CONFIG_FILENAME
    shown = str(path) if str(path).isprintable() and len(str(path)) <= 200 else show(str(path))
    try:
        is_dir, exists, is_file = path.is_dir(), path.exists(), path.is_file()
    except (OSError, ValueError) as exc:  # ENAMETOOLONG, a NUL byte in -c
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise ConfigError(f"{shown}: cannot read config file: {reason}") from None
    if is_dir:
        raise ConfigError(f"{shown}: is a directory, not a config file")
    if exists and not is_file:
        raise ConfigError(f"{shown}: is not a regular file (a FIFO or a device?)")
    if not is_file:
        hint = "" if explicit else " (run `packerpy init NAME` to create one, or pass -c PATH)"
        raise ConfigError(f"{shown}: config file not found{hint}")
    return path


def load(path: Path) -> Project:
    """Read and validate a packerpy.toml; any problem is a ConfigError naming file, field, value."""
    path = path.resolve()
    label = display_path(path)
    raw = _read_toml(path, label)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{label}: {line}" for line in format_validation_error(exc)]
        more = lines[1:]
        raise ConfigError(lines[0], detail=more) from None
    project = Project(path=path, config=config)
    check_paths(project)
    _check_references(project)
    return project


def _read_toml(path: Path, label: str) -> dict[str, Any]:
    try:
        # Bytes, not read_text(): universal newlines would turn a lone CR (not a TOML line
        # break) into LF and accept a file every other TOML reader refuses.
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: not valid TOML: {exc}") from None
    except RecursionError:
        # tomllib recurses per nesting level and gives up near 800 levels.
        raise ConfigError(f"{label}: not valid TOML: nested too deeply") from None
    except OSError as exc:  # the label names the file; strerror does not repeat it
        raise ConfigError(f"{label}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: cannot read: {exc}") from None
    return raw


def format_validation_error(exc: ValidationError) -> list[str]:
    """pydantic errors as `field.path[2]: 'value' message` lines."""
    out: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        loc = _loc(err["loc"])
        # One line per problem: a union reports each branch it tried, and a list whose item
        # failed also reports itself as too short.
        if loc in out or any(seen.startswith((f"{loc}.", f"{loc}[")) for seen in out):
            continue
        msg = err["msg"].removeprefix("Value error, ")
        kind = err["type"]
        if kind == "missing":
            out[loc] = f"{loc}: is required"
        elif kind == "extra_forbidden":
            out[loc] = f"{loc}: unknown key"
        elif not loc:
            # A whole-document check names the field itself.
            out[loc] = msg
        elif isinstance(err["input"], dict | list):
            # A whole-table check: the message names what is wrong, the table is too long to echo.
            out[loc] = f"{loc}: {_lower_first(msg)}"
        else:
            out[loc] = f"{loc}: {show(err['input'])} {_lower_first(msg)}"
    return list(out.values())


def _loc(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        # pydantic names union branches and validator functions in the path; users never see those.
        if isinstance(item, str) and (
            item.startswith(("function-", "tagged-union"))
            or item in {"str", "ScriptProvisioner", "[key]"}
        ):
            continue
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + key_text(item))
    return "".join(parts)


def _lower_first(msg: str) -> str:
    return msg[:1].lower() + msg[1:]


def _check_references(project: Project) -> None:
    """Files the config names must exist: templates, named provisioners and script paths."""
    for name, image in project.config.images.items():
        where = f"{project.label}: images.{name}"
        try:
            naming.ami_name(image.ami_name_pattern, name, image.version)
        except ValueError as exc:
            raise ConfigError(f"{where}.ami_name_pattern: {exc}") from None
        if image.template_dir:
            if not (project.root / image.template_dir).is_dir():
                raise ConfigError(
                    f"{where}.template_dir: {show(image.template_dir)} is not a directory"
                )
        elif paths.find(project.templates_dirs(), f"{image.template}.pkr.hcl.j2") is None:
            known = ", ".join(available_templates(project)) or "none"
            raise ConfigError(
                f"{where}.template: {image.template!r} is not a template (available: {known})"
            )
        _check_provisioners(project, where, image)
        _check_kms_regions(where, image, image_regions(image, project.config.aws.region))


def _check_provisioners(project: Project, where: str, image: ImageConfig) -> None:
    for index, ref in enumerate(image.provisioners):
        at = f"{where}.provisioners[{index}]"
        if isinstance(ref, ScriptProvisioner):
            if not _is_file(project.root / ref.script):
                raise ConfigError(f"{at}.script: {show(ref.script)} is not a file")
        elif paths.find(project.provisioner_dirs(), f"{ref}.sh") is None:
            known = ", ".join(available_provisioners(project)) or "none"
            raise ConfigError(f"{at}: {ref!r} is not a provisioner (available: {known})")
    key_file = image.communicator.ssh_private_key_file
    if key_file and not _is_file(project.root / key_file):
        raise ConfigError(
            f"{where}.communicator.ssh_private_key_file: {show(key_file)} is not a file"
        )


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # ELOOP, ENAMETOOLONG: not a usable file either way
        return False


def _check_kms_regions(where: str, image: ImageConfig, regions: tuple[str, ...]) -> None:
    for region in image.kms_key_ids:
        if region not in regions:
            raise ConfigError(
                f"{where}.kms_key_ids: {region!r} is not one of the image's regions "
                f"({', '.join(regions)})"
            )
    if image.kms_key_ids and (missing := [r for r in regions if r not in image.kms_key_ids]):
        raise ConfigError(
            f"{where}.kms_key_ids: no key for region {missing[0]!r} "
            "(with kms_key_ids set, every region needs a key)"
        )
