"""The step protocol: what a post-processing step receives and returns.

A step receives what was baked (image, version, region -> AMI) and the AWS client factory,
converges AWS to the config, and reports what it changed, or in a dry run what it would change.
Steps must be idempotent: run twice, the second run changes nothing and makes no mutating call.

Built-in steps plan typed actions and carry them out through release/operation.py, so each
StepResult holds both the structured actions and the one-line text rendered from them; a
third-party step may still build its StepResult directly (`outcome`).

"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from packerpy import naming
from packerpy.aws.clients import AwsClients
from packerpy.aws.images import ImageCache
from packerpy.aws.operation import Action, Operation, Outcome, cancelled
from packerpy.config import ImageConfig
from packerpy.contract import StepData
from packerpy.errors import Cancelled

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
    # `project.name` of packerpy.toml: the `packerpy:project` identity tag.
    project: str = naming.DEFAULT_PROJECT


def desired_tags(built: BuiltImage) -> dict[str, str]:
    """Every tag the AMI and its snapshots should carry (copy tags new copies, tag converges)."""
    return {
        **naming.identity_tags(built.project, built.image, built.version),
        **built.provenance,
        **built.config.tags,
    }


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
    # Set by Ctrl-C (or by a caller) to stop starting new actions; see release/operation.py.
    cancel: threading.Event = field(default_factory=threading.Event)

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
    # The structured actions `actions` was rendered from, and what executing them did. Kept out
    # of --json (`actions` carries the text there).
    plan: tuple[Action, ...] = ()
    outcome: Outcome | None = None

    def to_data(self) -> StepData:
        """What users see of a step (--json, result.json); `data`, `amis` and `plan` stay inside."""
        return StepData(
            step=self.step, changed=self.changed, actions=list(self.actions), dry_run=self.dry_run
        )


@dataclass(frozen=True)
class StepPlan:
    """What a built-in step would do: its actions, and data it reports either way."""

    actions: tuple[Action, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


def operation(ctx: StepContext) -> Operation:
    return Operation(ctx.aws.log, dry_run=ctx.dry_run, cancel=ctx.cancel)


def converge(
    step: str,
    ctx: StepContext,
    plan: StepPlan,
    *,
    amis: Mapping[str, str] | None = None,
) -> StepResult:
    """Execute (or in a dry run, only report) a step's plan; `changed` comes from the outcome."""
    done = operation(ctx).execute(plan.actions)
    return result_of(step, ctx, plan, done, amis=amis)


def result_of(
    step: str,
    ctx: StepContext,
    plan: StepPlan,
    done: Outcome,
    *,
    changed: bool | None = None,
    amis: Mapping[str, str] | None = None,
) -> StepResult:
    return StepResult(
        step=step,
        changed=done.changed if changed is None else changed,
        actions=done.lines(plan.actions),
        dry_run=ctx.dry_run,
        data=plan.data,
        amis=amis,
        plan=plan.actions,
        outcome=done,
    )


def outcome(
    step: str,
    ctx: StepContext,
    actions: Sequence[str | None],
    *,
    data: Mapping[str, Any] | None = None,
    amis: Mapping[str, str] | None = None,
) -> StepResult:
    """A result from one-line action texts, for third-party steps that plan no typed actions
    (one text per region that needed work, None where none did)."""
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
    """Run steps in order; a step that changes where the image exists updates the rest's input.

    Ctrl-C, or `ctx.cancel` set, stops before the next action or step and raises `Cancelled`
    carrying every step's outcome so far.
    """
    results: list[StepResult] = []
    for index, step in enumerate(steps):
        try:
            if ctx.cancel.is_set():
                raise Cancelled("cancelled before the step started")
            result = step.run(ctx)
        except KeyboardInterrupt:  # outside an apply, e.g. while a step reads its plan
            ctx.cancel.set()
            raise _stopped(results, steps[index:], None) from None
        except Cancelled as exc:
            partial = exc.outcome if isinstance(exc.outcome, Outcome) else None
            raise _stopped(results, steps[index + (partial is not None) :], partial) from None
        results.append(result)
        if result.amis is not None:
            ctx = dataclasses.replace(
                ctx, built=dataclasses.replace(ctx.built, amis=dict(result.amis))
            )
    return ctx.built, results


def _stopped(
    results: Sequence[StepResult], rest: Sequence[Step], partial: Outcome | None
) -> Cancelled:
    total = Outcome(cancelled=True)
    for earlier in results:
        total += earlier.outcome or Outcome()
    total += partial or Outcome()
    error = cancelled(total, what="steps")
    error.detail += tuple(f"not started: step {step.name}" for step in rest)
    return error


@runtime_checkable
class Step(Protocol):
    name: ClassVar[str]

    def run(self, ctx: StepContext) -> StepResult: ...
