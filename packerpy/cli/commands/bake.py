"""`packerpy build`: bake an image with packer and run its post-processing steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from packerpy.bake import pipeline
from packerpy.cli import output
from packerpy.cli.commands import module_app
from packerpy.cli.invocation import JsonOption, aws_settings, project
from packerpy.packer.events import Event, RawLine, UiEvent

app = module_app()


def _progress(stream: Console) -> tuple[Callable[[Event], None], Callable[[], None]]:
    """An on_event callback showing packer's progress on stderr, and a closer for it."""
    # A spinner on a terminal; in a log, every line (a spinner would hide what packer did).
    status = stream.status("starting packer") if stream.is_terminal else None
    if status is not None:
        status.start()

    def on_event(event: Event) -> None:
        if isinstance(event, UiEvent):
            text = event.text.strip()
            if not text:
                return
            if status is not None:
                status.update(escape(text.splitlines()[0]))  # the spinner's text is markup
            else:
                stream.print(text)
        elif isinstance(event, RawLine) and event.text.strip():
            stream.print(event.text)

    def close() -> None:
        if status is not None:
            status.stop()

    return on_event, close


def _lines(result: pipeline.BuildResult) -> list[str]:
    total = sum(result.timings.values())
    if result.skipped:
        lines = [f"skipped the bake of {result.image}: {result.reason}"]
    else:
        lines = [
            f"built {result.image} {result.version} with packer {result.packer_version} "
            f"in {total:.1f}s"
        ]
    lines += [f"  {region}  {ami}" for region, ami in result.amis.items()]
    for step in result.steps:
        detail = "; ".join(step.actions) if step.actions else "already converged"
        lines.append(f"  step {step.step}: {detail}")
    lines.append(f"  run record: {result.run_dir}")
    return lines


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
    on_event, close = _progress(output.err)
    try:
        result = pipeline.build(
            loaded,
            image,
            settings,
            on_event=on_event,
            timeout=timeout,
            force_bake=force_bake,
            progress=output.err.print,
            skip_lint=skip_lint,
        )
    finally:
        close()
    output.emit(ctx, as_json, result.to_data(), _lines(result))
