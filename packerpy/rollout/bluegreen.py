"""Blue-green with canary steps: a green group beside blue, stepped up as blue steps down.

The plan is a tuple of `Action`s (aws/operation.py), so a dry run shows every call it would make
and makes none. Applied, its actions run in order in one region; a failed health gate raises
Unhealthy out of a step, and `run` then returns to blue (control.restore_blue) and raises
RolledBack (exit 17). After each step the blue group's `done` tag is rewritten, so a re-run after
a crash plans only the steps left.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from packerpy.aws.clients import AwsClients
from packerpy.aws.operation import Action
from packerpy.rollout import prepare, state
from packerpy.rollout.groups import Groups
from packerpy.rollout.health import Gate, Health
from packerpy.rollout.model import Event, RolloutOptions, StepRecord, green_sizes


@dataclass
class Run:
    """What the actions share while they run: the state as last tagged, the steps taken."""

    groups: Groups
    health: Health
    target: prepare.Target
    options: RolloutOptions
    state: state.State
    records: list[StepRecord] = field(default_factory=list)

    def save(self, **changes: Any) -> None:  # noqa: ANN401 - State fields
        self.state = replace(self.state, heartbeat=state.now(), **changes)
        self.groups.tag(self.target.blue.name, self.state.tags())


def green_name(found: prepare.Target) -> str:
    """`<name>-green-<version>-lt<template version>`: unique per attempt (AWS has no rename)."""
    version = found.version.replace("+", "_")
    return f"{found.logical}-green-{version}-lt{found.latest_version + 1}"


def claim_action(run: Run) -> Action:
    blue = run.target.blue.name

    def execute(_cancel: threading.Event) -> object:
        run.state = prepare.claim(run.groups, blue, run.state, run.target.logical)
        run.options.on_event(Event("claim", f"{blue}: claimed by {run.state.owner}"))
        return None

    detail = f"with {state.OWNER} and the rollout state (checked after {prepare.CLAIM_SETTLE:g} s)"
    return Action(
        run.options.region, "claim", (blue,), detail, payload=run.state.tags(), execute=execute
    )


def template_action(run: Run) -> Action:
    blue, found = run.target.blue, run.target

    def execute(_cancel: threading.Event) -> object:
        if blue.template_version == "$Latest":
            # A new version becomes $Latest: pinned first, blue never launches the new AMI.
            run.groups.pin(blue.name, blue.template_id, found.source_version)
        number = run.groups.new_template_version(blue.template_id, found.source_version, found.ami)
        run.save(template=f"{blue.template_id}:{found.source_version}:{number}")
        return f"version {number}"

    payload = {
        "LaunchTemplateId": blue.template_id,
        "SourceVersion": found.source_version,
        "LaunchTemplateData": {"ImageId": found.ami},
    }
    detail = f"from version {found.source_version} with ImageId {found.ami} (nothing else)"
    return Action(
        run.options.region,
        "create-launch-template-version",
        (blue.template_id,),
        detail,
        payload=payload,
        execute=execute,
    )


def _green(run: Run) -> Action:
    blue = run.target.blue

    def execute(_cancel: threading.Event) -> object:
        if run.groups.find(run.state.green) is None:
            tags = {
                state.NAME: run.target.logical,
                state.ROLE: "green",
                f"{state.P}blue": blue.name,
            }
            run.groups.create_green(blue, run.state.green, run.state.new_version, tags)
        return run.state.green

    detail = (
        f"beside {blue.name}: its subnets, {len(blue.target_groups)} target group(s), "
        f"{blue.health_check_type} health check and tags, at 0"
    )
    return Action(
        run.options.region,
        "create-auto-scaling-group",
        (run.state.green,),
        detail,
        payload={"AutoScalingGroupName": run.state.green, "MinSize": 0, "DesiredCapacity": 0},
        execute=execute,
    )


def _step(run: Run, index: int) -> Action:
    options, blue = run.options, run.target.blue
    low, high, total = run.state.blue_capacity
    percent = run.state.steps[index]
    size = green_sizes(total, run.state.steps)[index]
    left = total - size

    def execute(cancel: threading.Event) -> object:
        green = run.state.green
        options.on_event(
            Event(
                "step",
                f"step {index + 1}: {percent}% -> {green} at {size}",
                step=index + 1,
                wanted=size,
            )
        )
        run.health.check_abort(blue.name, force=True)
        run.groups.resize(green, desired=size, low=0, high=max(high, total))
        gate = Gate(green, size, blue.target_groups, blue.name)
        began = run.health.clock()
        readings = run.health.wait(gate, cancel, options.on_event)
        run.health.check_abort(blue.name, force=True)
        run.groups.resize(blue.name, desired=left, low=min(low, left), high=high)
        options.on_event(Event("shrink", f"{blue.name} to {left}", step=index + 1))
        run.records.append(
            StepRecord(index, percent, size, left, run.health.clock() - began, readings)
        )
        run.save(done=index + 1)
        return f"green {size}, blue {left}"

    detail = (
        f"{percent}%: {run.state.green} to {size}, wait until healthy (at most "
        f"{options.health_timeout:g} s), bake {options.bake_time:g} s, {blue.name} to {left}"
    )
    return Action(
        options.region,
        "step",
        (run.state.green, blue.name),
        detail,
        payload={"green": size, "blue": left, "percent": percent},
        execute=execute,
    )


def _finish(run: Run) -> Action:
    options, blue = run.options, run.target.blue

    def execute(_cancel: threading.Event) -> object:
        green = run.state.green
        run.health.check_abort(blue.name, force=True)
        run.groups.tag(green, {state.ROLE: "live", state.NAME: run.target.logical})
        run.groups.untag(green, (f"{state.P}blue",))
        if options.keep_blue:
            run.groups.tag(blue.name, {state.ROLE: "retired"})
            run.groups.untag(blue.name, state.STATE_KEYS)
        else:
            run.groups.delete(blue.name)
        options.on_event(Event("done", f"{green} is live as {run.target.logical}"))
        return green

    fate = "keep at 0 (retired)" if options.keep_blue else "delete"
    detail = f"{fate} {blue.name}; {run.state.green} becomes {run.target.logical}"
    return Action(options.region, "finish", (blue.name, run.state.green), detail, execute=execute)


def plan(run: Run) -> tuple[Action, ...]:
    """The actions left: all of them for a new rollout, the remaining steps for a resumed one."""
    actions: list[Action] = [claim_action(run)]
    if not run.state.new_version:
        actions.append(template_action(run))
    actions.append(_green(run))
    actions += [_step(run, i) for i in range(run.state.done, len(run.state.steps))]
    actions.append(_finish(run))
    return tuple(actions)


def new_run(aws: AwsClients, options: RolloutOptions, found: prepare.Target, health: Health) -> Run:
    groups = Groups(aws, options.region)
    if found.resume is not None:
        return Run(groups, health, found, options, found.resume)
    green = "" if options.strategy == "rolling" else green_name(found)
    begun = prepare.initial_state(found, options, green)
    return Run(groups, health, found, options, begun)
