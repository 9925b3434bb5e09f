"""`packerpy build`: bake images with packer and run their post-processing steps."""

from __future__ import annotations

import dataclasses

import typer

from packerpy.aws.settings import AwsSettings
from packerpy.bake import inputs, many, pipeline
from packerpy.bake.options import BuildOptions
from packerpy.bake.plan import Choice
from packerpy.cli import output, progress
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
from packerpy.cli.invocation import JsonOption, aws_settings, cli_context, project
from packerpy.config import Project
from packerpy.errors import ConfigError
from packerpy.packer.binary import BuildFlags

app = module_app()


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
    # --- progress (cli/progress.py): none when packer talks to the terminal itself ---
    quiet = cli_context(ctx).quiet or base.flags.interactive
    board = progress.Board(output.err, progress.mode_for(output.err, as_json=as_json, quiet=quiet))
    if len(names) > 1:
        _several(ctx, as_json, (loaded, names, settings), options, (jobs, board))
        return
    result = _one(board, (loaded, names[0], settings), options[names[0]])
    output.emit(ctx, as_json, result.to_data(), progress.summary(result, output.table))


def _one(
    board: progress.Board, what: tuple[Project, str, AwsSettings], options: BuildOptions
) -> pipeline.BuildResult:
    """One image, its progress view on the board until it ends, however it ends."""
    loaded, name, settings = what
    view = board.view(name)
    with board.shown():
        try:
            result = pipeline.build(loaded, name, settings, _watched(options, view))
        except BaseException:
            view.finish("failed")
            raise
        view.finish("skipped" if result.skipped else "built")
    return result


def _watched(options: BuildOptions, view: progress.BuildView) -> BuildOptions:
    return dataclasses.replace(
        options, on_phase=view.phase, on_event=view.event, progress=view.step
    )


def _with_user(base: BuildOptions, user: inputs.UserVars) -> BuildOptions:
    return dataclasses.replace(base, choice=dataclasses.replace(base.choice, user=user))


def _several(
    ctx: typer.Context,
    as_json: bool,
    what: tuple[Project, list[str], AwsSettings],
    options: dict[str, BuildOptions],
    running: tuple[int, progress.Board],
) -> None:
    """Several images, -j at a time, a progress view each; one summary, and the worst exit
    code (many.worst)."""
    loaded, names, settings = what
    jobs, board = running
    views = {name: board.view(name) for name in names}
    watched = {name: _watched(options[name], views[name]) for name in names}
    with board.shown():
        done = many.build_many(loaded, names, settings, watched.__getitem__, jobs)
        for outcome in done.outcomes:
            views[outcome.image].finish(outcome.status)
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
