"""The step protocol and registry.

A step receives what was baked (image, version, region -> AMI) and the AWS client factory,
converges AWS to the config, and reports what it changed, or in a dry run what it would change.
Steps must be idempotent: run twice, the second run changes nothing and makes no mutating call.

Third-party steps register under the entry-point group `packerpy.steps`:

    [project.entry-points."packerpy.steps"]
    notify = "mypkg.steps:NotifyStep"
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from packerpy.aws import AwsClients, translated
from packerpy.config import ImageConfig
from packerpy.errors import AwsError, ConfigError

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import ImageTypeDef

ENTRY_POINT_GROUP = "packerpy.steps"
T = TypeVar("T")


@dataclass(frozen=True)
class BuiltImage:
    """What a bake produced (or, for later runs, what already exists): the input to every step."""

    image: str
    version: str
    amis: Mapping[str, str]  # region -> AMI id
    config: ImageConfig
    # packerpy:* tags recording how it was built (git, base AMI, fingerprint, packer, time).
    provenance: Mapping[str, str] = field(default_factory=dict)
    # Where the image should exist (config regions, else the AWS region in effect).
    regions: tuple[str, ...] = ()


class ImageCache:
    """DescribeImages results shared by the steps of one run, so each AMI is described once.

    A step that changes what a description holds (tags, deprecation time) calls `forget`.
    """

    def __init__(self, aws: AwsClients, seed: Mapping[tuple[str, str], Any] | None = None) -> None:
        self._aws = aws
        self._images: dict[tuple[str, str], Any] = dict(seed or {})
        self._lock = threading.Lock()

    def get(self, region: str, ami: str) -> ImageTypeDef:
        with self._lock:
            cached = self._images.get((region, ami))
        if cached is not None:
            image: ImageTypeDef = cached
            return image
        with translated(f"describe {ami}", region):
            found = self._aws.ec2(region).describe_images(ImageIds=[ami])["Images"]
        if not found:
            raise AwsError(f"aws {region}: {ami} does not exist")
        with self._lock:
            self._images[(region, ami)] = found[0]
        return found[0]

    def forget(self, region: str, ami: str) -> None:
        with self._lock:
            self._images.pop((region, ami), None)


@dataclass(frozen=True)
class StepContext:
    built: BuiltImage
    aws: AwsClients
    dry_run: bool = False
    # Remove what the config no longer asks for (e.g. dropped shares) instead of reporting it.
    prune: bool = False
    progress: Callable[[str], None] = lambda _line: None
    # Defaults to an empty cache over `aws` (set in __post_init__; dataclass defaults cannot
    # depend on another field).
    images: ImageCache = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.images is None:
            object.__setattr__(self, "images", ImageCache(self.aws))


@dataclass(frozen=True)
class StepResult:
    step: str
    changed: bool
    # One line per change made (or, in a dry run, planned), e.g. "us-east-1: tag ami-1, snap-2".
    actions: tuple[str, ...] = ()
    dry_run: bool = False
    data: Mapping[str, Any] = field(default_factory=dict)
    # Set by steps that add regions (copy): region -> AMI after the step, for the steps after it.
    amis: Mapping[str, str] | None = None


MAX_REGION_WORKERS = 8


def outcome(
    step: str,
    ctx: StepContext,
    actions: Sequence[str | None],
    *,
    data: Mapping[str, Any] | None = None,
    amis: Mapping[str, str] | None = None,
) -> StepResult:
    """The usual result: one action per region that needed work (None where none did)."""
    done = tuple(action for action in actions if action)
    return StepResult(
        step=step,
        changed=bool(done) and not ctx.dry_run,
        actions=done,
        dry_run=ctx.dry_run,
        data=data or {},
        amis=amis,
    )


def per_region(regions: Sequence[str], work: Callable[[str], T]) -> list[T]:
    """Run `work` for each region concurrently (bounded), results in the regions' order."""
    if len(regions) <= 1:
        return [work(region) for region in regions]
    with ThreadPoolExecutor(max_workers=min(MAX_REGION_WORKERS, len(regions))) as pool:
        return list(pool.map(work, regions))


def run_all(steps: Sequence[Step], ctx: StepContext) -> tuple[BuiltImage, list[StepResult]]:
    """Run steps in order; a step that changes where the image exists updates the rest's input."""
    results = []
    for step in steps:
        result = step.run(ctx)
        results.append(result)
        if result.amis is not None:
            ctx = dataclasses.replace(
                ctx, built=dataclasses.replace(ctx.built, amis=dict(result.amis))
            )
    return ctx.built, results


@runtime_checkable
class Step(Protocol):
    name: ClassVar[str]

    def run(self, ctx: StepContext) -> StepResult: ...


def _builtin() -> dict[str, type[Step]]:
    # Imported here: the step modules import this one.
    from packerpy.steps.copy import CopyStep  # noqa: PLC0415
    from packerpy.steps.deprecate import DeprecateStep  # noqa: PLC0415
    from packerpy.steps.share import ShareStep  # noqa: PLC0415
    from packerpy.steps.tag import TagStep  # noqa: PLC0415

    return {step.name: step for step in (CopyStep, ShareStep, TagStep, DeprecateStep)}


def available() -> dict[str, type[Step]]:
    """Built-in steps plus those installed under the entry-point group (built-ins win)."""
    found: dict[str, type[Step]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.load()
    return {**found, **_builtin()}


def resolve(names: Sequence[str], *, where: str) -> list[Step]:
    """Instantiate the configured steps in order; an unknown name is a ConfigError."""
    known = available()
    steps: list[Step] = []
    for index, name in enumerate(names):
        if name not in known:
            raise ConfigError(
                f"{where}[{index}]: {name!r} is not a known step "
                f"(known: {', '.join(sorted(known))})"
            )
        step = known[name]()
        if not isinstance(step, Step):
            raise ConfigError(f"{where}[{index}]: {name!r} does not implement the step protocol")
        steps.append(step)
    return steps
