"""`packerpy verify`: policy checks and a launch test; the verdict is tagged on the AMI."""

from __future__ import annotations

from typing import Annotated

import typer

from packerpy.cli import output
from packerpy.cli.commands import module_app
from packerpy.cli.invocation import JsonOption, aws_settings, project
from packerpy.verify import run

app = module_app()


def _lines(result: run.VerifyResult) -> list[str]:
    mode = "dry run: would tag " if result.dry_run else ""
    head = f"{result.image} {result.version}: {mode}{result.verdict.word} ({result.verdict.reason})"
    return [
        head,
        *(f"  {check.line()}" for check in result.checks),
        *(f"  plan: {line}" for line in (result.launched.plan if result.dry_run else ())),
        *(f"  {line}" for line in result.actions),
        f"  {len(result.mutating)} mutating of {result.calls} AWS calls, "
        f"{result.seconds:.1f} s; run record: {result.run_dir}",
    ]


@app.command("verify")
def verify_version(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image.")],
    version: Annotated[str, typer.Argument(help="Published version to verify.")],
    skip_launch: Annotated[
        bool, typer.Option("--skip-launch", help="Policy checks only: no launch test.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Read-only checks; print the launch plan and the tags."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check a version against policy, launch-test it, and tag the verdict on the AMI."""
    options = run.VerifyOptions(skip_launch=skip_launch, dry_run=dry_run, progress=output.err.print)
    loaded = project(ctx)
    result = run.verify(loaded, aws_settings(ctx, loaded), image, version, options)
    output.emit(ctx, as_json, result.to_data(), _lines(result))
