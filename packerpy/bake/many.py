"""`build A B C` and `build --all`: several images at once, at most `jobs` at a time.

Each image is one ordinary build (its own run record); one failure does not stop the others.
Ctrl-C (or SIGTERM) reaches the main thread only: it cancels every running packer through
support.cancel, drops the builds not yet started, and waits for the clean-up of the others.
The overall exit code is the worst one (`worst`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from packerpy.aws.settings import AwsSettings
from packerpy.bake import pipeline
from packerpy.bake.options import BuildOptions
from packerpy.config import Project
from packerpy.contract import BuildImageResultData, BuildManyData
from packerpy.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, PackerpyError
from packerpy.support import cancel, signals
from packerpy.support.pool import wait_all

DEFAULT_JOBS = 2


@dataclass(frozen=True)
class ImageOutcome:
    image: str
    status: str  # built, skipped or failed
    version: str
    run_dir: str | None
    exit_code: int
    phase: str | None = None
    error: str | None = None
    amis: dict[str, str] = field(default_factory=dict)

    def to_data(self) -> BuildImageResultData:
        return BuildImageResultData(
            image=self.image,
            status=self.status,
            version=self.version,
            run_dir=self.run_dir,
            exit_code=self.exit_code,
            phase=self.phase,
            error=self.error,
            amis=dict(self.amis),
        )


@dataclass(frozen=True)
class ManyResult:
    outcomes: tuple[ImageOutcome, ...]

    @property
    def exit_code(self) -> int:
        return worst(o.exit_code for o in self.outcomes)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def to_data(self) -> BuildManyData:
        return BuildManyData(
            images=[o.to_data() for o in self.outcomes],
            exit_code=self.exit_code,
            built=self.count("built"),
            skipped=self.count("skipped"),
            failed=self.count("failed"),
        )


def worst(codes: Iterable[int]) -> int:
    """130 if any build was interrupted, else the highest code (0 when all succeeded).

    An interrupt is what the user did to the whole run; among failures the highest code is
    the most specific one (e.g. 9 'bump the version' over 6 'packer failed'), and any
    non-zero code fails a CI job as it should.
    """
    found = list(codes)
    if EXIT_INTERRUPTED in found:
        return EXIT_INTERRUPTED
    return max(found, default=EXIT_OK)


def _one(project: Project, name: str, settings: AwsSettings, options: BuildOptions) -> ImageOutcome:
    version = project.image(name).version
    try:
        result = pipeline.build(project, name, settings, options)
    except PackerpyError as exc:
        data = exc.data
        return ImageOutcome(
            image=name,
            status="failed",
            version=version,
            run_dir=str(data["run_dir"]) if "run_dir" in data else None,
            exit_code=exc.exit_code,
            phase=str(data["phase"]) if data.get("phase") else None,
            error=exc.message,
        )
    except Exception as exc:  # noqa: BLE001 - a bug in one image must not hide the others
        error = f"internal error: {type(exc).__name__}: {exc}"
        return ImageOutcome(name, "failed", version, None, EXIT_INTERNAL, error=error)
    return ImageOutcome(
        image=name,
        status="skipped" if result.skipped else "built",
        version=result.version,
        run_dir=result.run_dir,
        exit_code=EXIT_OK,
        amis=dict(result.amis),
    )


def _interrupted(name: str, version: str) -> ImageOutcome:
    return ImageOutcome(name, "failed", version, None, EXIT_INTERRUPTED, error="not started")


def build_many(
    project: Project,
    names: Sequence[str],
    settings: AwsSettings,
    options_for: Callable[[str], BuildOptions],
    jobs: int = DEFAULT_JOBS,
) -> ManyResult:
    """Build each of `names` (at most `jobs` at once); every image gets an outcome."""
    for name in names:
        project.image(name)  # an unknown name fails before anything starts
    futures: dict[str, Future[ImageOutcome]] = {}
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="packerpy-build") as pool:
        try:
            # Signals held while submitting: a Ctrl-C between submit() returning and the
            # future being stored would leave a running build unaccounted for ("not started").
            with signals.held():
                for name in names:
                    futures[name] = pool.submit(_one, project, name, settings, options_for(name))
            wait_all(futures.values())
        except KeyboardInterrupt:
            for future in futures.values():
                future.cancel()
            cancel.cancel_all()
            wait_all(futures.values())  # packer's clean-up finishes; later signals are absorbed
    return ManyResult(tuple(_outcome(name, futures.get(name), project) for name in names))


def _outcome(name: str, future: Future[ImageOutcome] | None, project: Project) -> ImageOutcome:
    if future is None or future.cancelled():
        return _interrupted(name, project.image(name).version)
    return future.result()
