"""Read-only questions about images: which versions exist, what comes next, what is outdated."""

from __future__ import annotations

from dataclasses import dataclass, field

from packerpy import versions
from packerpy.aws.clients import AwsClients
from packerpy.aws.settings import AwsSettings
from packerpy.config import Project, image_regions
from packerpy.estate import catalog
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
    """Images whose latest version was built on an older base than their filter selects now."""
    aws = AwsClients(settings)
    found, fresh, skipped = [], [], {}
    for name in sorted(project.config.images):
        image = project.image(name)
        if image.base.filter is None:
            skipped[name] = f"base is pinned to {image.base.ami}"
            continue
        regions = image_regions(image, settings.region)
        found_versions = catalog.published(aws, name, regions, project=project.config.project.name)
        if not found_versions:
            skipped[name] = "no published version"
            continue
        latest = found_versions[-1]
        now = resolve_base(aws, name, image, regions[0])
        if latest.base_ami == now.id:
            fresh.append(name)
        else:
            found.append(
                Outdated(
                    image=name,
                    version=latest.version,
                    built_on=latest.base_ami or "unknown",
                    current_base=now.id,
                    current_base_name=now.name,
                )
            )
    return OutdatedResult(outdated=tuple(found), up_to_date=tuple(fresh), not_checked=skipped)
