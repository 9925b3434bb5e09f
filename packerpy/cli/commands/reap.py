"""`packerpy reap`: remove what killed runs left behind (builders, key pairs, groups)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from packerpy.aws.clients import AwsClients
from packerpy.aws.operation import Mode
from packerpy.cli import output
from packerpy.cli.commands import module_app
from packerpy.cli.invocation import JsonOption, aws_settings, project
from packerpy.config import image_regions
from packerpy.contract import ReapData
from packerpy.release import reap as reaper

app = module_app()


def _lines(result: reaper.ReapResult, dry_run: bool) -> list[str]:
    removing = [a for a in result.plan if a.mutating]
    head = "dry run: would remove" if dry_run else "removed"
    lines = [
        f"{head} {len(result.removed('terminate'))} instance(s), "
        f"{len(result.removed('delete-security-group'))} security group(s), "
        f"{len(result.removed('delete-key-pair'))} key pair(s) in {', '.join(result.regions)}",
        *(f"  {action.line()}" for action in result.plan),
    ]
    if removing and dry_run:
        lines.append("  remove them: packerpy reap --apply")
    return lines


@app.command("reap")
def reap(
    ctx: typer.Context,
    apply: Annotated[
        bool, typer.Option("--apply", help="Remove them (default: only print the plan).")
    ] = False,
    max_bake_hours: Annotated[
        float,
        typer.Option(
            "--max-bake-hours",
            min=0.1,
            help="A run of another host (or project) counts as dead once its builder is older.",
        ),
    ] = reaper.MAX_BAKE.total_seconds() / 3600,
    grace_hours: Annotated[
        float,
        typer.Option(
            "--grace-hours",
            min=0.1,
            help="Remove unused packer_* key pairs and security groups older than this.",
        ),
    ] = reaper.GRACE.total_seconds() / 3600,
    as_json: JsonOption = False,
) -> None:
    """Remove builder instances, key pairs and security groups of runs that died.

    Looks in every image's build region. A run of this host is dead when neither its packerpy
    nor its packer process runs (live.json in the run record); any other run once its builder
    is older than --max-bake-hours. Without --apply, only prints what it would remove.
    """
    loaded = project(ctx)
    settings = aws_settings(ctx, loaded)
    images = loaded.config.images.values()
    regions = tuple(dict.fromkeys(image_regions(i, settings.region)[0] for i in images))
    options = reaper.ReapOptions(
        runs_dir=loaded.runs_dir(),
        max_bake=timedelta(hours=max_bake_hours),
        grace=timedelta(hours=grace_hours),
    )
    mode = Mode(dry_run=not apply, progress=output.err.print)
    result = reaper.reap(AwsClients(settings), regions or (settings.region,), options, mode)
    data = ReapData(
        dry_run=not apply,
        regions=list(result.regions),
        actions=[action.line() for action in result.plan],
        instances=result.removed("terminate"),
        security_groups=result.removed("delete-security-group"),
        key_pairs=result.removed("delete-key-pair"),
        calls=result.calls,
        mutating=list(result.mutating),
    )
    output.emit(ctx, as_json, data, _lines(result, not apply))
