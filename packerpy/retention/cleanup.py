"""`packerpy cleanup`: plan which of this project's AMIs to delete, then a dry run or apply.

Reads the estate (survey.py), decides (plan.py, pure), plans typed actions per region
(actions.py) and executes them as one operation (aws/operation.py): regions concurrently,
one region's actions in order, Ctrl-C between actions. The plan printed is the plan executed;
what changed in between is caught per AMI at apply time and reported as skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from packerpy.aws.clients import AwsClients
from packerpy.aws.operation import Action, Mode, Operation, Outcome
from packerpy.config import Project
from packerpy.retention import actions, cost, inventory, reads
from packerpy.retention.model import Decision, Policy
from packerpy.retention.survey import Scope, include_shared, survey
from packerpy.support.pool import per_region

_DAYS = {"d": 1, "w": 7}


@dataclass(frozen=True)
class CleanupResult:
    regions: tuple[str, ...]
    decisions: tuple[Decision, ...]
    plan: tuple[Action, ...]
    outcome: Outcome
    costs: tuple[cost.RegionCost, ...]
    total: cost.RegionCost
    prices: cost.Prices
    dry_run: bool
    calls: int
    mutating: tuple[tuple[str, str], ...]
    # Describe/Get/List calls by operation, to show they grow with pages, not AMIs.
    reads: dict[str, int] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def skipped(self) -> tuple[actions.Skip, ...]:
        """What apply found protected (or in use) at the moment it would have acted."""
        return tuple(d.result for d in self.outcome.done if isinstance(d.result, actions.Skip))


def days(value: str | None) -> int | None:
    """`30d` or `12w` (config.lifecycle.DayCount) in days."""
    return None if value is None else int(value[:-1]) * _DAYS[value[-1]]


def scope_of(
    project: Project,
    regions: Sequence[str],
    images: Sequence[str] = (),
    *,
    orphans: bool = False,
) -> Scope:
    """What to look at: the config's images (or `images`), in `regions`."""
    config = project.config
    policies: dict[str, Policy | None] = {}
    for name, image in config.images.items():
        section = image.retention
        policies[name] = (
            None
            if section is None
            else Policy(
                keep_last=section.keep_last,
                keep_prereleases=section.keep_prereleases,
                keep_days=section.keep_days,
                include_shared=section.include_shared,
                archive_after_days=days(section.archive_after),
            )
        )
    return Scope(
        project=config.project.name,
        ssm_prefix=config.project.ssm_prefix,
        regions=tuple(dict.fromkeys(regions)),
        policies=policies,
        images=tuple(images),
        channels={name: image.channels for name, image in config.images.items()},
        channel_history={
            name: image.retention.channel_history
            for name, image in config.images.items()
            if image.retention is not None
        },
        orphans=orphans,
    )


def prices_of(project: Project) -> cost.Prices:
    section = project.config.cost
    return cost.Prices(section.snapshot_gib_month, section.archive_gib_month, section.prices_as_of)


def _region_plan(
    aws: AwsClients, region: str, scope: Scope, decisions: Sequence[Decision], prices: cost.Prices
) -> tuple[list[Action], cost.RegionCost]:
    doomed = [d for d in decisions if d.ami.region == region and not d.keep]
    # Snapshots a kept AMI of this project also uses stay. One outside the project (a hand-
    # registered AMI) is found by AWS at deletion: DeregisterImage's DeleteAssociatedSnapshots
    # skips it and DeleteSnapshot refuses it (InvalidSnapshot.InUse); apply reports it.
    # Reading every image that names a doomed snapshot would re-read the doomed AMIs.
    staying = {
        s.snapshot_id
        for d in decisions
        if d.ami.region == region and d.keep
        for s in d.ami.snapshots
    }
    left = reads.leftovers(aws, region, scope.project, orphans=scope.orphans)
    users = inventory.snapshot_users(aws, region, left) if left else {}

    def free(snapshot: str) -> bool:
        return snapshot not in staying

    guard = actions.guard_for(aws, region, scope)
    plan: list[Action] = []
    sizes: list[int] = []
    deletes: list[Action] = []
    for decision in doomed:
        mine = [s for s in decision.ami.snapshots if free(s.snapshot_id)]
        sizes.extend(s.gib for s in mine)
        policy = scope.policies.get(decision.ami.image)
        deletes.append(
            actions.delete(
                aws,
                guard,
                decision,
                [s.snapshot_id for s in mine],
                shares_protect=not include_shared(policy),
            )
        )
    marked = [s for a in deletes for s in a.resources[1:]]
    if marked:
        plan.append(actions.mark(aws, region, scope.project, marked))
    plan.extend(deletes)
    for snapshot, (why, gib) in left.items():
        if snapshot not in marked and not users.get(snapshot):
            plan.append(actions.delete_leftover(aws, region, snapshot, why))
            sizes.append(gib)
    archived = _archives(aws, region, guard, decisions)
    plan.extend(a for a, _ in archived)
    found = cost.region_cost(
        region,
        prices,
        amis=len(doomed),
        deleted=sizes,
        archived=[g for _, gibs in archived for g in gibs],
    )
    return plan, found


def _archives(
    aws: AwsClients, region: str, guard: actions.Guard, decisions: Sequence[Decision]
) -> list[tuple[Action, list[int]]]:
    """Archive actions for kept-but-old AMIs' snapshots still in the standard tier."""
    old = [d for d in decisions if d.ami.region == region and d.keep and d.archive]
    if not old:
        return []
    tier = reads.tiers(aws, region, (s.snapshot_id for d in old for s in d.ami.snapshots))
    found = []
    for decision in old:
        standard = [s for s in decision.ami.snapshots if tier.get(s.snapshot_id) == "standard"]
        if standard:
            action = actions.archive(aws, guard, decision, [s.snapshot_id for s in standard])
            found.append((action, [s.gib for s in standard]))
    return found


@dataclass(frozen=True)
class Prepared:
    """A plan ready to show and then execute as it is."""

    scope: Scope
    decisions: tuple[Decision, ...]
    plan: tuple[Action, ...]
    costs: tuple[cost.RegionCost, ...]
    prices: cost.Prices
    now: datetime


def prepare(
    aws: AwsClients, scope: Scope, prices: cost.Prices, now: datetime | None = None
) -> Prepared:
    """Decide on every AMI of the project in scope and plan the actions; reads only."""
    now = now or datetime.now(UTC)
    _estate, decisions = survey(aws, scope, now)
    planned = per_region(
        list(scope.regions),
        lambda region: _region_plan(aws, region, scope, decisions, prices),
    )
    plan = tuple(a for region_plan, _ in planned for a in region_plan)
    return Prepared(scope, decisions, plan, tuple(c for _, c in planned), prices, now)


def execute(aws: AwsClients, prepared: Prepared, mode: Mode | None = None) -> CleanupResult:
    """The prepared plan as a dry run (the default) or applied."""
    mode = mode or Mode(dry_run=True)
    reads_before = _reads(aws)
    if not mode.dry_run:
        for action in prepared.plan:
            if action.mutating:
                mode.progress(f"cleanup: {action.line()}")
    outcome = Operation(aws.log, dry_run=mode.dry_run, cancel=mode.cancel).execute(prepared.plan)
    return CleanupResult(
        regions=prepared.scope.regions,
        decisions=prepared.decisions,
        plan=prepared.plan,
        outcome=outcome,
        costs=prepared.costs,
        total=cost.total(prepared.costs),
        prices=prepared.prices,
        dry_run=mode.dry_run,
        calls=len(aws.log.calls),
        mutating=tuple(aws.log.mutating),
        reads=reads_before,
        now=prepared.now,
    )


def cleanup(
    aws: AwsClients,
    scope: Scope,
    prices: cost.Prices,
    mode: Mode | None = None,
    now: datetime | None = None,
) -> CleanupResult:
    """prepare, then execute: a dry run unless `mode` says otherwise."""
    return execute(aws, prepare(aws, scope, prices, now), mode)


def _reads(aws: AwsClients) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _region, operation in aws.log.calls:
        if operation.startswith(("Describe", "Get", "List")):
            counts[operation] = counts.get(operation, 0) + 1
    return dict(sorted(counts.items()))
