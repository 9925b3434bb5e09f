"""`packerpy adopt`: a hand-written packer template directory becomes an image, unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from packerpy import config
from packerpy.adopt import register
from packerpy.cli import output
from packerpy.cli.commands import module_app
from packerpy.cli.invocation import JsonOption, cli_context
from packerpy.contract import AdoptData

app = module_app()


@app.command("adopt")
def adopt(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="The template directory (*.pkr.hcl).")],
    image: Annotated[str, typer.Option("--image", help="The image name to register it as.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the entry; do not write packerpy.toml.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Register a hand-written packer template directory as an image, unchanged.

    Reads every *.pkr.hcl in DIRECTORY with python-hcl2 and appends an [images.IMAGE] entry
    with template_dir = DIRECTORY and what it could read (regions, encryption, sharing, base).
    The template's files are never modified; `packerpy build IMAGE` runs them as written.
    """
    path = config.find_config(cli_context(ctx).config)
    result = register.adopt(path, directory, image, dry_run=dry_run)
    proposal = result.proposal
    data = AdoptData(
        image=proposal.image,
        template_dir=result.template_dir,
        files=list(result.files),
        sources=list(proposal.sources),
        builds=list(proposal.builds),
        roles=proposal.roles,
        notes=list(proposal.notes),
        entry=proposal.block,
        written=result.written,
    )
    head = "would append" if dry_run else "appended"
    lines = [
        f"{result.template_dir}: {len(result.files)} file(s), sources "
        f"{', '.join(proposal.sources)}; {head} [images.{proposal.image}]:",
        *(f"  {line}" for line in proposal.block.splitlines()),
        *(f"note: {note}" for note in proposal.notes),
    ]
    output.emit(ctx, as_json, data, lines)
