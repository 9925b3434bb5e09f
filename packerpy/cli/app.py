"""The root command: global options, and the one error boundary, `run`.

Global options live in a frozen CliContext on typer's ctx.obj (pipx's DispatchContext), so
nothing is kept between runs. `run` is the only place an exception becomes an exit status:
PackerpyError -> its own code, Ctrl-C or SIGTERM -> 130, a usage error -> 2, a bug -> 3 and a
crash log. With --json, a failure prints one envelope too.
"""

from __future__ import annotations

import sys
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from packerpy import __version__
from packerpy.cli import output
from packerpy.cli.commands import LazyGroup, command_of
from packerpy.errors import (
    EXIT_CONFIG,
    EXIT_ERROR,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PackerpyError,
)
from packerpy.support import signals

app = typer.Typer(
    cls=LazyGroup,
    name="packerpy",
    help="Typed config, rendered HCL2 and real Packer bakes as one versioned AMI release process.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@dataclass(frozen=True)
class CliContext:
    """The global options, as every command reads them."""

    config: Path | None = None
    region: str | None = None
    endpoint_url: str | None = None


def _version(value: bool) -> None:
    if value:
        output.out.print(f"packerpy {__version__}")
        raise typer.Exit


@app.callback()
def _global(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("-c", "--config", help="packerpy.toml to use (default: ./)")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="AWS region (overrides aws.region)")
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option("--endpoint-url", help="AWS endpoint (overrides AWS_ENDPOINT_URL/config)"),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    # Runs before any command (a docstring here would replace the app's help text).
    ctx.obj = CliContext(config=config, region=region, endpoint_url=endpoint_url)


def wants_json(args: Sequence[str]) -> bool:
    """Whether a failure should print an envelope: --json among the options (before any --)."""
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options


def _crash_log() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = Path(tempfile.gettempdir()) / f"packerpy-crash-{stamp}.log"
    path.write_text(traceback.format_exc())
    return path


def _usage_error(exc: typer.TyperException, as_json: bool) -> int:
    """Show a usage error as click does (usage line, hint), plus an envelope under --json."""
    ctx: Any = getattr(exc, "ctx", None)
    show = getattr(exc, "show", None)
    if callable(show):
        show()
    code = exc.exit_code if isinstance(exc.exit_code, int) and exc.exit_code else EXIT_CONFIG
    if as_json:
        output.envelope(
            command_of(ctx), ok=False, data={}, messages=[exc.format_message()], code=code
        )
    return code


def _failure(exc: BaseException, ctx: Any, as_json: bool) -> int:  # noqa: ANN401 - click context
    """The exit code for what ended the command, after printing it (text or one envelope)."""
    command = command_of(ctx)
    if isinstance(exc, typer.TyperException):  # usage errors (typer vendors click's exceptions)
        return _usage_error(exc, as_json)
    if isinstance(exc, PackerpyError):
        return output.fail(command, as_json, exc.message, exc.detail, exc.exit_code)
    if isinstance(exc, KeyboardInterrupt | typer.Abort):
        return output.fail(command, as_json, "interrupted", (), EXIT_INTERRUPTED)
    if isinstance(exc, BrokenPipeError):  # the reader stopped early (`| head`), as in click
        output.reader_gone()
        return EXIT_ERROR
    log = _crash_log()  # a bug: exit 3 plus a log with the traceback
    message = f"internal error: {type(exc).__name__}: {exc} (traceback: {log}); please report it"
    return output.fail(command, as_json, message, (), EXIT_INTERNAL)


def run(argv: Sequence[str] | None = None) -> int:
    """The error boundary: the only place exceptions become exit codes."""
    signals.sigterm_as_interrupt()
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = wants_json(args)
    group = typer.main.get_group(app)
    ctx: Any = None
    try:
        # make_context + invoke is click's main() minus its own error handling, which is ours.
        with group.make_context("packerpy", args) as ctx:
            group.invoke(ctx)
    except typer.Exit as exc:  # --help, --version, and commands with a non-zero result code
        return exc.exit_code
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the boundary
        return _failure(exc, ctx, as_json)
    return EXIT_OK


def main() -> NoReturn:
    """The console script: run the command line and exit with its status."""
    sys.exit(run())


__all__ = ["CliContext", "app", "main", "run", "wants_json"]
