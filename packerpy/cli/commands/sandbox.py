"""`packerpy sandbox start|status|stop`: a local AWS (moto) for demos and tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from packerpy import sandbox
from packerpy.cli import output
from packerpy.cli.commands import group_app, module_app
from packerpy.cli.invocation import JsonOption
from packerpy.contract import EmptyData, SandboxData
from packerpy.errors import PackerpyError

app = module_app()
sandbox_app = group_app("A local AWS (moto on 127.0.0.1) for demos and tests.")
app.add_typer(sandbox_app, name="sandbox")


def _data(box: sandbox.Sandbox) -> SandboxData:
    return SandboxData(
        pid=box.pid,
        port=box.port,
        endpoint_url=box.endpoint_url,
        state_file=box.state_file,
        log_file=box.log_file,
        running=box.running,
        started=box.started,
        exports=box.exports(),
    )


@sandbox_app.command("start")
def sandbox_start(
    ctx: typer.Context,
    port: Annotated[int | None, typer.Option("--port", help="Port (default: a free one).")] = None,
    amis: Annotated[
        Path | None, typer.Option("--amis", help="JSON list of images replacing moto's defaults.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Start moto on 127.0.0.1 (once per user) and print export lines for `eval`.

    Run it again, from any directory: a running sandbox is reused and the same lines printed.
    """
    box = sandbox.start(
        sandbox.default_state_dir(), port=port, amis_path=amis.resolve() if amis else None
    )
    what = "started" if box.started else "already running"
    output.err.print(f"sandbox {what} at {box.endpoint_url} (pid {box.pid})")
    output.emit(ctx, as_json, _data(box), box.exports())


@sandbox_app.command("stop")
def sandbox_stop(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Stop the user's sandbox (only a process verified to be that sandbox is signalled)."""
    box = sandbox.stop(sandbox.default_state_dir())
    if box is None:
        output.emit(ctx, as_json, EmptyData(), ["no sandbox was running"])
        return
    if box.stale is not None:
        message = f"removed a stale sandbox state file {box.state_file}: {box.stale}"
        output.emit(ctx, as_json, _data(box), ["nothing was stopped"], messages=[message])
        return
    output.emit(ctx, as_json, _data(box), [f"sandbox at {box.endpoint_url} stopped"])


@sandbox_app.command("status")
def sandbox_status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show whether the sandbox runs and its export lines; exits 1 when it does not.

    stdout holds only `export` lines, so `eval "$(packerpy sandbox status)"` works.
    """
    box = sandbox.status(sandbox.default_state_dir())
    if box is None or not box.running:
        raise PackerpyError("sandbox: not running (start it with `packerpy sandbox start`)")
    message = f"sandbox running at {box.endpoint_url} (pid {box.pid})"
    output.emit(ctx, as_json, _data(box), box.exports(), messages=[message])
