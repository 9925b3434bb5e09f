"""`packerpy doctor`: the machine and project checks, as a table or one envelope."""

from __future__ import annotations

import typer
from rich.table import Table

from packerpy import doctor as core
from packerpy.cli import output
from packerpy.cli.commands import module_app
from packerpy.cli.invocation import JsonOption, cli_context
from packerpy.contract import DoctorCheckData, DoctorData
from packerpy.errors import EXIT_ERROR, EXIT_OK

app = module_app()


def _data(report: core.Report) -> DoctorData:
    checks = report.checks

    def count(status: str) -> int:
        return sum(1 for check in checks if check.status == status)

    return DoctorData(
        checks=[
            DoctorCheckData(name=c.name, status=c.status, found=c.found, fix=c.fix) for c in checks
        ],
        ok=count("ok"),
        warnings=count("warn"),
        failures=count("fail"),
        skipped=count("skip"),
    )


def _table(report: core.Report) -> Table:
    table = Table()
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    # Fold, never truncate: a path or a command in a cell is what the user acts on.
    table.add_column("found", overflow="fold")
    table.add_column("fix", overflow="fold")
    for check in report.checks:
        table.add_row(check.name, check.status, check.found, check.fix)
    return table


@app.command("doctor")
def doctor(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Check packer, its amazon plugin, shellcheck, git, the config, AWS and the sandbox.

    Each check is ok, warn, fail or skip (with the reason). Exits 0 when nothing failed
    (warnings allowed) and 1 when a check failed.
    """
    options = cli_context(ctx)
    inputs = core.Inputs(
        config=options.config, region=options.region, endpoint_url=options.endpoint_url
    )
    report = core.run(inputs)
    data = _data(report)
    code = EXIT_ERROR if report.failed else EXIT_OK
    summary = (
        f"{data.ok} ok, {data.warnings} warning(s), {data.failures} failure(s), "
        f"{data.skipped} skipped"
    )
    if as_json:
        output.emit(ctx, as_json, data, [], code=code)
    else:
        output.out.print(_table(report))
        output.out.print(summary)
    if code:
        raise typer.Exit(code)
