"""What a command takes from its invocation: the project and AWS settings the global options
select, and the options every command shares.

Imported by command modules only (it loads the config models), never on `packerpy --help`'s path.
"""

from __future__ import annotations

from typing import Annotated

import typer

from packerpy import config
from packerpy.aws import settings
from packerpy.cli.app import CliContext

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON envelope on stdout.")]


def cli_context(ctx: typer.Context) -> CliContext:
    """The global options (defaults when a command is invoked without the root callback)."""
    found = ctx.find_object(CliContext)
    return found if found is not None else CliContext()


def project(ctx: typer.Context) -> config.Project:
    """The project of -c/--config, else of the packerpy.toml found from the current directory."""
    return config.load(config.find_config(cli_context(ctx).config))


def aws_settings(ctx: typer.Context, of: config.Project) -> settings.AwsSettings:
    """AWS settings: --region/--endpoint-url over AWS_ENDPOINT_URL over packerpy.toml."""
    options = cli_context(ctx)
    return settings.aws_settings(of, region=options.region, endpoint_url=options.endpoint_url)
