"""`packerpy init` and `packerpy schema`: start a project, and describe its config file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from packerpy import config, scaffold
from packerpy.cli import output
from packerpy.cli.commands import module_app
from packerpy.cli.invocation import JsonOption
from packerpy.contract import InitData

app = module_app()


@app.command()
def init(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the first image (and the project).")],
    directory: Annotated[Path, typer.Option("--dir", help="Where to create the project.")] = Path(),
    as_json: JsonOption = False,
) -> None:
    """Scaffold packerpy.toml, hcl_templates/ and provisioners/ for a new project."""
    result = scaffold.init(name, directory.resolve())
    data = InitData(name=result.name, root=result.root, created=list(result.created))
    lines = [f"created {path}" for path in result.created]
    output.emit(ctx, as_json, data, [*lines, "next: packerpy validate"])


@app.command()
def schema(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Print the JSON Schema of packerpy.toml."""
    described = config.json_schema()
    if as_json:
        # The one envelope whose data is not a contract model: it is the schema itself.
        output.emit(ctx, as_json, described, [])
    else:
        output.print_json(described)
