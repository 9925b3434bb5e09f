"""The step protocol: what a post-processing step receives and returns.

A step receives what was baked (image, version, region -> AMI) and the AWS client factory,
converges AWS to the config, and reports what it changed, or in a dry run what it would change.
Steps must be idempotent: run twice, the second run changes nothing and makes no mutating call.

"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from packerpy.aws.clients import AwsClients
from packerpy.aws.images import ImageCache
from packerpy.config import ImageConfig

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
