"""`packerpy post-process`: version, tag, copy, share and deprecate an AMI packer made itself."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from packerpy.aws.operation import Mode
from packerpy.cli import output
from packerpy.cli.commands import module_app
from packerpy.cli.commands.publish import publish_data, publish_lines
from packerpy.cli.invocation import JsonOption, aws_settings, project
from packerpy.release import postprocess

app = module_app()


@app.command("post-process")
def post_process(
    ctx: typer.Context,
    image: Annotated[str, typer.Option("--image", help="The image the AMI is a version of.")],
    manifest: Annotated[
        Path, typer.Option("--manifest", help="packer's manifest post-processor output.")
    ] = Path("manifest.json"),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print what would change.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Make the AMI of packer's last run the image's configured version, as build would.

    For teams that run `packer build` themselves: call it from a shell-local post-processor
    after the manifest post-processor. Runs the image's steps (copy, share, tag with identity
    and provenance, deprecate); a re-run converges.
    """
    loaded = project(ctx)
    result = postprocess.post_process(
        loaded,
        aws_settings(ctx, loaded),
        image,
        manifest,
        os.environ,
        Mode(dry_run=dry_run, progress=output.err.print),
    )
    output.emit(ctx, as_json, publish_data(result), publish_lines(result))
