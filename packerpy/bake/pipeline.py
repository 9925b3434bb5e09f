"""The core commands: config -> render -> packer -> manifest -> steps -> typed result.

Nothing here prints. Progress leaves through the `on_event` callback; outcomes are frozen
result objects the CLI renders as text or JSON.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from packerpy import records as runs
from packerpy.aws.clients import AwsClients
from packerpy.aws.images import ImageCache
from packerpy.aws.settings import AwsSettings
from packerpy.bake import provenance
from packerpy.config import Project, image_regions
from packerpy.errors import (
    ConfigError,
    ManifestError,
    PackerpyError,
    PackerTemplateError,
    PolicyError,
    VersionExistsError,
)
from packerpy.estate import catalog
from packerpy.estate.base_ami import resolve_base
from packerpy.packer import binary as packer
from packerpy.packer import manifest
from packerpy.packer.events import Event
from packerpy.render import jinja as render
from packerpy.steps import protocol as steps
from packerpy.steps import registry

T = TypeVar("T")


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
                checks=("config", "render", "python-hcl2", "packer fmt", "packer validate"),
            )
        )
    return ValidateResult(
        config=str(project.path), packer_version=info.version_text, images=tuple(checked)
    )


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


@contextmanager
def _timed(timings: dict[str, float], key: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = round(time.perf_counter() - start, 4)


def _bake(
    info: packer.PackerInfo,
    files: render.RenderedFiles,
    *,
    on_event: Callable[[Event], None],
    timeout: float | None,
    secrets: Mapping[str, str],
) -> dict[str, str]:
    """Run packer and return this run's region -> AMI from its manifest."""
    manifest_path = files.template.parent / manifest.MANIFEST_NAME
    manifest_path.unlink(missing_ok=True)  # a stale manifest must not pass for this run's
    packer.build(
        info,
        files.template,
        files.var_file,
        log_path=files.template.parent / runs.LOG_NAME,
        on_event=on_event,
        timeout=timeout,
        secrets=secrets,
    )
    artifacts = manifest.read(manifest_path)
    if len(artifacts) != 1:
        raise ManifestError(f"{manifest_path}: expected one artifact, got {len(artifacts)}")
    return artifacts[0].amis


def _read_secrets(project: Project, name: str, environ: Mapping[str, str] | None) -> dict[str, str]:
    """Each configured secret from the environment (HCL name -> value); missing is an error."""
    env = os.environ if environ is None else environ
    values = {}
    for index, secret in enumerate(project.image(name).secrets):
        if secret not in env:
            raise ConfigError(
                f"{project.label}: images.{name}.secrets[{index}]: environment variable "
                f"{secret!r} is not set (secrets are read from the environment, never from files)"
            )
        values[secret.lower()] = env[secret]
    return values


def _lint_gate(project: Project, info: packer.PackerInfo) -> dict[str, int]:
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


def build(
    project: Project,
    name: str,
    settings: AwsSettings,
    *,
    on_event: Callable[[Event], None] = lambda _event: None,
    timeout: float | None = None,
    force_bake: bool = False,
    progress: Callable[[str], None] = lambda _line: None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    environ: Mapping[str, str] | None = None,
    skip_lint: bool = False,
) -> BuildResult:
    """Bake `name` with the real packer, then run its post-processing steps.

    A version that is already published is refused. When an AMI of this image was built from
    identical inputs (same fingerprint), the bake is skipped and the steps run on that AMI
    instead, unless `force_bake`. Every outcome, failures included, is recorded in the run
    directory's result.json.
    """
    image = project.image(name)
    planned = registry.resolve(image.steps, where=f"{project.label}: images.{name}.steps")
    secrets = _read_secrets(project, name, environ)
    aws = AwsClients(settings)
    regions = image_regions(image, settings.region)
    reachable = _in_background(lambda: aws.check_reachable(regions[0]))
    # boto3's import and EC2 model load (~0.35 s) overlap packer's version check and lint.
    warm = _in_background(lambda: aws.ec2(regions[0]))
    git = _in_background(lambda: provenance.git_state(project.root))
    info = packer.detect()
    started = now()
    run_dir = runs.create(project.runs_dir(), name, started)
    timings: dict[str, float] = {}
    record: dict[str, Any] = {
        "image": name,
        "version": image.version,
        "packer_version": info.version_text,
        "started_at": started.isoformat(),
        "secrets": list(image.secrets),  # names only
    }
    try:
        with _timed(timings, "lint"):
            record["lint"] = "skipped (--skip-lint)" if skip_lint else _lint_gate(project, info)
        with _timed(timings, "lookup"):
            reachable.result()
            warm.result()
            base = resolve_base(aws, name, image, regions[0])
            existing = catalog.published(aws, name, regions)
        if clash := next((p for p in existing if p.version == image.version), None):
            region, ami = next(iter(clash.amis.items()))
            raise VersionExistsError(
                f"{project.label}: images.{name}.version: {image.version} is already published "
                f"({ami} in {region}); versions are immutable: packerpy version bump {name} patch"
            )
        with _timed(timings, "render"):
            rendered = render.render(project, name, settings, info, base_ami=base.id)
            fp = provenance.fingerprint(
                template=rendered.text,
                assets={rel: path.read_bytes() for rel, path in rendered.assets.items()},
                variables=image.variables,
                base_ami=base.id,
                packer_version=info.version_text,
                secret_names=image.secrets,
            )
        record.update(fingerprint=fp, base_ami=base.id)
        same = next((p for p in reversed(existing) if p.fingerprint == fp), None)
        seed: dict[tuple[str, str], Any] = {}
        if same is not None and not force_bake:
            seed = same.image_cache_seed()
            built = steps.BuiltImage(
                image=name,
                version=same.version,
                amis=same.amis,
                config=image,
                provenance=same.provenance(),
                regions=regions,
            )
            reason = (
                f"inputs unchanged: {name} {same.version} ({', '.join(same.amis.values())}) "
                f"has fingerprint {fp[:12]}; use --force-bake to bake {image.version} anyway"
            )
        else:
            tags = provenance.tags(
                git=git.result(),
                base_ami=base.id,
                base_ami_name=base.name,
                fingerprint=fp,
                packer_version=info.version_text,
                built_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            rendered = render.with_tags(rendered, tags)
            files = render.write(rendered, run_dir)
            with _timed(timings, "init"):
                # No separate `packer validate`: packer build validates the whole template
                # before it launches anything, and reports a rejection as a template error.
                packer.init(info, files.template)
            with _timed(timings, "bake"):
                amis = _bake(info, files, on_event=on_event, timeout=timeout, secrets=secrets)
            built = steps.BuiltImage(
                image=name,
                version=image.version,
                amis=amis,
                config=image,
                provenance=tags,
                regions=regions,
            )
            reason = None
        record["amis"] = dict(built.amis)
        with _timed(timings, "steps"):
            context = steps.StepContext(
                built=built, aws=aws, progress=progress, images=ImageCache(aws, seed)
            )
            built, results = steps.run_all(planned, context)
        result = BuildResult(
            image=name,
            version=built.version,
            amis=dict(built.amis),
            run_dir=str(run_dir),
            packer_version=info.version_text,
            steps=tuple(results),
            skipped=reason is not None,
            reason=reason,
            fingerprint=fp,
            base_ami=base.id,
            timings=timings,
        )
    except PackerpyError as exc:
        record.update(ok=False, error=exc.message, exit_code=exc.exit_code, timings=timings)
        runs.write_result(run_dir, record)
        raise
    record.update(ok=True, exit_code=0, **dataclasses.asdict(result))
    runs.write_result(run_dir, record)
    return result
