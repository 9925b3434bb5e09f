"""Read-only questions about images: which versions exist, what comes next, what is outdated."""

from __future__ import annotations

from dataclasses import dataclass, field

from packerpy import versions
from packerpy.aws.clients import AwsClients
from packerpy.aws.settings import AwsSettings
from packerpy.config import Project, image_regions
from packerpy.estate import catalog, revoked
from packerpy.estate.base_ami import resolve_base


@dataclass(frozen=True)
class VersionShow:
    image: str
    configured: str
    latest_published: str | None
    configured_is_published: bool
    next: dict[str, str]  # bump part -> the version it would give


@dataclass(frozen=True)
class ImageList:
    image: str
    versions: tuple[catalog.Published, ...]


@dataclass(frozen=True)
class Outdated:
    image: str
    version: str
    built_on: str  # base AMI the latest version was built from
    current_base: str  # what the base filter selects now
    current_base_name: str
    base_revoked: str | None = None  # why the base it was built on was revoked


@dataclass(frozen=True)
class OutdatedResult:
    outdated: tuple[Outdated, ...]
    up_to_date: tuple[str, ...]
    not_checked: dict[str, str] = field(default_factory=dict)  # image -> why


def _published(project: Project, settings: AwsSettings, name: str) -> list[catalog.Published]:
    image = project.image(name)
    regions = image_regions(image, settings.region)
    return catalog.published(
        AwsClients(settings), name, regions, project=project.config.project.name
    )


def show(project: Project, settings: AwsSettings, name: str) -> VersionShow:
    image = project.image(name)
    known = [p.version for p in _published(project, settings, name)]
    following = {}
    for part in versions.BUMP_PARTS:
        try:
            following[part] = versions.bump(image.version, part, token=image.prerelease_token)
        except ValueError:  # `release` of a version that is already a release
            continue
    return VersionShow(
        image=name,
        configured=image.version,
        latest_published=versions.latest(known),
        configured_is_published=any(catalog.same_version(image.version, v) for v in known),
        next=following,
    )


def list_images(project: Project, settings: AwsSettings, name: str) -> ImageList:
    return ImageList(image=name, versions=tuple(_published(project, settings, name)))


def outdated(project: Project, settings: AwsSettings) -> OutdatedResult:
    """Images whose latest version was built on an older base than their filter selects now,
    or on a base that has since been revoked (pinned bases included)."""
    aws = AwsClients(settings)
    found, fresh, skipped = [], [], {}
    for name in sorted(project.config.images):
        verdict = _outdated(aws, project, settings, name)
        if isinstance(verdict, Outdated):
            found.append(verdict)
        elif verdict is None:
            fresh.append(name)
        else:
            skipped[name] = verdict
    return OutdatedResult(outdated=tuple(found), up_to_date=tuple(fresh), not_checked=skipped)


def _outdated(
    aws: AwsClients, project: Project, settings: AwsSettings, name: str
) -> Outdated | str | None:
    """One image: Outdated, None when up to date, or why it was not checked."""
    image = project.image(name)
    regions = image_regions(image, settings.region)
    found_versions = catalog.published(aws, name, regions, project=project.config.project.name)
    if not found_versions:
        return (
            "no published version" if image.base.filter else f"base is pinned to {image.base.ami}"
        )
    latest = found_versions[-1]
    reason = revoked.revocation(aws, regions[0], latest.base_ami) if latest.base_ami else None
    if image.base.filter is None and reason is None:
        return f"base is pinned to {image.base.ami}"
    now = resolve_base(aws, name, image, regions[0])
    if latest.base_ami == now.id and reason is None:
        return None
    return Outdated(
        image=name,
        version=latest.version,
        built_on=latest.base_ami or "unknown",
        current_base=now.id,
        current_base_name=now.name,
        base_revoked=reason,
    )
