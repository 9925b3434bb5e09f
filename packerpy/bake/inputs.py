"""What a build's fingerprint covers, and the rules for a version that already exists.

Settings that decide how packer reaches AWS (profile, endpoint, retries, retry mode, how long it
waits for an AMI) are rendered into the template but cannot change the image: the fingerprint
sees the template rendered with them at their defaults (ux review 9: `max_retries = 5` and
`localhost` for `127.0.0.1` each baked a new version). `build --var` and `--var-file` do change
it, so they are read here once and covered by content.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packerpy import versions
from packerpy.aws.settings import AwsSettings
from packerpy.bake import provenance
from packerpy.config import Project
from packerpy.errors import ConfigError, Refused, TemplateError, VersionExistsError
from packerpy.estate import catalog
from packerpy.packer.binary import PackerInfo
from packerpy.render import jinja as render
from packerpy.render.contract import VAR_FILE_VARIABLES
from packerpy.support import oserrors

# [aws] settings that change how packer talks to AWS, never what it bakes.
NEUTRAL_AWS = ("profile", "endpoint_url", "max_retries", "retry_mode", "ami_wait_minutes")


@dataclass(frozen=True)
class UserVars:
    """`build --var NAME=VALUE` and `--var-file FILE`, as packer receives them (read once)."""

    pairs: tuple[tuple[str, str], ...] = ()
    files: tuple[tuple[Path, bytes], ...] = ()  # each file's path and content as read


def canonical(project: Project, settings: AwsSettings) -> tuple[Project, AwsSettings]:
    """The project and settings with every NEUTRAL_AWS value at its default."""
    aws = project.config.aws
    defaults = {name: type(aws).model_fields[name].default for name in NEUTRAL_AWS}
    config = project.config.model_copy(update={"aws": aws.model_copy(update=defaults)})
    return dataclasses.replace(project, config=config), dataclasses.replace(settings, **defaults)


def reserved(project: Project, name: str) -> frozenset[str]:
    """Variables packerpy sets itself: a user's --var or var file must not replace them."""
    secrets = {secret.lower() for secret in project.image(name).secrets}
    return frozenset(VAR_FILE_VARIABLES) | secrets


def _refuse_reserved(where: str, names: Sequence[str], taken: frozenset[str]) -> None:
    clash = sorted(set(names) & taken)
    if clash:
        raise ConfigError(
            f"{where}: sets {', '.join(clash)}, which packerpy sets itself "
            f"(reserved: {', '.join(sorted(taken))})"
        )


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ConfigError(f"--var {text!r}: expected NAME=VALUE")
    return name.strip(), value


def _names_in(path: Path, data: bytes) -> list[str]:
    """The variable names a var file sets: JSON when it ends in .json, else HCL (as packer)."""
    text = data.decode("utf-8", "replace")
    if path.name.endswith(".json"):
        try:
            found = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--var-file {path}: not valid JSON ({exc})") from None
        if not isinstance(found, dict):
            raise ConfigError(f"--var-file {path}: expected a JSON object of variables")
        return list(found)
    try:
        return list(render.check_hcl(text, f"--var-file {path}"))
    except TemplateError as exc:
        raise ConfigError(exc.message) from None


def read_user_vars(
    project: Project, name: str, pairs: Sequence[str], files: Sequence[Path]
) -> UserVars:
    """Parse --var, read each --var-file; refuse any that sets a packerpy variable."""
    taken = reserved(project, name)
    parsed = tuple(_pair(text) for text in pairs)
    for key, _value in parsed:
        _refuse_reserved(f"--var {key}", [key], taken)
    read = []
    for path in files:
        with oserrors.translated("read the var file", path):
            data = path.read_bytes()
        _refuse_reserved(f"--var-file {path}", _names_in(path, data), taken)
        read.append((path, data))
    return UserVars(pairs=parsed, files=tuple(read))


def inputs_of(
    project: Project,
    name: str,
    settings: AwsSettings,
    info: PackerInfo,
    base_ami: str,
    user: UserVars,
) -> provenance.Inputs:
    """The fingerprint's inputs: the template rendered canonically, assets, variables."""
    neutral_project, neutral_settings = canonical(project, settings)
    rendered = render.render(neutral_project, name, neutral_settings, info, base_ami=base_ami)
    image = project.image(name)
    return provenance.Inputs(
        template=rendered.text,
        assets={rel: path.read_bytes() for rel, path in rendered.assets.items()},
        variables=image.variables,
        base_ami=base_ami,
        packer_version=info.version_text,
        secret_names=image.secrets,
        amazon_plugin=rendered.amazon_plugin,
        cli_vars=user.pairs,
        var_files=tuple(data for _path, data in user.files),
    )


def rebuilt(
    project: Project,
    name: str,
    published: catalog.Published,
    fingerprint: str,
    inputs: provenance.Inputs,
) -> str:
    """The skip reason when the published version has this fingerprint; else exit 9."""
    region, ami = next(iter(published.amis.items()))
    if published.fingerprint == fingerprint:
        return (
            f"{name} {published.version} is already published from the same inputs "
            f"({ami} in {region}); nothing to bake"
        )
    changed = provenance.changed_parts(published.tags, inputs)
    what = f"changed: {', '.join(changed)}" if changed else "its inputs changed"
    raise VersionExistsError(
        f"{project.label}: images.{name}.version: {published.version} is already published "
        f"({ami} in {region}) and {what}; versions are immutable: "
        f"packerpy version bump {name} patch"
    )


def check_order(where: str, version: str, found: Sequence[catalog.Published]) -> None:
    """Refuse a version below the latest published one (review 8: 0.0.9 after 0.1.4)."""
    latest = versions.latest(p.version for p in found)
    if latest is not None and versions.parse(version) < versions.parse(latest):
        raise Refused(
            f"{where}.version: {version} is lower than the latest published version {latest}; "
            "bump it, or pass --allow-older to build a hotfix line"
        )


def same_version(found: Sequence[catalog.Published], version: str) -> catalog.Published | None:
    """The published version equal to `version` by SemVer precedence (build metadata aside)."""
    return next((p for p in found if catalog.same_version(p.version, version)), None)
