"""Planning a bake: what exists, whether this version may be made, and whether packer must run.

Everything here reads (AWS, the project, git) and nothing runs packer or writes a file, so the
skip and immutability rules are unit-testable against moto alone. The outcome is a `BakePlan`:
`Reuse` an AMI built from identical inputs, or `Bake` a rendered template with its tags.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from packerpy.aws.clients import AwsClients
from packerpy.aws.settings import AwsSettings
from packerpy.bake import claim, provenance
from packerpy.config import ImageConfig, Project, image_regions
from packerpy.errors import (
    ConfigError,
    ManifestError,
    PackerpyError,
    PolicyError,
    VersionExistsError,
)
from packerpy.estate import catalog, revoked
from packerpy.estate.base_ami import BaseAmi, resolve_base
from packerpy.packer.binary import PackerInfo
from packerpy.packer.redact import MIN_SECRET_LENGTH, too_short
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
        # boto3's import and EC2 model load (~0.35 s) overlap packer's version check and lint.
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


def read_secrets(project: Project, name: str, environ: Mapping[str, str] | None) -> dict[str, str]:
    """Each configured secret from the environment (HCL name -> value); missing is an error."""
    env = os.environ if environ is None else environ
    values = {}
    for index, secret in enumerate(project.image(name).secrets):
        if secret not in env:
            raise ConfigError(
                f"{project.label}: images.{name}.secrets[{index}]: environment variable "
                f"{secret!r} is not set (secrets are read from the environment, never from files)"
            )
        if too_short(env[secret]):
            # Every occurrence of a short value is redacted, timestamps and words included:
            # `a` made packer.log unreadable and turned exit 6 into 4 (reliability review 3.4).
            raise ConfigError(
                f"{project.label}: images.{name}.secrets[{index}]: environment variable "
                f"{secret!r} is shorter than {MIN_SECRET_LENGTH} characters (surrounding "
                "whitespace aside): too short to redact from packer's output"
            )
        values[secret.lower()] = env[secret]
    return values


def lint_gate(project: Project, info: PackerInfo) -> dict[str, int]:
    """`packerpy lint` before any bake: an error-level finding stops the build (fail closed)."""
    from packerpy import lint  # noqa: PLC0415 - detect-secrets is imported only to lint

    result = lint.lint(project, info)
    errors = [f for f in result.findings if f.severity == "error"]
    if errors:
        first = errors[0]
        where = f"{first.file}:{first.line}" if first.line is not None else first.file
        raise PolicyError(
            f"lint: {len(errors)} error(s), first {where}: {first.rule} {first.message}; "
            "run `packerpy lint` for all of them"
        )
    return {"errors": 0, "warnings": result.warnings, "files": len(result.scanned)}


def look_up(target: Target, preflight: Preflight) -> Found:
    """The base AMI and the published versions; refuses a version that is already published."""
    preflight.ready()
    region = target.regions[0]
    base = resolve_base(target.aws, target.name, target.image, region)
    revoked.refuse_revoked_base(
        target.aws, region, base.id, where=f"{target.project.label}: images.{target.name}.base"
    )
    project = target.project.config.project.name
    published = catalog.published(target.aws, target.name, target.regions, project=project)
    found = Found(base, tuple(published))
    version = target.image.version
    # SemVer precedence ignores build metadata: 1.0.0+rebuild is 1.0.0 (review 4.4).
    same = (p for p in found.published if catalog.same_version(p.version, version))
    if clash := next(same, None):
        where, ami = next(iter(clash.amis.items()))
        raise VersionExistsError(
            f"{target.project.label}: images.{target.name}.version: {version} is already "
            f"published ({ami} in {where}); versions are immutable: "
            f"packerpy version bump {target.name} patch"
        )
    return found


def decide(
    target: Target,
    found: Found,
    *,
    git: Callable[[], provenance.GitState],
    force_bake: bool = False,
) -> BakePlan:
    """Render and fingerprint; reuse the newest version with that fingerprint, else bake.

    `git` is called only when baking: the tags need it, a reuse does not wait for it.
    """
    image, info, base = target.image, target.info, found.base
    rendered = render.render(target.project, target.name, target.settings, info, base_ami=base.id)
    fp = provenance.fingerprint(
        template=rendered.text,
        assets={rel: path.read_bytes() for rel, path in rendered.assets.items()},
        variables=image.variables,
        base_ami=base.id,
        packer_version=info.version_text,
        secret_names=image.secrets,
        amazon_plugin=rendered.amazon_plugin,
    )
    same = next((p for p in reversed(found.published) if p.fingerprint == fp), None)
    if same is not None and not force_bake:
        reason = (
            f"inputs unchanged: {target.name} {same.version} ({', '.join(same.amis.values())}) "
            f"has fingerprint {fp[:12]}; use --force-bake to bake {image.version} anyway"
        )
        return Reuse(published=same, reason=reason, fingerprint=fp, base_ami=base.id)
    tags = provenance.tags(
        git=git(),
        base_ami=base.id,
        base_ami_name=base.name,
        fingerprint=fp,
        packer_version=info.version_text,
        built_at=target.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        amazon_plugin=rendered.amazon_plugin,
    )
    return Bake(
        rendered=render.with_tags(rendered, tags), tags=tags, fingerprint=fp, base_ami=base.id
    )


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


def claim_version(target: Target, chosen: BakePlan, run: str) -> claim.Claim | None:
    """Claim the version before a bake (bake/claim.py); a reuse bakes nothing and needs none."""
    if isinstance(chosen, Reuse):
        return None
    image = target.image
    return claim.take(
        target.aws,
        target.regions[0],
        claim.parameter_name(target.project.config.project.name, target.name, image.version),
        claim.holder_now(run, chosen.fingerprint, target.started),
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
