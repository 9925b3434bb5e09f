"""The core commands: validate, render, and build (plan -> execute -> steps, in a run record).

Nothing here prints. Progress leaves through the `on_event` and `progress` callbacks; outcomes
are frozen result objects the CLI renders as text or JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Unpack

from packerpy import records
from packerpy.aws.clients import AwsClients
from packerpy.aws.images import ImageCache
from packerpy.aws.settings import AwsSettings
from packerpy.bake import adopted, execute, failure, gates, orphans, plan
from packerpy.bake.options import BuildOptions, BuildOverrides
from packerpy.bake.validation import ImageCheck, RenderResult, ValidateResult, render_to, validate
from packerpy.compliance import record as compliance
from packerpy.config import Project, image_regions
from packerpy.contract import BuildData
from packerpy.packer import binary as packer
from packerpy.steps import protocol as steps
from packerpy.steps import registry
from packerpy.vuln import store as sbom

# validate and render live in validation.py, the options in options.py; callers have always
# found them here.
__all__ = [
    "BuildOptions",
    "BuildOverrides",
    "BuildResult",
    "ImageCheck",
    "RenderResult",
    "ValidateResult",
    "build",
    "render_to",
    "validate",
]


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


def build(
    project: Project,
    name: str,
    settings: AwsSettings,
    options: BuildOptions | None = None,
    **overrides: Unpack[BuildOverrides],
) -> BuildResult:
    """Bake `name` with the real packer, then run its post-processing steps.

    A published version is skipped when built from these inputs, else refused (bake/inputs).
    When an AMI of this image was built from identical inputs (same fingerprint), the bake is
    skipped and the steps run on that AMI instead, unless `force_bake`. Every outcome is
    recorded in the run directory's result.json.
    """
    opts = dataclasses.replace(options or BuildOptions(), **overrides)
    # Config mistakes (unknown step, missing secret) fail before a run directory exists.
    planned = registry.resolve(
        project.image(name).steps, where=f"{project.label}: images.{name}.steps"
    )
    secrets = gates.read_secrets(project, name, opts.environ)
    aws, region = AwsClients(settings), image_regions(project.image(name), settings.region)[0]
    preflight = plan.Preflight(aws, region, project)
    check = orphans.start_check(project, aws, region)
    target = plan.Target(project, name, settings, aws, packer.detect(), opts.now())
    execute.check_flags(target.info, opts.flags)
    record = records.RunRecord(
        project.runs_dir(), name, target.started, _header(target), opts.on_phase
    )
    with record, failure.annotated(target, record):
        chosen = _plan(target, preflight, record, opts)
        orphans.warn(check, record, opts.progress)
        held = None
        if not isinstance(chosen, plan.Reuse):  # a reuse bakes nothing and claims nothing
            with record.phase("claim"):
                held = plan.claim_version(target, chosen.fingerprint, record.dir.name)
            record.note(claim=held.name if held else None)
        with plan.releasing(held):
            built, seed = _make_image(target, chosen, record, opts, secrets)
        if held:
            held.record(dict(built.amis))
        record.note(amis=dict(built.amis))
        built, results = _after_bake(target, built, seed, planned, record, opts)
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


def _after_bake(
    target: plan.Target,
    built: steps.BuiltImage,
    seed: dict[tuple[str, str], Any],
    planned: list[steps.Step],
    record: records.RunRecord,
    opts: BuildOptions,
) -> tuple[steps.BuiltImage, list[steps.StepResult]]:
    """The SBOM and its tags, the post-processing steps, the compliance score's tags."""
    aws = target.aws
    built = sbom.record_for_build(built, record, aws)  # the SBOM tags join the provenance
    with record.phase("steps"):
        context = steps.StepContext(
            built=built, aws=aws, progress=opts.progress, images=ImageCache(aws, seed)
        )
        built, results = steps.run_all(planned, context)
        compliance.tag_scan(target.image, record.dir, built.amis, aws)
    return built, list(results)


def _plan(
    target: plan.Target, preflight: plan.Preflight, record: records.RunRecord, opts: BuildOptions
) -> plan.BakePlan | adopted.AdoptedBake:
    """Lint, look up what exists, render: reuse an identical AMI, refuse, or bake."""
    with record.phase("lint"):
        if opts.skip_lint:
            record.note(lint="skipped (--skip-lint)")
        else:
            record.note(lint=gates.lint_gate(target.project, target.info))
    with record.phase("lookup"):
        found = plan.look_up(target, preflight)
    with record.phase("render"):
        choice = dataclasses.replace(
            opts.choice, force_bake=opts.force_bake or opts.choice.force_bake
        )
        # An adopted template directory is read, never rendered (bake/adopted.py).
        decide = adopted.decide if target.image.template_dir else plan.decide
        chosen = decide(target, found, git=preflight.git, choice=choice)
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
    chosen: plan.BakePlan | adopted.AdoptedBake,
    record: records.RunRecord,
    opts: BuildOptions,
    secrets: Mapping[str, str],
) -> tuple[steps.BuiltImage, dict[tuple[str, str], Any]]:
    """The image the steps work on, and what is already known of it (an ImageCache seed)."""
    if isinstance(chosen, plan.Reuse):
        return plan.reused_image(target, chosen), chosen.published.image_cache_seed()
    if isinstance(chosen, adopted.AdoptedBake):
        with record.phase("bake"):
            amis = adopted.run(
                target.info,
                chosen,
                record.dir,
                on_event=opts.on_event,
                timeout=opts.timeout,
                on_start=record.child_started,
                endpoint=target.settings.endpoint_url,
            )
        return execute.baked_image(target, chosen.tags, amis), {}
    with record.phase("init"):
        files = execute.prepare(target.info, orphans.with_run_id(chosen, record.run_id), record.dir)
        var_files = execute.copy_var_files(opts.choice.user, record.dir)
    with record.phase("bake"):
        execute.run_packer(
            target.info,
            files,
            on_event=opts.on_event,
            timeout=opts.timeout,
            secrets=secrets,
            on_start=record.child_started,
            flags=dataclasses.replace(
                opts.flags, variables=opts.choice.user.pairs, var_files=var_files
            ),
            endpoint=target.settings.endpoint_url,
        )
    with record.phase("manifest"):
        amis = execute.read_amis(files, opts.flags)
    return execute.baked_image(target, chosen.tags, amis), {}
