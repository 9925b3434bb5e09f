"""`packerpy build`: bake images with packer and run their post-processing steps."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import typer
from rich.console import Console
from rich.markup import escape

from packerpy.aws.settings import AwsSettings
from packerpy.bake import inputs, many, pipeline
from packerpy.bake.options import BuildOptions
from packerpy.bake.plan import Choice
from packerpy.cli import output
from packerpy.cli.commands import command_of, module_app
from packerpy.cli.commands.bake_options import (
    AllOption,
    AllowOlderOption,
    DebugOption,
    ExceptOption,
    ForceBakeOption,
    ImagesArgument,
    JobsOption,
    OnErrorOption,
    OnlyOption,
    ParallelOption,
    SkipLintOption,
    TimeoutOption,
    TimestampOption,
    VarFileOption,
    VarOption,
    summary_lines,
)
from packerpy.cli.invocation import JsonOption, aws_settings, project
from packerpy.config import Project
from packerpy.errors import ConfigError
from packerpy.packer.binary import BuildFlags
from packerpy.packer.events import Event, RawLine, UiEvent

app = module_app()


def _progress(
    stream: Console, prefix: str = "", *, spinner: bool = True
) -> tuple[Callable[[Event], None], Callable[[], None]]:
    """An on_event callback showing packer's progress on stderr, and a closer for it."""
    # A spinner on a terminal; in a log, every line (a spinner would hide what packer did).
    status = stream.status("starting packer") if spinner and stream.is_terminal else None
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
                for line in text.splitlines():
                    stream.print(prefix + line)
        elif isinstance(event, RawLine) and event.text.strip():
            stream.print(prefix + event.text)

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


def _names(
    images: list[str] | None, build_all: bool, configured: list[str], *, debug: bool
) -> list[str]:
    if build_all and images:
        raise ConfigError("build: give image names or --all, not both")
    if debug and (build_all or len(images or []) > 1):
        raise ConfigError("--debug: packer asks at the terminal; bake one image at a time")
    if build_all:
        return sorted(configured)
    if not images:
        raise ConfigError("build: missing argument IMAGE: name the image(s) to bake, or pass --all")
    return list(dict.fromkeys(images))


@app.command()
def build(  # noqa: PLR0913 - typer: one parameter per command-line option
    ctx: typer.Context,
    images: ImagesArgument = None,
    timeout: TimeoutOption = None,
    force_bake: ForceBakeOption = False,
    skip_lint: SkipLintOption = False,
    var: VarOption = None,
    var_file: VarFileOption = None,
    only: OnlyOption = None,
    exclude: ExceptOption = None,
    on_error: OnErrorOption = None,
    debug: DebugOption = False,
    parallel_builds: ParallelOption = None,
    timestamp_ui: TimestampOption = False,
    allow_older: AllowOlderOption = False,
    build_all: AllOption = False,
    jobs: JobsOption = many.DEFAULT_JOBS,
    as_json: JsonOption = False,
) -> None:
    """Bake IMAGE with packer, then run its post-processing steps.

    Runs `lint` first and stops on errors. A version already published from the same inputs
    is skipped (exit 0); from other inputs it is refused (exit 9). A version below the latest
    published is refused (exit 14) unless --allow-older. Several images (or --all) build
    concurrently, -j at a time; the exit code is then the worst one (130 first).
    """
    loaded = project(ctx)
    settings = aws_settings(ctx, loaded)
    names = _names(images, build_all, list(loaded.config.images), debug=debug)
    if skip_lint:
        output.err.print("packerpy: WARNING: lint skipped (--skip-lint); the run record says so")
    base = BuildOptions(
        progress=output.err.print,
        timeout=timeout,
        force_bake=force_bake,
        skip_lint=skip_lint,
        choice=Choice(allow_older=allow_older),
        flags=BuildFlags(
            only=tuple(only or ()),
            exclude=tuple(exclude or ()),
            on_error=on_error,
            debug=debug,
            parallel_builds=parallel_builds,
            timestamp_ui=timestamp_ui,
        ),
    )
    user = {name: inputs.read_user_vars(loaded, name, var or [], var_file or []) for name in names}
    options = {name: _with_user(base, user[name]) for name in names}
    if len(names) > 1:
        _several(ctx, as_json, (loaded, names, settings), options, jobs)
        return
    on_event, close = _progress(output.err, spinner=not base.flags.interactive)
    try:
        chosen = dataclasses.replace(options[names[0]], on_event=on_event)
        result = pipeline.build(loaded, names[0], settings, chosen)
    finally:
        close()
    output.emit(ctx, as_json, result.to_data(), _lines(result))


def _with_user(base: BuildOptions, user: inputs.UserVars) -> BuildOptions:
    return dataclasses.replace(base, choice=dataclasses.replace(base.choice, user=user))


def _several(
    ctx: typer.Context,
    as_json: bool,
    what: tuple[Project, list[str], AwsSettings],
    options: dict[str, BuildOptions],
    jobs: int,
) -> None:
    """Several images, -j at a time, packer's lines prefixed with the image; one summary, and
    the worst exit code (many.worst)."""
    loaded, names, settings = what
    for name in names:
        lines = _progress(output.err, f"{name}: ", spinner=False)[0]
        options[name] = dataclasses.replace(options[name], on_event=lines)
    done = many.build_many(loaded, names, settings, options.__getitem__, jobs)
    if as_json:  # ok only when every image was built or skipped
        output.envelope(
            command_of(ctx),
            ok=not done.exit_code,
            data=done.to_data(),
            messages=[],
            code=done.exit_code,
        )
    else:
        output.emit(ctx, as_json, done.to_data(), summary_lines(done), code=done.exit_code)
    if done.exit_code:
        raise typer.Exit(done.exit_code)
