"""`packerpy cleanup`: the retention plan (every AMI, keep or delete, and why), then --apply."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from packerpy import records
from packerpy.aws.clients import AwsClients
from packerpy.aws.operation import Mode
from packerpy.cli import output
from packerpy.cli.commands import module_app
from packerpy.cli.invocation import JsonOption, aws_settings, project
from packerpy.config import Project, image_regions
from packerpy.contract import CleanupAmiData, CleanupCostData, CleanupData
from packerpy.errors import Refused
from packerpy.retention import cleanup as core
from packerpy.retention.cost import BASIS, RegionCost
from packerpy.retention.model import Decision

app = module_app()


def _verdict(decision: Decision) -> str:
    return "delete" if not decision.keep else "archive" if decision.archive else "keep"


def _age(decision: Decision, now: datetime) -> int | None:
    created = decision.ami.created
    return None if created is None else int((now - created).total_seconds() // 86400)


def _ami(decision: Decision, now: datetime) -> CleanupAmiData:
    ami = decision.ami
    return CleanupAmiData(
        region=ami.region,
        ami_id=ami.ami_id,
        image=ami.image,
        version=ami.version,
        created=ami.created.isoformat() if ami.created else None,
        age_days=_age(decision, now),
        snapshots=[s.snapshot_id for s in ami.snapshots],
        gib=ami.gib,
        decision=_verdict(decision),
        reasons=list(decision.reasons),
    )


def _cost(found: RegionCost) -> CleanupCostData:
    return CleanupCostData(**found.__dict__)


def _data(result: core.CleanupResult) -> CleanupData:
    return CleanupData(
        dry_run=result.dry_run,
        regions=list(result.regions),
        amis=[_ami(d, result.now) for d in result.decisions],
        actions=[a.line() for a in result.plan],
        skipped=[str(s) for s in result.skipped],
        costs=[_cost(c) for c in result.costs],
        total=_cost(result.total),
        snapshot_gib_month=result.prices.snapshot_gib_month,
        archive_gib_month=result.prices.archive_gib_month,
        prices_as_of=result.prices.as_of,
        size_basis=BASIS,
        calls=result.calls,
        reads=result.reads,
        mutating=list(result.mutating),
    )


def _table(data: CleanupData) -> Table:
    table = Table()
    for name in ("image", "version", "region", "AMI", "age", "GiB", "decision"):
        table.add_column(name, no_wrap=True)
    table.add_column("reasons", overflow="fold")
    rows = sorted(data.amis, key=lambda a: (a.image, a.region, -(a.age_days or 0), a.ami_id))
    for index, ami in enumerate(rows):
        age = "?" if ami.age_days is None else f"{ami.age_days} d"
        row = (ami.image, ami.version, ami.region, ami.ami_id, age, str(ami.gib), ami.decision)
        # One section per image: the grouping a reader scans for.
        last = index + 1 == len(rows) or rows[index + 1].image != ami.image
        table.add_row(*row, "; ".join(ami.reasons), end_section=last)
    return table


def _totals(data: CleanupData) -> list[str]:
    rows = [*data.costs, data.total] if len(data.costs) > 1 else [data.total]
    lines = [
        f"{c.region}: delete {c.amis} AMI(s), {c.snapshots} snapshot(s), {c.gib} GiB, "
        f"${c.monthly_saving:.2f}/month; archive {c.archive_snapshots} snapshot(s), "
        f"{c.archive_gib} GiB, ${c.archive_monthly_saving:.2f}/month"
        for c in rows
    ]
    lines.append(
        f"prices: ${data.snapshot_gib_month}/GiB-month standard, ${data.archive_gib_month}"
        f"/GiB-month archive, as of {data.prices_as_of}; sizes are an {data.size_basis}"
    )
    lines.extend(f"skipped at apply: {s}" for s in data.skipped)
    if data.dry_run and any(a.decision != "keep" for a in data.amis):
        lines.append("dry run: nothing changed; apply it: packerpy cleanup --apply")
    return lines


def _regions(loaded: Project, default: str, chosen: list[str], images: list[str]) -> list[str]:
    """--region's, else every region of the chosen images (of every image by default)."""
    if chosen:
        return chosen
    names = images or list(loaded.config.images)
    found = (r for n in names for r in image_regions(loaded.image(n), default))
    return list(dict.fromkeys(found))


def _confirm(prepared: core.Prepared, yes: bool) -> None:
    if yes:
        return
    doomed = sum(1 for d in prepared.decisions if not d.keep)
    if not sys.stdin.isatty():
        raise Refused(f"cleanup --apply would delete {doomed} AMI(s): confirm with --yes")
    if not typer.confirm(f"Delete {doomed} AMI(s) and their snapshots?", err=True):
        raise Refused("cleanup --apply: not confirmed; nothing changed")


@app.command("cleanup")
def cleanup(
    ctx: typer.Context,
    images: Annotated[list[str] | None, typer.Argument(help="Only these images.")] = None,
    region: Annotated[
        list[str] | None, typer.Option("--region", help="Only this region (repeatable).")
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Delete what the plan says (default: only show it).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Apply without asking.")] = False,
    orphans: Annotated[
        bool,
        typer.Option("--orphans", help="Also delete this project's snapshots whose AMI is gone."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete this project's AMIs that no retention rule keeps, and their snapshots.

    Shows every AMI of the project: keep or delete, every reason, and what deleting saves.
    Without --apply nothing changes; --apply asks first unless --yes.
    """
    loaded = project(ctx)
    settings = aws_settings(ctx, loaded)
    chosen = list(images or [])
    regions = _regions(loaded, settings.region, list(region or []), chosen)
    aws = AwsClients(settings)
    scope = core.scope_of(loaded, regions, chosen, orphans=orphans)
    prepared = core.prepare(aws, scope, core.prices_of(loaded))
    if apply:
        if not as_json:
            shown = _data(core.execute(aws, prepared))
            output.out.print(_table(shown))
        _confirm(prepared, yes)
    mode = Mode(dry_run=not apply, progress=output.err.print)
    if apply:  # what was deleted, and why, stays in the run record (result.json)
        fields = {"command": "cleanup", "regions": regions, "images": chosen}
        with records.RunRecord(loaded.runs_dir(), "cleanup", datetime.now(UTC), fields) as record:
            data = _data(core.execute(aws, prepared, mode))
            record.succeed(data)
    else:
        data = _data(core.execute(aws, prepared, mode))
    if not as_json and not apply:
        output.out.print(_table(data))
    output.emit(ctx, as_json, data, _totals(data))
