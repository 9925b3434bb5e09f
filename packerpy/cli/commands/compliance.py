"""`packerpy compliance IMAGE VERSION` and `packerpy compliance scan --root DIR`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from packerpy.aws.clients import AwsClients
from packerpy.cli import output
from packerpy.cli.commands import CommandGroup, module_app
from packerpy.cli.invocation import JsonOption, aws_settings, project
from packerpy.compliance import record, scan
from packerpy.compliance.summary import Summary
from packerpy.config import image_regions
from packerpy.contract import ComplianceData
from packerpy.errors import ConfigError
from packerpy.estate import catalog


class _ShowByDefault(CommandGroup):
    """`compliance IMAGE VERSION` is `compliance show IMAGE VERSION`: a first argument that is
    no subcommand (nor an option) names an image."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # noqa: ANN401 - click ctx
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        result: list[str] = super().parse_args(ctx, args)
        return result


app = module_app()
compliance_app = typer.Typer(
    cls=_ShowByDefault,
    help="OpenSCAP compliance of a published version, or an offline scan of a root.",
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(compliance_app, name="compliance")


def _data(summary: Summary | None, **fields: Any) -> ComplianceData:  # noqa: ANN401 - JSON values
    counts: dict[str, Any] = {"passed": None, "failed": None, "notapplicable": None}
    if summary is not None:
        counts = {
            "passed": summary.passed,
            "failed": summary.failed,
            "notapplicable": summary.notapplicable,
            "failed_rules": list(summary.failed_rules),
        }
    return ComplianceData(**{"failed_rules": [], **counts, **fields})


def _lines(data: ComplianceData, what: str) -> list[str]:
    score = "no score" if data.score is None else f"score {data.score:.1f}"
    counts = "" if data.passed is None else f" ({data.passed} pass, {data.failed} fail)"
    gate = f", below min_score {data.min_score:g}" if data.below_min_score else ""
    lines = [f"{what}: {score}{counts}{gate}", f"  profile {data.profile or 'unknown'}"]
    if data.content:
        lines.append(f"  content {data.content}")
    lines += [f"  failed {rule}" for rule in data.failed_rules]
    if data.report:
        lines.append(f"  report {data.report}")
    return lines


@compliance_app.command("show")
def show(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image.")],
    version: Annotated[str, typer.Argument(help="Published version.")],
    as_json: JsonOption = False,
) -> None:
    """Score, failed rules and report of a published version (its tags and run record)."""
    loaded = project(ctx)
    settings = aws_settings(ctx, loaded)
    spec = loaded.image(image)
    found = catalog.published(
        AwsClients(settings),
        image,
        image_regions(spec, settings.region),
        project=loaded.config.project.name,
    )
    match = [p for p in found if catalog.same_version(p.version, version)]
    if not match:
        raise ConfigError(f"{image} {version}: not published (see `packerpy images list {image}`)")
    got = record.version_scan(
        loaded.runs_dir(), image, match[0].version, match[0].amis, match[0].tags
    )
    minimum = (
        float(spec.compliance.min_score)
        if spec.compliance and spec.compliance.min_score is not None
        else None
    )
    data = _data(
        got.summary,
        image=image,
        version=got.version,
        root=None,
        amis=got.amis,
        profile=got.profile,
        content=got.content,
        score=got.score,
        min_score=minimum,
        below_min_score=minimum is not None and (got.score or 0.0) < minimum,
        report=got.report,
        run_dir=got.run_dir,
    )
    output.emit(ctx, as_json, data, _lines(data, f"{image} {got.version}"))


@compliance_app.command("scan")
def scan_root(
    ctx: typer.Context,
    root: Annotated[Path, typer.Option("--root", help="The root directory to scan.")],
    profile: Annotated[
        str, typer.Option("--profile", help="XCCDF profile id, e.g. anssi_np_nt28_average.")
    ],
    content: Annotated[
        str | None,
        typer.Option("--content", help="SCAP data stream (default: from the root's OS)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Keep the ARF results and HTML report here."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Scan a root directory offline with OpenSCAP (like oscap-chroot); no AWS."""
    with tempfile.TemporaryDirectory(prefix="packerpy-compliance-") as tmp:
        result = scan.scan_root(root, profile, out or Path(tmp), content)
        summary = result.summary
        data = _data(
            summary,
            image=None,
            version=None,
            root=str(root),
            amis={},
            profile=summary.profile,
            content=f"{summary.content} {summary.content_version}".strip(),
            score=summary.score,
            min_score=None,
            below_min_score=False,
            report=result.report if out else None,
            run_dir=None,
        )
    output.emit(ctx, as_json, data, _lines(data, str(root)))
