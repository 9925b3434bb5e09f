"""`packerpy build`: bake an image with packer and run its post-processing steps."""

from __future__ import annotations

from typing import Annotated

import typer

from packerpy.bake import pipeline
from packerpy.cli import output, progress
from packerpy.cli.commands import module_app
from packerpy.cli.invocation import JsonOption, aws_settings, cli_context, project

app = module_app()


@app.command()
def build(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image to bake.")],
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Cancel packer after this many seconds.")
    ] = None,
    force_bake: Annotated[
        bool,
        typer.Option("--force-bake", help="Bake even when an AMI with identical inputs exists."),
    ] = False,
    skip_lint: Annotated[
        bool,
        typer.Option("--skip-lint", help="Bake despite lint errors (recorded in the run record)."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Bake IMAGE with packer, then run its post-processing steps.

    Runs `lint` first and stops on errors; refuses a version that is already published; skips
    the bake when an AMI built from identical inputs exists (and runs the steps on it).
    """
    loaded = project(ctx)
    settings = aws_settings(ctx, loaded)
    if skip_lint:
        output.err.print("packerpy: WARNING: lint skipped (--skip-lint); the run record says so")
    # --- progress hook (cli/progress.py; owned by the ux branch) ---
    mode = progress.mode_for(output.err, as_json=as_json, quiet=cli_context(ctx).quiet)
    board = progress.Board(output.err, mode)
    view = board.view(image)
    with board.shown():
        try:
            result = pipeline.build(
                loaded,
                image,
                settings,
                on_phase=view.phase,
                on_event=view.event,
                timeout=timeout,
                force_bake=force_bake,
                progress=view.step,
                skip_lint=skip_lint,
            )
        except BaseException:
            view.finish("failed")
            raise
        view.finish("skipped" if result.skipped else "built")
    output.emit(ctx, as_json, result.to_data(), progress.summary(result, output.table))
