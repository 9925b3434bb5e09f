"""The command line: parse, call the core, render the result. The only module that prints.

Every command emits either text or, with --json, one envelope on stdout:
{"ok": bool, "command": str, "data": {...}, "messages": [...], "exit_code": int}.
Errors go through one boundary (`run`) that maps PackerpyError to its exit code.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import tempfile
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from packerpy import __version__
from packerpy.errors import (
    EXIT_CONFIG,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_LINT,
    EXIT_OK,
    EXIT_OUTDATED,
    PackerpyError,
)
from packerpy.support import signals

if TYPE_CHECKING:
    from packerpy.aws.settings import AwsSettings
    from packerpy.config import Project
    from packerpy.packer.events import Event

app = typer.Typer(
    name="packerpy",
    help="Typed config, rendered HCL2 and real Packer bakes as one versioned AMI release process.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
sandbox_app = typer.Typer(help="A local AWS (moto on 127.0.0.1) for demos and tests.")
app.add_typer(sandbox_app, name="sandbox")
version_app = typer.Typer(help="Show and bump an image's semantic version.")
app.add_typer(version_app, name="version")
images_app = typer.Typer(help="Published versions of an image.")
app.add_typer(images_app, name="images")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclasses.dataclass
class Invocation:
    """What the error boundary needs to know about the command being run."""

    command: str = "packerpy"
    json: bool = False
    config: Path | None = None
    region: str | None = None
    endpoint_url: str | None = None


_inv = Invocation()

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON envelope on stdout.")]


def _start(command: str, as_json: bool) -> None:
    _inv.command = command
    _inv.json = as_json


def _jsonable(value: Any) -> Any:  # noqa: ANN401 - converts arbitrary result trees
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.metadata.get("json", True)  # internal data (e.g. raw AWS responses) stays out
        }
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _emit(
    data: Any,  # noqa: ANN401 - any result object
    lines: Sequence[str],
    messages: Sequence[str] = (),
    exit_code: int = EXIT_OK,
) -> None:
    if _inv.json:
        envelope = {
            "ok": True,
            "command": _inv.command,
            "data": _jsonable(data),
            "messages": list(messages),
            "exit_code": exit_code,
        }
        out.print_json(json.dumps(envelope), highlight=False)
        return
    for line in lines:
        out.print(line)


def _project() -> Project:
    from packerpy import config  # noqa: PLC0415 - pydantic is imported only by commands using it

    return config.load(config.find_config(_inv.config))


def _settings(project: Project) -> AwsSettings:
    from packerpy.aws import settings  # noqa: PLC0415

    return settings.aws_settings(project, region=_inv.region, endpoint_url=_inv.endpoint_url)


def _version(value: bool) -> None:
    if value:
        out.print(f"packerpy {__version__}")
        raise typer.Exit


@app.callback()
def _global(
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
    _inv.config, _inv.region, _inv.endpoint_url = config, region, endpoint_url


@app.command()
def init(
    name: Annotated[str, typer.Argument(help="Name of the first image (and the project).")],
    directory: Annotated[Path, typer.Option("--dir", help="Where to create the project.")] = Path(),
    as_json: JsonOption = False,
) -> None:
    """Scaffold packerpy.toml, hcl_templates/ and provisioners/ for a new project."""
    _start("init", as_json)
    from packerpy import scaffold  # noqa: PLC0415

    result = scaffold.init(name, directory.resolve())
    _emit(result, [f"created {path}" for path in result.created] + ["next: packerpy validate"])


@app.command()
def validate(
    image: Annotated[str | None, typer.Argument(help="Only this image.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Check the config and each rendered template (python-hcl2, packer fmt, packer validate)."""
    _start("validate", as_json)
    from packerpy.bake import pipeline  # noqa: PLC0415

    project = _project()
    result = pipeline.validate(project, _settings(project), image)
    lines = [f"{project.label}: config ok (packer {result.packer_version})"]
    lines += [f"{c.image}: template ok ({', '.join(c.checks[1:])})" for c in result.images]
    _emit(result, lines)


@app.command()
def render(
    image: Annotated[str, typer.Argument(help="Image to render.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write into.")] = Path(
        "build"
    ),
    as_json: JsonOption = False,
) -> None:
    """Write the HCL2 template and var file packerpy would run for IMAGE."""
    _start("render", as_json)
    from packerpy.bake import pipeline  # noqa: PLC0415

    project = _project()
    result = pipeline.render_to(project, image, _settings(project), out_dir.resolve())
    _emit(result, [f"wrote {result.template}", f"wrote {result.var_file}"])


def _progress(stream: Console) -> tuple[Any, Any]:
    """An on_event callback showing packer's progress on stderr, and a closer for it."""
    from packerpy.packer.events import RawLine, UiEvent  # noqa: PLC0415

    status = stream.status("starting packer") if stream.is_terminal else None
    if status is not None:
        status.start()

    def on_event(event: Event) -> None:
        if isinstance(event, UiEvent):
            text = event.text.strip()
            if not text:
                return
            if status is not None:
                status.update(escape(text.splitlines()[0]))
            else:
                stream.print(escape(text))
        elif isinstance(event, RawLine) and event.text.strip():
            stream.print(escape(event.text))

    def close() -> None:
        if status is not None:
            status.stop()

    return on_event, close


@app.command()
def build(
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
    _start("build", as_json)
    from packerpy.bake import pipeline  # noqa: PLC0415

    project = _project()
    settings = _settings(project)
    if skip_lint:
        err.print("packerpy: WARNING: lint skipped (--skip-lint); the run record says so")
    on_event, close = _progress(err)
    try:
        result = pipeline.build(
            project,
            image,
            settings,
            on_event=on_event,
            timeout=timeout,
            force_bake=force_bake,
            progress=lambda line: err.print(escape(line)),
            skip_lint=skip_lint,
        )
    finally:
        close()
    total = sum(result.timings.values())
    if result.skipped:
        lines = [f"skipped the bake of {image}: {result.reason}"]
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
    _emit(result, lines)


@app.command()
def publish(
    image: Annotated[str, typer.Argument(help="Image.")],
    version: Annotated[str, typer.Argument(help="Published version to converge.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print what would change.")
    ] = False,
    prune: Annotated[
        bool, typer.Option("--prune", help="Remove shares the config no longer lists.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Converge an existing version to the config: copies, shares, tags, deprecation."""
    _start("publish", as_json)
    from packerpy.release import publish as publishing  # noqa: PLC0415

    project = _project()
    result = publishing.publish(
        project,
        _settings(project),
        image,
        version,
        dry_run=dry_run,
        prune=prune,
        progress=lambda line: err.print(escape(line)),
    )
    mode = "dry run: " if dry_run else ""
    lines = [
        f"{image} {version}: {mode}{len(result.mutating)} mutating of {result.calls} AWS calls, "
        f"{len(result.amis)} region(s)",
        *(f"  {step.step}: {a}" for step in result.steps for a in step.actions),
    ]
    if len(lines) == 1:
        lines.append("  already converged")
    _emit(result, lines)


@version_app.command("show")
def version_show(
    image: Annotated[str, typer.Argument(help="Image.")], as_json: JsonOption = False
) -> None:
    """Configured version, latest published version, and what each bump would give."""
    _start("version show", as_json)
    from packerpy.estate import queries as releases  # noqa: PLC0415

    project = _project()
    shown = releases.show(project, _settings(project), image)
    state = "published" if shown.configured_is_published else "not published yet"
    lines = [
        f"{image}: configured {shown.configured} ({state}); "
        f"latest published {shown.latest_published or 'none'}",
        *(f"  bump {part:<10} -> {version}" for part, version in shown.next.items()),
    ]
    _emit(shown, lines)


@version_app.command("bump")
def version_bump(
    image: Annotated[str, typer.Argument(help="Image.")],
    part: Annotated[str, typer.Argument(help="major, minor, patch, prerelease or release.")],
    as_json: JsonOption = False,
) -> None:
    """Bump IMAGE's version in packerpy.toml (comments and layout are kept)."""
    _start("version bump", as_json)
    from packerpy.config import edit  # noqa: PLC0415

    done = edit.bump(_project(), image, part)
    _emit(done, [f"{image}: {done.old} -> {done.new} ({done.config})"])


@images_app.command("list")
def images_list(
    image: Annotated[str, typer.Argument(help="Image.")], as_json: JsonOption = False
) -> None:
    """Published versions of IMAGE in SemVer order, with their regions and AMIs."""
    _start("images list", as_json)
    from packerpy.estate import queries as releases  # noqa: PLC0415

    project = _project()
    listed = releases.list_images(project, _settings(project), image)
    lines = [
        f"{v.version:<20} " + "  ".join(f"{r}={ami}" for r, ami in v.amis.items())
        for v in listed.versions
    ] or [f"{image}: no published versions"]
    _emit(listed, lines)


@app.command()
def outdated(as_json: JsonOption = False) -> None:
    """Images whose base filter now selects a newer AMI than their latest version was built on.

    Exits 0 when none is outdated and 10 when some are (for CI gates).
    """
    _start("outdated", as_json)
    from packerpy.estate import queries as releases  # noqa: PLC0415

    project = _project()
    found = releases.outdated(project, _settings(project))
    lines = [
        f"{o.image} {o.version}: built on {o.built_on}, base now selects {o.current_base} "
        f"({o.current_base_name})"
        for o in found.outdated
    ]
    lines += [f"{name}: up to date" for name in found.up_to_date]
    lines += [f"{name}: not checked ({why})" for name, why in found.not_checked.items()]
    code = EXIT_OUTDATED if found.outdated else EXIT_OK
    _emit(found, lines, exit_code=code)
    if code:
        raise typer.Exit(code)


@app.command()
def lint(as_json: JsonOption = False) -> None:
    """Secrets (detect-secrets) and policy findings over the project.

    Exits 0 when there are no errors (warnings allowed) and 11 when there are.
    """
    _start("lint", as_json)
    from packerpy import lint as linting  # noqa: PLC0415
    from packerpy.errors import PackerMissingError  # noqa: PLC0415
    from packerpy.packer import binary as packer  # noqa: PLC0415

    project = _project()
    messages: list[str] = []
    try:
        info: packer.PackerInfo | None = packer.detect()
    except PackerMissingError as exc:
        # Linting needs no packer: only the packer-version rule (PPL002) goes unchecked.
        info = None
        messages.append(f"PPL002 not checked: {exc.message}")
        if not as_json:
            err.print(escape(messages[-1]))
    result = linting.lint(project, info)
    lines = [
        escape(
            f"{f.file}{'' if f.line is None else f':{f.line}'}: {f.severity} {f.rule} "
            f"{f.message} (fix: {f.fix})"
        )
        for f in result.findings
    ]
    lines.append(
        f"{result.errors} error(s), {result.warnings} warning(s) in {len(result.scanned)} file(s)"
    )
    data = {
        "findings": result.findings,
        "scanned": result.scanned,
        "errors": result.errors,
        "warnings": result.warnings,
    }
    code = EXIT_LINT if result.errors else EXIT_OK
    _emit(data, lines, messages, exit_code=code)
    if code:
        raise typer.Exit(code)


@app.command()
def schema() -> None:
    """Print the JSON Schema of packerpy.toml."""
    _start("schema", False)
    from packerpy import config  # noqa: PLC0415

    out.print_json(json.dumps(config.json_schema()), highlight=False)


def _state_dir() -> Path:
    return Path.cwd() / ".packerpy"


@sandbox_app.command("start")
def sandbox_start(
    port: Annotated[int | None, typer.Option("--port", help="Port (default: a free one).")] = None,
    amis: Annotated[
        Path | None, typer.Option("--amis", help="JSON list of images replacing moto's defaults.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Start moto on 127.0.0.1 and print export lines for `eval`."""
    _start("sandbox start", as_json)
    from packerpy import sandbox  # noqa: PLC0415

    box = sandbox.start(_state_dir(), port=port, amis_path=amis.resolve() if amis else None)
    what = "started" if box.started else "already running"
    err.print(f"sandbox {what} at {box.endpoint_url} (pid {box.pid})")
    _emit({**dataclasses.asdict(box), "exports": box.exports()}, box.exports())


@sandbox_app.command("stop")
def sandbox_stop(as_json: JsonOption = False) -> None:
    """Stop the sandbox started from this directory."""
    _start("sandbox stop", as_json)
    from packerpy import sandbox  # noqa: PLC0415

    box = sandbox.stop(_state_dir())
    line = "no sandbox was running" if box is None else f"sandbox at {box.endpoint_url} stopped"
    _emit(box, [line])


@sandbox_app.command("status")
def sandbox_status(as_json: JsonOption = False) -> None:
    """Show whether the sandbox runs; exits 1 when it does not."""
    _start("sandbox status", as_json)
    from packerpy import sandbox  # noqa: PLC0415

    box = sandbox.status(_state_dir())
    if box is None or not box.running:
        raise PackerpyError("sandbox: not running (start it with `packerpy sandbox start`)")
    _emit(box, [f"sandbox running at {box.endpoint_url} (pid {box.pid})", *box.exports()])


def _fail(message: str, detail: Sequence[str], code: int) -> int:
    err.print(f"packerpy: error: {escape(message)}")
    for line in detail:
        err.print(f"  {escape(line)}")
    if _inv.json:
        envelope = {
            "ok": False,
            "command": _inv.command,
            "data": {},
            "messages": [message, *detail],
            "exit_code": code,
        }
        out.print_json(json.dumps(envelope), highlight=False)
    return code


def _crash_log() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = Path(tempfile.gettempdir()) / f"packerpy-crash-{stamp}.log"
    path.write_text(traceback.format_exc())
    return path


def run(argv: Sequence[str] | None = None) -> int:
    """The error boundary: the only place exceptions become exit codes."""
    signals.sigterm_as_interrupt()
    command = typer.main.get_command(app)
    try:
        rv = command.main(
            args=list(argv) if argv is not None else None,
            prog_name="packerpy",
            standalone_mode=False,
        )
    except PackerpyError as exc:
        return _fail(exc.message, exc.detail, exc.exit_code)
    except typer.Abort:  # how typer reports a KeyboardInterrupt outside packer
        return _fail("interrupted", (), EXIT_INTERRUPTED)
    except typer.TyperException as exc:  # usage errors: typer prints them with the usage line
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        code = getattr(exc, "exit_code", EXIT_CONFIG)
        return code if isinstance(code, int) and code else EXIT_CONFIG
    except KeyboardInterrupt:
        return _fail("interrupted", (), EXIT_INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - the boundary: a bug becomes exit 3 plus a log
        log = _crash_log()
        return _fail(
            f"internal error: {type(exc).__name__}: {exc} (traceback: {log}); please report it",
            (),
            EXIT_INTERNAL,
        )
    if rv == EXIT_INTERRUPTED:  # typer turns a KeyboardInterrupt into a silent exit 130
        return _fail("interrupted", (), EXIT_INTERRUPTED)
    return rv if isinstance(rv, int) else EXIT_OK


def main() -> NoReturn:
    sys.exit(run())
