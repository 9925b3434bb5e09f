"""Converge a version that already exists to the config: copies, shares, tags, deprecation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from packerpy.aws.clients import AwsClients
from packerpy.aws.images import ImageCache
from packerpy.aws.settings import AwsSettings
from packerpy.config import Project, image_regions
from packerpy.errors import PackerpyError
from packerpy.estate import catalog
from packerpy.steps import protocol as steps
from packerpy.steps import registry


@dataclass(frozen=True)
class PublishResult:
    image: str
    version: str
    amis: dict[str, str]
    dry_run: bool
    prune: bool
    steps: tuple[steps.StepResult, ...]
    # Every AWS call publish made, and those that changed something (region, operation).
    calls: int
    mutating: tuple[tuple[str, str], ...]


def publish(
    project: Project,
    settings: AwsSettings,
    name: str,
    version: str,
    *,
    dry_run: bool = False,
    prune: bool = False,
    progress: Callable[[str], None] = lambda _line: None,
) -> PublishResult:
    """Converge an existing version to the config: copies, shares, tags, deprecation.

    Idempotent: on a converged version it makes no mutating call. With `dry_run` it only plans.
    """
    image = project.image(name)
    planned = registry.resolve(image.steps, where=f"{project.label}: images.{name}.steps")
    regions = image_regions(image, settings.region)
    aws = AwsClients(settings)
    existing = catalog.published(aws, name, regions)
    found = next((p for p in existing if p.version == version), None)
    if found is None:
        known = ", ".join(p.version for p in existing) or "none"
        raise PackerpyError(
            f"{name} {version}: not published in {', '.join(regions)} (published: {known}); "
            f"bake it first: packerpy build {name}"
        )
    built = steps.BuiltImage(
        image=name,
        version=version,
        amis=found.amis,
        config=image,
        provenance=found.provenance(),
        regions=regions,
    )
    context = steps.StepContext(
        built=built,
        aws=aws,
        dry_run=dry_run,
        prune=prune,
        progress=progress,
        images=ImageCache(aws, found.image_cache_seed()),
    )
    built, results = steps.run_all(planned, context)
    return PublishResult(
        image=name,
        version=version,
        amis=dict(built.amis),
        dry_run=dry_run,
        prune=prune,
        steps=tuple(results),
        calls=len(aws.log.calls),
        mutating=tuple(aws.log.mutating),
    )
