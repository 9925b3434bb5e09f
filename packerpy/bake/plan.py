"""Planning a bake: what exists, whether this version may be made, and whether packer must run.

Everything here reads (AWS, the project, git) and nothing runs packer or writes a file, so the
skip and immutability rules are unit-testable against moto alone. The outcome is a `BakePlan`:
`Reuse` an AMI built from identical inputs, or `Bake` a rendered template with its tags.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from packerpy.aws.clients import AwsClients
from packerpy.aws.settings import AwsSettings
from packerpy.bake import claim, inputs, provenance
from packerpy.config import ImageConfig, Project, image_regions
from packerpy.errors import (
    ManifestError,
    PackerpyError,
)
from packerpy.estate import catalog, revoked
from packerpy.estate.base_ami import BaseAmi, resolve_base
from packerpy.packer.binary import PackerInfo
from packerpy.render import jinja as render
from packerpy.steps.protocol import BuiltImage

T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """The image being built, and what every phase of its build needs to know."""

    project: Project
    name: str
    settings: AwsSettings
    aws: AwsClients
    info: PackerInfo
    started: datetime

    @property
    def image(self) -> ImageConfig:
        return self.project.image(self.name)

    @property
    def regions(self) -> tuple[str, ...]:
        return image_regions(self.image, self.settings.region)


def _in_background(fn: Callable[[], T]) -> Future[T]:
    """Run fn in a daemon thread: an abandoned check must not hold up the process's exit."""
    future: Future[T] = Future()

    def target() -> None:
        try:
            future.set_result(fn())
        except BaseException as exc:  # noqa: BLE001 - handed to whoever calls .result()
            future.set_exception(exc)

    threading.Thread(target=target, name="packerpy-preflight", daemon=True).start()
    return future


class Preflight:
    """Checks started before packer's version check and lint, which they overlap."""

    def __init__(self, aws: AwsClients, region: str, project: Project) -> None:
        self._reachable = _in_background(lambda: aws.check_reachable(region))
        # botocore's import and the EC2 client (~0.35 s) overlap packer's version check and lint.
        self._warm = _in_background(lambda: aws.ec2(region))
        self._git = _in_background(lambda: provenance.git_state(project.root))

    def ready(self) -> None:
        """Wait for AWS to answer (raises its AwsError) and for the EC2 client to exist."""
        self._reachable.result()
        self._warm.result()

    def git(self) -> provenance.GitState:
        return self._git.result()


@dataclass(frozen=True)
class Found:
    """What AWS holds for this build: the base AMI now, and the published versions."""

    base: BaseAmi
    published: tuple[catalog.Published, ...]


@dataclass(frozen=True)
class Reuse:
    """An AMI of this image was built from identical inputs: run the steps on it, bake nothing."""

    published: catalog.Published
    reason: str
    fingerprint: str
    base_ami: str


@dataclass(frozen=True)
class Bake:
    """Run packer on `rendered`, which already carries the provenance `tags`."""

    rendered: render.Rendered
    tags: Mapping[str, str]
    fingerprint: str
    base_ami: str


BakePlan = Reuse | Bake


def look_up(target: Target, preflight: Preflight) -> Found:
    """The base AMI and the published versions (decide() applies the version rules)."""
    preflight.ready()
    region = target.regions[0]
    base = resolve_base(target.aws, target.name, target.image, region)
    revoked.refuse_revoked_base(
        target.aws, region, base.id, where=f"{target.project.label}: images.{target.name}.base"
    )
    project = target.project.config.project.name
    published = catalog.published(target.aws, target.name, target.regions, project=project)
    return Found(base, tuple(published))


@dataclass(frozen=True)
class Choice:
    """What the user asked for beyond the config: pass-through variables and overrides."""

    user: inputs.UserVars = field(default_factory=inputs.UserVars)
    force_bake: bool = False  # bake even when an AMI with identical inputs exists
    allow_older: bool = False  # build a version below the latest published (a hotfix line)


def decide(
    target: Target,
    found: Found,
    *,
    git: Callable[[], provenance.GitState],
    force_bake: bool = False,
    choice: Choice | None = None,
) -> BakePlan:
    """Render and fingerprint; skip a published version with these inputs (refuse one with
    other inputs, exit 9), refuse going below the latest unless allowed, reuse the newest
    version with this fingerprint, else bake.

    `git` is called only when baking: the tags need it, a reuse does not wait for it.
    """
    choice = choice or Choice(force_bake=force_bake)
    info, base = target.info, found.base
    rendered = render.render(target.project, target.name, target.settings, info, base_ami=base.id)
    covered = inputs.inputs_of(
        target.project, target.name, target.settings, info, base.id, choice.user
    )
    fp = provenance.fingerprint_of(covered)

    def rebuilt(existing: catalog.Published) -> str:
        return inputs.rebuilt(target.project, target.name, existing, fp, covered)

    if (reuse := reuse_of(target, found, fp, choice, rebuilt=rebuilt)) is not None:
        return reuse
    tags = provenance.tags(
        git=git(),
        base_ami=base.id,
        base_ami_name=base.name,
        fingerprint=fp,
        packer_version=info.version_text,
        built_at=target.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        amazon_plugin=rendered.amazon_plugin,
        parts=provenance.parts_tag(covered),
    )
    return Bake(
        rendered=render.with_tags(rendered, tags), tags=tags, fingerprint=fp, base_ami=base.id
    )


def reuse_of(
    target: Target,
    found: Found,
    fp: str,
    choice: Choice,
    *,
    rebuilt: Callable[[catalog.Published], str],
) -> Reuse | None:
    """The version rules, in order: a published version is skipped (`rebuilt` gives the reason,
    or refuses other inputs with exit 9); going below the latest is refused unless allowed;
    the newest version with fingerprint `fp` is reused unless force_bake. None: bake."""
    image, base = target.image, found.base
    if (existing := inputs.same_version(found.published, image.version)) is not None:
        return Reuse(published=existing, reason=rebuilt(existing), fingerprint=fp, base_ami=base.id)
    if not choice.allow_older:
        where = f"{target.project.label}: images.{target.name}"
        inputs.check_order(where, image.version, found.published)
    same = next((p for p in reversed(found.published) if p.fingerprint == fp), None)
    if same is None or choice.force_bake:
        return None
    reason = (
        f"inputs unchanged: {target.name} {same.version} ({', '.join(same.amis.values())}) "
        f"has fingerprint {fp[:12]}; use --force-bake to bake {image.version} anyway"
    )
    return Reuse(published=same, reason=reason, fingerprint=fp, base_ami=base.id)


def built_from_published(
    name: str,
    published: catalog.Published,
    config: ImageConfig,
    regions: tuple[str, ...],
    project: str,
) -> BuiltImage:
    """A published version as the steps' input (a stand-in for a BuiltImage constructor)."""
    return BuiltImage(
        image=name,
        version=published.version,
        amis=published.amis,
        config=config,
        provenance=published.provenance(),
        regions=regions,
        project=project,
    )


def reused_image(target: Target, reuse: Reuse) -> BuiltImage:
    return built_from_published(
        target.name,
        reuse.published,
        target.image,
        target.regions,
        target.project.config.project.name,
    )


def claim_version(target: Target, fingerprint: str, run: str) -> claim.Claim:
    """Claim the version before a bake (bake/claim.py); a reuse bakes nothing and needs none."""
    image = target.image
    return claim.take(
        target.aws,
        target.regions[0],
        claim.parameter_name(target.project.config.project.name, target.name, image.version),
        claim.holder_now(run, fingerprint, target.started),
        what=f"{target.project.label}: images.{target.name}.version: {image.version}",
        now=target.started,
    )


@contextmanager
def releasing(held: claim.Claim | None) -> Iterator[None]:
    """Release the claim when the bake fails, so a retry can bake.

    Not on ManifestError: packer said it succeeded, so an AMI may exist that packerpy cannot
    name; that claim stays until it goes stale.
    """
    try:
        yield
    except ManifestError:
        raise
    except BaseException:
        if held is not None:
            # A failed release must not hide why the bake failed; the claim then goes stale.
            with suppress(PackerpyError):
                held.release()
        raise
