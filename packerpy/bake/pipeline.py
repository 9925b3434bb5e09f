"""The core commands: validate, render, and build (plan -> execute -> steps, in a run record).

Nothing here prints. Progress leaves through the `on_event` and `progress` callbacks; outcomes
are frozen result objects the CLI renders as text or JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict, Unpack

from packerpy import records
from packerpy.aws.clients import AwsClients
from packerpy.aws.images import ImageCache
from packerpy.aws.settings import AwsSettings
from packerpy.bake import execute, orphans, plan, validation
from packerpy.bake.validation import ImageCheck as ImageCheck  # `validate` moved there
from packerpy.bake.validation import ValidateResult as ValidateResult
from packerpy.bake.validation import validate as validate
from packerpy.config import Project, image_regions
from packerpy.contract import BuildData
from packerpy.packer import binary as packer
from packerpy.packer.events import Event
from packerpy.steps import protocol as steps
from packerpy.steps import registry


@dataclass(frozen=True)
class RenderResult:
    image: str
    template: str
    var_file: str
    source: str
    packer_version: str


@dataclass(frozen=True)
class BuildResult:
    image: str
    version: str
    amis: dict[str, str]
    run_dir: str
    packer_version: str
    steps: tuple[steps.StepResult, ...]
    skipped: bool = False  # True when an AMI with identical inputs already existed
    reason: str | None = None
    fingerprint: str = ""
    base_ami: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def to_data(self) -> BuildData:
        """The public form (`build --json` and result.json), declared in packerpy.contract."""
        return BuildData(
            image=self.image,
            version=self.version,
            amis=dict(self.amis),
            run_dir=self.run_dir,
            packer_version=self.packer_version,
            steps=[step.to_data() for step in self.steps],
            skipped=self.skipped,
            reason=self.reason,
            fingerprint=self.fingerprint,
            base_ami=self.base_ami,
            timings=dict(self.timings),
        )


def _ignore(_value: object) -> None:
    """The default callback: progress goes nowhere."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BuildOptions:
    """How to build, apart from what: callbacks, limits and overrides of the defaults."""

    on_event: Callable[[Event], None] = _ignore  # packer's progress
    progress: Callable[[str], None] = _ignore  # the steps' progress lines
    timeout: float | None = None  # cancel packer after this many seconds
    force_bake: bool = False  # bake even when an AMI with identical inputs exists
    skip_lint: bool = False  # bake despite lint errors (the run record says so)
    now: Callable[[], datetime] = _utc_now
    environ: Mapping[str, str] | None = None  # where secrets are read; None: os.environ
    on_phase: Callable[[str], None] = _ignore  # progress hook: a phase (lint, bake...) starts


class BuildOverrides(TypedDict, total=False):
    """BuildOptions' fields as keyword arguments of build(), as callers have always passed them."""

    on_event: Callable[[Event], None]
    progress: Callable[[str], None]
    timeout: float | None
    force_bake: bool
    skip_lint: bool
    now: Callable[[], datetime]
    environ: Mapping[str, str] | None
    on_phase: Callable[[str], None]


def render_to(project: Project, name: str, settings: AwsSettings, out_dir: Path) -> RenderResult:
    """Write the HCL packerpy would run for `name` into out_dir."""
    info = packer.detect()
    rendered, files = validation.render_files(project, name, settings, info, out_dir)
    return RenderResult(
        image=name,
        template=str(files.template),
        var_file=str(files.var_file),
        source=str(rendered.template),
        packer_version=info.version_text,
    )


def build(
    project: Project,
    name: str,
    settings: AwsSettings,
    options: BuildOptions | None = None,
    **overrides: Unpack[BuildOverrides],
) -> BuildResult:
    """Bake `name` with the real packer, then run its post-processing steps.

    A version that is already published is refused. When an AMI of this image was built from
    identical inputs (same fingerprint), the bake is skipped and the steps run on that AMI
    instead, unless `force_bake`. Every outcome, failures and interrupts included, is recorded
    in the run directory's result.json.
    """
    opts = dataclasses.replace(options or BuildOptions(), **overrides)
    # Config mistakes (unknown step, missing secret) fail before a run directory exists.
    planned = registry.resolve(
        project.image(name).steps, where=f"{project.label}: images.{name}.steps"
    )
    secrets = plan.read_secrets(project, name, opts.environ)
    aws = AwsClients(settings)
    region = image_regions(project.image(name), settings.region)[0]
    preflight = plan.Preflight(aws, region, project)
    check = orphans.start_check(project, aws, region)
    target = plan.Target(project, name, settings, aws, packer.detect(), opts.now())
    with records.RunRecord(
        project.runs_dir(), name, target.started, _header(target), opts.on_phase
    ) as record:
        chosen = _plan(target, preflight, record, opts)
        orphans.warn(check, record, opts.progress)
        held = None
        if isinstance(chosen, plan.Bake):  # a reuse bakes nothing and claims nothing
            with record.phase("claim"):
                held = plan.claim_version(target, chosen, record.dir.name)
            record.note(claim=held.name if held else None)
        with plan.releasing(held):
            built, seed = _make_image(target, chosen, record, opts, secrets)
        if held:
            held.record(dict(built.amis))
        record.note(amis=dict(built.amis))
        with record.phase("steps"):
            context = steps.StepContext(
                built=built, aws=aws, progress=opts.progress, images=ImageCache(aws, seed)
            )
            built, results = steps.run_all(planned, context)
        result = BuildResult(
            image=name,
            version=built.version,
            amis=dict(built.amis),
            run_dir=str(record.dir),
            packer_version=target.info.version_text,
            steps=tuple(results),
            skipped=isinstance(chosen, plan.Reuse),
            reason=chosen.reason if isinstance(chosen, plan.Reuse) else None,
            fingerprint=chosen.fingerprint,
            base_ami=chosen.base_ami,
            timings=record.timings,
        )
        record.succeed(result.to_data())
    return result


def _plan(
    target: plan.Target, preflight: plan.Preflight, record: records.RunRecord, opts: BuildOptions
) -> plan.BakePlan:
    """Lint, look up what exists, render: reuse an identical AMI, refuse, or bake."""
    with record.phase("lint"):
        if opts.skip_lint:
            record.note(lint="skipped (--skip-lint)")
        else:
            record.note(lint=plan.lint_gate(target.project, target.info))
    with record.phase("lookup"):
        found = plan.look_up(target, preflight)
    with record.phase("render"):
        chosen = plan.decide(target, found, git=preflight.git, force_bake=opts.force_bake)
    record.note(fingerprint=chosen.fingerprint, base_ami=chosen.base_ami)
    return chosen


def _header(target: plan.Target) -> dict[str, Any]:
    """What result.json says about every run, however it ends."""
    return {
        "image": target.name,
        "version": target.image.version,  # the configured one; a reuse reports the reused one
        "packer_version": target.info.version_text,
        "secrets": list(target.image.secrets),  # names only
    }


def _make_image(
    target: plan.Target,
    chosen: plan.BakePlan,
    record: records.RunRecord,
    opts: BuildOptions,
    secrets: Mapping[str, str],
) -> tuple[steps.BuiltImage, dict[tuple[str, str], Any]]:
    """The image the steps work on, and what is already known of it (an ImageCache seed)."""
    if isinstance(chosen, plan.Reuse):
        return plan.reused_image(target, chosen), chosen.published.image_cache_seed()
    with record.phase("init"):
        files = execute.prepare(target.info, orphans.with_run_id(chosen, record.run_id), record.dir)
    with record.phase("bake"):
        amis = execute.run_packer(
            target.info,
            files,
            on_event=opts.on_event,
            timeout=opts.timeout,
            secrets=secrets,
            on_start=record.child_started,
        )
    return execute.baked_image(target, chosen, amis), {}
