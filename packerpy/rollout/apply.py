"""`packerpy rollout`: plan a rollout, then print it (the default) or carry it out.

The one entry point for both strategies. A failed gate returns to blue and raises RolledBack
(exit 17); Ctrl-C stops between calls and leaves the state tagged, so a re-run resumes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from packerpy.aws.clients import AwsClients
from packerpy.aws.operation import Action, Mode, Operation, Outcome
from packerpy.errors import RolledBack
from packerpy.rollout import bluegreen, prepare, rolling
from packerpy.rollout.control import Restore, restore_blue
from packerpy.rollout.groups import Groups, channel_ami
from packerpy.rollout.health import AbortRequested, Health, Unhealthy
from packerpy.rollout.model import Event, RolloutOptions, StepRecord


@dataclass(frozen=True)
class Channel:
    """Where the channel's AMI is read: `[project] ssm_prefix` and the project's name."""

    prefix: str
    project: str


@dataclass(frozen=True)
class RolloutResult:
    options: RolloutOptions
    ami: str
    from_ami: str
    version: str
    blue: str
    green: str
    resumed_from: int | None  # the steps a resumed rollout found done
    plan: tuple[Action, ...]
    outcome: Outcome
    steps: tuple[StepRecord, ...]
    seconds: float
    calls: int
    mutating: tuple[tuple[str, str], ...]


def _plan(run: bluegreen.Run) -> tuple[Action, ...]:
    if run.options.strategy == "rolling":
        return rolling.plan(run)
    return bluegreen.plan(run)


def _rolled_back(aws: AwsClients, run: bluegreen.Run, reason: Exception, mode: Mode) -> RolledBack:
    options = run.options
    how = Restore(options.health_timeout, options.poll, mode.cancel, options.on_event)
    if isinstance(reason, AbortRequested):
        return RolledBack(f"{run.target.blue.name}: {reason.message}; the abort restores blue")
    done = restore_blue(aws, run.groups, run.target.blue, how)
    return RolledBack(
        f"{run.target.blue.name}: {reason}; returned to blue ({run.state.from_ami})",
        detail=done,
    )


def rollout(
    aws: AwsClients, channel: Channel, options: RolloutOptions, mode: Mode | None = None
) -> RolloutResult:
    """Plan; a dry run (the default mode) stops there, apply runs it and returns to blue on a
    failed gate."""
    mode = mode or Mode(dry_run=True)
    began = time.monotonic()
    ami = channel_ami(
        aws, options.region, channel.prefix, channel.project, options.image, options.channel
    )
    found = prepare.target(aws, options, ami)
    run = bluegreen.new_run(
        aws, options, found, Health(aws, Groups(aws, options.region), options, began)
    )
    plan = _plan(run)
    if found.resume is not None:
        options.on_event(Event("resume", f"resuming after step {found.resume.done}"))
    operation = Operation(aws.log, dry_run=mode.dry_run, cancel=mode.cancel)
    try:
        outcome = operation.execute(plan)
    except (Unhealthy, AbortRequested) as exc:
        raise _rolled_back(aws, run, exc, mode) from None
    return RolloutResult(
        options=options,
        ami=ami,
        from_ami=found.from_ami,
        version=found.version,
        blue=found.blue.name,
        green=run.state.green,
        resumed_from=found.resume.done if found.resume else None,
        plan=plan,
        outcome=outcome,
        steps=tuple(run.records),
        seconds=time.monotonic() - began,
        calls=len(aws.log.calls),
        mutating=tuple(aws.log.mutating),
    )
