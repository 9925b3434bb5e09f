"""The root command: global options, and the one error boundary, `run`.

Global options live in a frozen CliContext on typer's ctx.obj (pipx's DispatchContext), so
nothing is kept between runs. `run` is the only place an exception becomes an exit status:
PackerpyError -> its own code (a machine problem such as a read-only disk is a HostError, 12),
Ctrl-C or SIGTERM -> 130, a usage error -> 2, a bug -> 3 and a crash log (cli/crash.py). With
--json, a failure prints one envelope too. Signals follow support/signals.py's rule: the first
interrupts, and none changes an outcome that is being printed.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

import packerpy
from packerpy.cli import output, process
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
    # typer's --install-completion/--show-completion (bash, zsh, fish, PowerShell); the TAB
    # requests themselves are answered in _invoke (ux review 1.12: completion was switched off).
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@dataclass(frozen=True)
class CliContext:
    """The global options, as every command reads them."""

    config: Path | None = None
    region: str | None = None
    endpoint_url: str | None = None
    quiet: bool = False  # no progress on stderr: only warnings, errors and the result


def _version(value: bool) -> None:
    if value:
        output.out.print(f"packerpy {packerpy.__version__}")
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
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="No progress output; warnings, errors, result.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    # Runs before any command (a docstring here would replace the app's help text).
    ctx.obj = CliContext(config=config, region=region, endpoint_url=endpoint_url, quiet=quiet)


def wants_json(args: Sequence[str]) -> bool:
    """Whether a failure should print an envelope: --json among the options (before any --)."""
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options


def _state_dir(ctx: Any) -> Path | None:  # noqa: ANN401 - click context, or None
    """The project's .packerpy/ for a crash log: -c's directory, else the current one."""
    # Only a crash pays for the config package's import (pydantic, ~250 ms).
    from packerpy.config.project import CONFIG_FILENAME, STATE_DIRNAME  # noqa: PLC0415 - crash only

    options = ctx.find_object(CliContext) if ctx is not None else None
    config = options.config if isinstance(options, CliContext) else None
    try:
        config = config if config is not None else Path.cwd() / CONFIG_FILENAME
        return config.parent / STATE_DIRNAME if config.is_file() else None
    except OSError:
        return None


# A bug's message is cut here: the review saw error "lines" of about 1 MB (config values echoed).
_MAX_MESSAGE = 500


def _described(exc: BaseException) -> str:
    """`exc` as text, even when its __str__ raises (the boundary must not fail on a bug's bug)."""
    try:
        text = " ".join(str(exc).split())
    except Exception:  # noqa: BLE001 - see the docstring
        return f"<{type(exc).__name__} with an unprintable message>"
    return text if len(text) <= _MAX_MESSAGE else f"{text[:_MAX_MESSAGE]}... ({len(text)} chars)"


def _crash_message(exc: BaseException, ctx: Any) -> str:  # noqa: ANN401 - click context
    # Only a crash pays for the crash module's imports (secrets, hmac, tempfile).
    from packerpy.cli import crash  # noqa: PLC0415 - see above

    log = crash.write(traceback.format_exc(), _state_dir(ctx))
    where = f"traceback: {log}" if log is not None else "no crash log could be written"
    return f"internal error: {type(exc).__name__}: {_described(exc)} ({where}); please report it"


def _usage_error(exc: typer.TyperException, as_json: bool) -> int:
    """Show a usage error as click does (usage line, hint), plus an envelope under --json."""
    ctx: Any = getattr(exc, "ctx", None)
    show = getattr(exc, "show", None)
    if callable(show):
        output.best_effort(show)
    code = exc.exit_code if isinstance(exc.exit_code, int) and exc.exit_code else EXIT_CONFIG
    if as_json:
        message = exc.format_message()
        output.best_effort(
            lambda: output.envelope(
                command_of(ctx), ok=False, data={}, messages=[message], code=code
            )
        )
    return code


def _failure(exc: BaseException, ctx: Any, as_json: bool) -> int:  # noqa: ANN401 - click context
    """The exit code for what ended the command, after printing it (text or one envelope)."""
    command = command_of(ctx)
    if isinstance(exc, typer.TyperException):  # usage errors (typer vendors click's exceptions)
        return _usage_error(exc, as_json)
    if isinstance(exc, PackerpyError):
        return output.fail(command, as_json, exc.message, exc.detail, exc.exit_code, exc.data)
    if isinstance(exc, KeyboardInterrupt | typer.Abort):
        return output.fail(command, as_json, "interrupted", (), EXIT_INTERRUPTED)
    if isinstance(exc, BrokenPipeError):  # the reader stopped early (`| head`), as in click
        output.reader_gone()
        return EXIT_ERROR
    # A bug: exit 3 plus a log with the traceback.
    return output.fail(command, as_json, _crash_message(exc, ctx), (), EXIT_INTERNAL)


# The variable the shell's completion function sets when it asks for candidates (click's
# `_{PROG}_COMPLETE`; typer's scripts use the `complete_bash`-style instructions).
COMPLETE_VAR = "_PACKERPY_COMPLETE"


def _root() -> Any:  # noqa: ANN401 - typer's click Group
    """The root command with typer's completion options, as typer.main.get_command adds them
    (added once: a test may hand out one cached group for many runs)."""
    group = typer.main.get_group(app)
    if not any(param.name == "install_completion" for param in group.params):
        group.params.extend(typer.main.get_install_completion_arguments())
    return group


def _invoke(args: list[str], as_json: bool) -> int:
    group = _root()
    if COMPLETE_VAR in os.environ:
        # A TAB from the shell: click's own main() answers it and exits; the boundary below
        # is bypassed on purpose (it is not a command run).
        group.main(args, prog_name="packerpy", complete_var=COMPLETE_VAR)
    ctx: Any = None
    try:
        # make_context + invoke is click's main() minus its own error handling, which is ours.
        with group.make_context("packerpy", args) as ctx:
            group.invoke(ctx)
    except typer.Exit as exc:  # --help, --version, and commands with a non-zero result code
        return exc.exit_code
    except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the boundary
        signals.reporting()  # the outcome is decided: a later signal must not change it
        return _failure(exc, ctx, as_json)
    return EXIT_OK


def _boundary(args: list[str]) -> int:
    as_json = wants_json(args)
    output.tolerant_streams()
    try:
        return _invoke(args, as_json)
    except KeyboardInterrupt:  # the first signal landed in the boundary's own code: still 130
        return output.fail("packerpy", as_json, "interrupted", (), EXIT_INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - reporting the failure failed: still an exit status
        output.last_resort(f"packerpy: error: internal error while reporting: {_described(exc)}")
        return EXIT_INTERNAL
    finally:
        signals.reporting()


def run(argv: Sequence[str] | None = None) -> int:
    """The error boundary: the only place exceptions become exit codes."""
    previous = signals.install()
    try:
        return _boundary(list(sys.argv[1:] if argv is None else argv))
    finally:
        signals.restore(previous)


def main() -> NoReturn:
    """The console script: run the command line and exit with its status.

    The run's signal handlers stay until the process exits, so a signal after the outcome was
    printed cannot turn into a signal exit status.
    """
    process.start()
    signals.install()
    code = _boundary(sys.argv[1:])
    process.exiting(code)
    sys.exit(code)


__all__ = ["CliContext", "app", "main", "run", "wants_json"]
