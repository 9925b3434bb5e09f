"""Converge a version that already exists to the config: copies, shares, tags, deprecation.

Each configured step plans typed actions and carries them out as one operation
(release/operation.py): a dry run only plans, Ctrl-C stops between actions with exit 130.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packerpy.aws.clients import AwsClients
from packerpy.aws.images import ImageCache
from packerpy.aws.operation import Action, Mode, Outcome
from packerpy.aws.settings import AwsSettings
from packerpy.config import Project, image_regions
from packerpy.errors import PackerpyError
from packerpy.estate import catalog
from packerpy.estate import regions as opt_in
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
    # Every step's structured actions and what executing them did, for library callers and
    # tests; --json keeps to the fields above.
    plan: tuple[Action, ...] = ()
    outcome: Outcome = field(default_factory=Outcome)


def publish(
    project: Project,
    settings: AwsSettings,
    name: str,
    version: str,
    mode: Mode | None = None,
) -> PublishResult:
    """Converge an existing version to the config: copies, shares, tags, deprecation.

    Idempotent: on a converged version it makes no mutating call. With `dry_run` it only plans.
    Setting `mode.cancel` (or Ctrl-C) stops it between actions with `Cancelled` (exit 130).
    """
    mode = mode or Mode()
    image = project.image(name)
    planned = registry.resolve(image.steps, where=f"{project.label}: images.{name}.steps")
    regions = image_regions(image, settings.region)
    aws = AwsClients(settings)
    # Before any copy: a region the account has not enabled fails every call there.
    opt_in.check_enabled(aws, regions, where=f"{project.label}: images.{name}.regions")
    found = _published(aws, name, version, regions, project.config.project.name)
    built = steps.BuiltImage(
        image=name,
        version=version,
        amis=found.amis,
        config=image,
        provenance=found.provenance(),
        regions=regions,
        project=project.config.project.name,
    )
    return converge(aws, built, planned, mode, found.image_cache_seed())


def converge(
    aws: AwsClients,
    built: steps.BuiltImage,
    planned: Sequence[steps.Step],
    mode: Mode,
    seed: Mapping[tuple[str, str], Any] | None = None,
) -> PublishResult:
    """Run the image's steps on `built` as one operation (publish and post-process)."""
    context = steps.StepContext(
        built=built,
        aws=aws,
        dry_run=mode.dry_run,
        prune=mode.prune,
        progress=mode.progress,
        images=ImageCache(aws, seed),
        cancel=mode.cancel,
    )
    built, results = steps.run_all(planned, context)
    total = Outcome(dry_run=mode.dry_run)
    for result in results:
        total += result.outcome or Outcome()
    return PublishResult(
        image=built.image,
        version=built.version,
        amis=dict(built.amis),
        dry_run=mode.dry_run,
        prune=mode.prune,
        steps=tuple(results),
        calls=len(aws.log.calls),
        mutating=tuple(aws.log.mutating),
        plan=tuple(action for result in results for action in result.plan),
        outcome=total,
    )


def _published(
    aws: AwsClients, name: str, version: str, regions: tuple[str, ...], project: str
) -> catalog.Published:
    """The version to converge, or an error listing the versions that do exist."""
    existing = catalog.published(aws, name, regions, project=project)
    found = next((p for p in existing if catalog.same_version(p.version, version)), None)
    if found is None:
        known = ", ".join(p.version for p in existing) or "none"
        raise PackerpyError(
            f"{name} {version}: not published in {', '.join(regions)} (published: {known}); "
            f"bake it first: packerpy build {name}"
        )
    return found
