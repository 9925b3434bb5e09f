"""The core commands: config -> render -> packer -> manifest -> steps -> typed result.

Nothing here prints. Progress leaves through the `on_event` callback; outcomes are frozen
result objects the CLI renders as text or JSON.
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from packerpy import manifest, packer, render, runs
from packerpy.aws import AwsClients
from packerpy.config import AwsSettings, Project, image_regions
from packerpy.errors import ManifestError, PackerpyError, PackerTemplateError
from packerpy.events import Event
from packerpy.steps import base as steps


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


def _packer_checks(info: packer.PackerInfo, files: render.RenderedFiles) -> None:
    diff = packer.fmt_diff(info, files.template)
    if diff is not None:
        raise PackerTemplateError(
            f"{files.template.name}: rendered template is not in `packer fmt` form; "
            "fix the Jinja2 template's layout (the diff follows)",
            tail=diff.splitlines()[-20:],
        )
    packer.init(info, files.template)
    packer.validate(info, files.template, files.var_file)


def validate(project: Project, settings: AwsSettings, only: str | None = None) -> ValidateResult:
    """Config, then each image's rendered template: python-hcl2, packer fmt -check, validate."""
    info = packer.detect()
    names = [only] if only else sorted(project.config.images)
    checked = []
    for name in names:
        image = project.image(name)
        steps.resolve(image.steps, where=f"{project.label}: images.{name}.steps")
        with tempfile.TemporaryDirectory(prefix="packerpy-validate-") as tmp:
            rendered, files = _render_files(project, name, settings, info, Path(tmp))
            _packer_checks(info, files)
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


def _in_background(fn: Callable[[], object]) -> Future[object]:
    """Run fn in a daemon thread: an abandoned check must not hold up the process's exit."""
    future: Future[object] = Future()

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


def build(
    project: Project,
    name: str,
    settings: AwsSettings,
    *,
    on_event: Callable[[Event], None] = lambda _event: None,
    timeout: float | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BuildResult:
    """Bake `name` with the real packer, then run its post-processing steps.

    Every outcome, failures included, is recorded in the run directory's result.json.
    """
    image = project.image(name)
    planned = steps.resolve(image.steps, where=f"{project.label}: images.{name}.steps")
    aws = AwsClients(settings)
    build_region = image_regions(image, settings.region)[0]
    reachable = _in_background(lambda: aws.check_reachable(build_region))
    info = packer.detect()
    run_dir = runs.create(project.runs_dir(), name, now())
    timings: dict[str, float] = {}
    record: dict[str, Any] = {
        "image": name,
        "version": image.version,
        "packer_version": info.version_text,
        "started_at": now().isoformat(),
    }
    try:
        with _timed(timings, "render"):
            # python-hcl2 is left to `packerpy validate`: packer validate below is the authority,
            # and skipping the parser's cold start saves ~0.25 s per build.
            files = render.write(render.render(project, name, settings, info), run_dir)
        with _timed(timings, "checks"):
            # No separate `packer validate`: packer build validates the whole template before
            # it launches anything, and a rejection there is reported as a template error.
            packer.init(info, files.template)
            reachable.result()
        # boto3's import and EC2 model load (~0.35 s) happen while packer bakes, not after.
        _in_background(lambda: aws.ec2(build_region))
        manifest_path = run_dir / manifest.MANIFEST_NAME
        manifest_path.unlink(missing_ok=True)  # a stale manifest must not pass for this run's
        with _timed(timings, "bake"):
            packer.build(
                info,
                files.template,
                files.var_file,
                log_path=run_dir / runs.LOG_NAME,
                on_event=on_event,
                timeout=timeout,
            )
        artifacts = manifest.read(manifest_path)
        if len(artifacts) != 1:
            raise ManifestError(
                f"{manifest_path}: expected one artifact for image {name!r}, got {len(artifacts)}"
            )
        built = steps.BuiltImage(
            image=name, version=image.version, amis=artifacts[0].amis, config=image
        )
        record["amis"] = dict(built.amis)
        results = []
        with _timed(timings, "steps"):
            for step in planned:
                results.append(step.run(steps.StepContext(built=built, aws=aws)))
        result = BuildResult(
            image=name,
            version=image.version,
            amis=dict(built.amis),
            run_dir=str(run_dir),
            packer_version=info.version_text,
            steps=tuple(results),
            timings=timings,
        )
    except PackerpyError as exc:
        record.update(ok=False, error=exc.message, exit_code=exc.exit_code, timings=timings)
        runs.write_result(run_dir, record)
        raise
    record.update(ok=True, exit_code=0, **dataclasses.asdict(result))
    runs.write_result(run_dir, record)
    return result
