"""`packerpy publish`: converge a version that already exists to the config."""

from __future__ import annotations

from typing import Annotated

import typer

from packerpy.aws.operation import Mode
from packerpy.cli import output
from packerpy.cli.commands import module_app
from packerpy.cli.invocation import JsonOption, aws_settings, project
from packerpy.contract import PublishData
from packerpy.release import publish

app = module_app()


def publish_lines(result: publish.PublishResult) -> list[str]:
    mode = "dry run: " if result.dry_run else ""
    lines = [
        f"{result.image} {result.version}: {mode}{len(result.mutating)} mutating of "
        f"{result.calls} AWS calls, {len(result.amis)} region(s)",
        *(f"  {step.step}: {a}" for step in result.steps for a in step.actions),
    ]
    if len(lines) == 1:
        lines.append("  already converged")
    return lines


def publish_data(result: publish.PublishResult) -> PublishData:
    return PublishData(
        image=result.image,
        version=result.version,
        amis=dict(result.amis),
        dry_run=result.dry_run,
        prune=result.prune,
        steps=[step.to_data() for step in result.steps],
        calls=result.calls,
        mutating=list(result.mutating),
    )


@app.command("publish")
def publish_version(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image.")],
    version: Annotated[str, typer.Argument(help="Published version to converge.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print what would change.")
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Remove shares the config no longer lists.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Converge an existing version to the config: copies, shares, tags, deprecation."""
    loaded = project(ctx)
    result = publish.publish(
        loaded,
        aws_settings(ctx, loaded),
        image,
        version,
        Mode(dry_run=dry_run, prune=prune, progress=output.err.print),
    )
    output.emit(ctx, as_json, publish_data(result), publish_lines(result))
