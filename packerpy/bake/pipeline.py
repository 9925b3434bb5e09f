"""The core commands: validate, render, and build (plan -> execute -> steps, in a run record).

Nothing here prints. Progress leaves through the `on_event` and `progress` callbacks; outcomes
are frozen result objects the CLI renders as text or JSON.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Unpack

from packerpy import records
from packerpy.aws.clients import AwsClients
from packerpy.aws.images import ImageCache
from packerpy.aws.settings import AwsSettings
from packerpy.bake import execute, failure, orphans, plan
from packerpy.bake.options import BuildOptions as BuildOptions
from packerpy.bake.options import BuildOverrides as BuildOverrides
from packerpy.config import Project, image_regions
from packerpy.contract import BuildData
from packerpy.errors import PackerTemplateError
from packerpy.estate import regions
from packerpy.packer import binary as packer
from packerpy.render import jinja as render
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
class ImageCheck:
    image: str
    source: str
    checks: tuple[str, ...]


@dataclass(frozen=True)
class ValidateResult:
    config: str
    packer_version: str
    images: tuple[ImageCheck, ...]


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


def _render_files(
    project: Project, name: str, settings: AwsSettings, info: packer.PackerInfo, out_dir: Path
) -> tuple[render.Rendered, render.RenderedFiles]:
    rendered = render.render(project, name, settings, info)
    files = render.write(rendered, out_dir)
    render.check_hcl(rendered.text, str(files.template))
    render.check_hcl(rendered.var_file_text, str(files.var_file))
    return rendered, files


def render_to(project: Project, name: str, settings: AwsSettings, out_dir: Path) -> RenderResult:
    """Write the HCL packerpy would run for `name` into out_dir."""
    info = packer.detect()
    rendered, files = _render_files(project, name, settings, info, out_dir)
    return RenderResult(
        image=name,
        template=str(files.template),
        var_file=str(files.var_file),
        source=str(rendered.template),
        packer_version=info.version_text,
    )


def _packer_checks(
    info: packer.PackerInfo, files: render.RenderedFiles, secret_names: Sequence[str]
) -> None:
    diff = packer.fmt_diff(info, files.template)
    if diff is not None:
        raise PackerTemplateError(
            f"{files.template.name}: rendered template is not in `packer fmt` form; "
            "fix the Jinja2 template's layout (the diff follows)",
            tail=diff.splitlines()[-20:],
        )
    packer.init(info, files.template)
    # Validation needs no real secret: a placeholder proves the template accepts the variable.
    placeholders = {name.lower(): "validate-placeholder" for name in secret_names}
    packer.validate(info, files.template, files.var_file, secrets=placeholders)


def validate(project: Project, settings: AwsSettings, only: str | None = None) -> ValidateResult:
    """Config, then each image's rendered template: python-hcl2, packer fmt -check, validate."""
    info = packer.detect()
    names = [only] if only else sorted(project.config.images)
    # Opt-in regions the account has not enabled: one DescribeRegions, or a note when offline.
    wanted = {
        f"{project.label}: images.{n}.regions": image_regions(project.image(n), settings.region)
        for n in names
    }
    opt_in = regions.validate_check(AwsClients(settings), wanted)
    checked = []
    for name in names:
        image = project.image(name)
        registry.resolve(image.steps, where=f"{project.label}: images.{name}.steps")
        with tempfile.TemporaryDirectory(prefix="packerpy-validate-") as tmp:
            rendered, files = _render_files(project, name, settings, info, Path(tmp))
            _packer_checks(info, files, image.secrets)
        checked.append(
            ImageCheck(
                image=name,
                source=str(rendered.template),
                checks=("config", "render", "python-hcl2", "packer fmt", "packer validate", opt_in),
            )
        )
    return ValidateResult(
        config=str(project.path), packer_version=info.version_text, images=tuple(checked)
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
    secrets = plan.read_secrets(project, name, opts.environ)
    aws, region = AwsClients(settings), image_regions(project.image(name), settings.region)[0]
    preflight = plan.Preflight(aws, region, project)
    check = orphans.start_check(project, aws, region)
    target = plan.Target(project, name, settings, aws, packer.detect(), opts.now())
    execute.check_flags(target.info, opts.flags)
    record = records.RunRecord(project.runs_dir(), name, target.started, _header(target))
    with record, failure.annotated(target, record):
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
        choice = dataclasses.replace(
            opts.choice, force_bake=opts.force_bake or opts.choice.force_bake
        )
        chosen = plan.decide(target, found, git=preflight.git, choice=choice)
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
        )
    with record.phase("manifest"):
        amis = execute.read_amis(files, opts.flags)
    return execute.baked_image(target, chosen, amis), {}
