"""Remove what killed runs left in AWS: builder instances, then their key pairs and groups.

A run killed outright (SIGKILL of packerpy and packer, the OOM killer, a lost CI machine) never
runs packer's clean-up. Its builder carries `packerpy:run` (run_tags); its `packer_*` key pair
and security group are linked through the instance. Unlinked `packer_*` ones are removed once
older than a grace period. Plan first, then a dry run or apply (aws/operation.py): in each
region, terminate and wait, then delete the groups (AWS refuses while an instance uses one),
then the key pairs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from packerpy import records
from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.operation import Action, Mode, Operation, Outcome
from packerpy.errors import AwsError, Cancelled
from packerpy.estate import builders
from packerpy.estate.builders import Builder, RegionBuilders, Temporary
from packerpy.support.pool import per_region

MAX_BAKE = records.MAX_BAKE
GRACE = timedelta(hours=1)
# Termination is polled like packer's own waiter (InstanceTerminated: 15 s x 40); deletions
# retry while AWS still sees the terminated instance's network interface (DependencyViolation).
POLL_SECONDS = 15.0
WAIT_LIMIT = timedelta(minutes=15)
DELETE_ATTEMPTS = 8


@dataclass(frozen=True)
class ReapOptions:
    runs_dir: Path  # where this project's run records (live.json) are
    max_bake: timedelta = MAX_BAKE  # a run of another host is dead past this
    grace: timedelta = GRACE  # an unlinked packer_* key pair or group is removed past this
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    poll: float = POLL_SECONDS


@dataclass(frozen=True)
class ReapResult:
    regions: tuple[str, ...]
    plan: tuple[Action, ...]
    outcome: Outcome
    calls: int
    mutating: tuple[tuple[str, str], ...]

    def removed(self, verb: str) -> list[str]:
        """Ids removed (or, in a dry run, to be) by `verb`'s actions; a group's name is left out."""
        actions = [a for a in self.plan if a.verb == verb and a.mutating]
        if verb == "terminate":
            return [r for a in actions for r in a.resources]
        return [a.resources[0] for a in actions]


def judge(options: ReapOptions) -> Callable[[Builder], tuple[bool, str]]:
    """(alive, why) for a builder's run, per records.run_alive."""

    def alive(builder: Builder) -> tuple[bool, str]:
        return records.run_alive(
            options.runs_dir,
            builder.run_id,
            launched=builder.launched,
            now=options.now,
            max_bake=options.max_bake,
        )

    return alive


def _terminate(
    aws: AwsClients, region: str, ids: tuple[str, ...], whys: Sequence[str], poll: float
) -> Action:
    def execute(cancel: threading.Event) -> object:
        ec2 = aws.ec2(region)
        with translated("terminate builder instances", region):
            ec2.terminate_instances(InstanceIds=list(ids))
        deadline = time.monotonic() + WAIT_LIMIT.total_seconds()
        while True:
            with translated("wait for termination", region):
                pages = ec2.describe_instances(InstanceIds=list(ids))["Reservations"]
            left = [i for r in pages for i in r["Instances"] if i["State"]["Name"] != "terminated"]
            if not left:
                return None
            if time.monotonic() > deadline:
                raise AwsError(f"aws {region}: {len(left)} instance(s) not terminated in time")
            if cancel.wait(poll):
                raise Cancelled("interrupted while waiting for termination")

    detail = f"({'; '.join(dict.fromkeys(whys))}) and wait until terminated"
    return Action(region, "terminate", ids, detail, execute=execute)


def _delete(aws: AwsClients, temp: Temporary, why: str, poll: float) -> Action:
    verb = "delete-security-group" if temp.kind == "security group" else "delete-key-pair"

    def call() -> None:
        ec2 = aws.ec2(temp.region)
        if temp.kind == "security group":
            ec2.delete_security_group(GroupId=temp.id)
        else:
            ec2.delete_key_pair(KeyName=temp.id)

    def execute(cancel: threading.Event) -> object:
        for attempt in range(DELETE_ATTEMPTS):
            try:
                with translated(f"delete {temp.kind} {temp.name}", temp.region):
                    call()
                return None
            except AwsError as exc:
                if "DependencyViolation" not in str(exc) or attempt == DELETE_ATTEMPTS - 1:
                    raise
            if cancel.wait(poll):
                raise Cancelled(f"interrupted while deleting {temp.name}")
        return None

    resources = (temp.id,) if temp.id == temp.name else (temp.id, temp.name)
    return Action(temp.region, verb, resources, f"({why})", execute=execute)


def _temporary_fate(
    temp: Temporary,
    found: RegionBuilders,
    runs: dict[str, tuple[bool, str]],
    options: ReapOptions,
) -> tuple[bool, str]:
    """(remove, why) for a packer_* key pair or group."""
    by_id = {b.instance_id: b for b in found.builders}
    for user in temp.used_by:
        builder = by_id.get(user)
        if builder is not None and runs[user][0]:
            return False, f"used by {user} ({runs[user][1]})"
        if builder is None and found.states.get(user) != "terminated":
            return False, f"used by {user}, which is not a packerpy builder"
    dead = [u for u in temp.used_by if u in by_id]
    if dead:
        return True, f"of {', '.join(dead)}, whose run is dead"
    if temp.created is None:
        return False, "unused, but its age is unknown"
    age = options.now - temp.created
    hours = age.total_seconds() / 3600
    if age > options.grace:
        return True, f"unused, made {hours:.1f} h ago (grace {options.grace})"
    return False, f"unused, made {hours:.1f} h ago, within the grace period"


def plan_region(
    aws: AwsClients,
    found: RegionBuilders,
    options: ReapOptions,
    alive: Callable[[Builder], tuple[bool, str]],
) -> list[Action]:
    """Findings (kept, with why) first, then terminate, delete groups, delete key pairs."""
    runs = {b.instance_id: alive(b) for b in found.builders}
    region = found.region
    kept: list[Action] = []
    doomed: list[str] = []
    whys: list[str] = []
    for builder in found.builders:
        if builder.state not in builders.NOT_TERMINATED:
            continue
        is_alive, why = runs[builder.instance_id]
        if is_alive:
            kept.append(Action(region, "keep", (builder.instance_id,), f"({why})", mutating=False))
        else:
            doomed.append(builder.instance_id)
            whys.append(why)
    actions: list[Action] = []
    if doomed:
        actions.append(_terminate(aws, region, tuple(doomed), whys, options.poll))
    for temp in (*found.security_groups, *found.key_pairs):
        remove, why = _temporary_fate(temp, found, runs, options)
        if remove:
            actions.append(_delete(aws, temp, why, options.poll))
        else:
            kept.append(Action(region, "keep", (temp.id,), f"({why})", mutating=False))
    return [*kept, *actions]


def reap(
    aws: AwsClients, regions: Sequence[str], options: ReapOptions, mode: Mode | None = None
) -> ReapResult:
    """Plan the removal of dead runs' builder resources in `regions`; apply unless a dry run."""
    mode = mode or Mode(dry_run=True)
    alive = judge(options)
    found = per_region(list(regions), lambda region: builders.scan(aws, region))
    plan = [a for region in found for a in plan_region(aws, region, options, alive)]
    operation = Operation(aws.log, dry_run=mode.dry_run, cancel=mode.cancel)
    if not mode.dry_run:
        for action in plan:
            if action.mutating:
                mode.progress(f"reap: {action.line()}")
    outcome = operation.execute(plan)
    return ReapResult(
        regions=tuple(regions),
        plan=tuple(plan),
        outcome=outcome,
        calls=len(aws.log.calls),
        mutating=tuple(aws.log.mutating),
    )
