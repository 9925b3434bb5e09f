"""`packerpy sbom` and `packerpy scan`: what is in an image, and which advisories affect it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from packerpy.aws.clients import AwsClients
from packerpy.cli import output
from packerpy.cli.commands import module_app
from packerpy.cli.invocation import JsonOption, aws_settings, project
from packerpy.contract import (
    LicenceFindingData,
    SbomData,
    ScanAllData,
    ScanData,
    VersionScanData,
    VulnFindingData,
)
from packerpy.errors import EXIT_OK, FindingsError, PackerpyError
from packerpy.naming import SBOM_TAG
from packerpy.vuln import cdx, gate, inventory, osv, published
from packerpy.vuln.scan import Finding, ScanResult, scan

app = module_app()

Format = Literal["cyclonedx-json", "spdx-json"]
Level = Literal["low", "medium", "high", "critical"]


@app.command("sbom")
def sbom_command(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image.")],
    version: Annotated[str, typer.Argument(help="Published version.")],
    fmt: Annotated[
        Format, typer.Option("--format", help="cyclonedx-json (as stored) or spdx-json.")
    ] = "cyclonedx-json",
    as_json: JsonOption = False,
) -> None:
    """Print the SBOM stored with a published version (S3 or its run record)."""
    loaded = project(ctx)
    aws = AwsClients(aws_settings(ctx, loaded))
    found = published.find(loaded, aws, image, version)
    text = stored = published.sbom_text(loaded, aws, image, version)
    if fmt == "spdx-json":
        document = json.loads(text)
        meta = cdx.metadata(document)
        subject = cdx.Subject(
            meta.get("project", ""),
            image,
            found.version,
            {k.removeprefix("ami:"): v for k, v in meta.items() if k.startswith("ami:")},
            _created(document),
        )
        text = cdx.spdx(inventory.parse(document, f"{image} {version} SBOM"), subject)
    if not as_json:
        output.out.file.write(text)
        return
    data = SbomData(
        image=image,
        version=found.version,
        format=fmt,
        uri=found.tags.get(SBOM_TAG, ""),
        sha256=hashlib.sha256(stored.encode()).hexdigest(),
        document=json.loads(text),
    )
    output.emit(ctx, as_json, data, [])


def _created(document: dict[str, object]) -> datetime:
    meta = document.get("metadata")
    stamp = meta.get("timestamp") if isinstance(meta, dict) else None
    return datetime.fromisoformat(stamp) if isinstance(stamp, str) else datetime.now(UTC)


def _finding(f: Finding) -> VulnFindingData:
    return VulnFindingData(
        advisory=f.advisory,
        aliases=list(f.aliases),
        package=f.package,
        installed=f.installed,
        fixed=f.fixed,
        severity=f.severity,
        score=f.score,
    )


def _line(f: Finding) -> str:
    cve = f" ({', '.join(a for a in f.aliases if a.startswith('CVE-'))})" if f.aliases else ""
    fixed = f"fixed in {f.fixed}" if f.fixed else "no fix yet"
    score = f" {f.score:.1f}" if f.score is not None else ""
    return f"  {f.severity}{score} {f.advisory}{cve}: {f.package} {f.installed}, {fixed}"


def _report(ctx: typer.Context, as_json: bool, result: ScanResult, fail_on: str | None) -> None:
    ok, reason = gate.evaluate(result, fail_on) if fail_on else (result.checked, "report only")
    data = ScanData(
        inventory=result.inventory,
        advisories=result.advisories,
        ecosystem=result.ecosystem,
        packages=result.packages,
        advisory_count=result.advisory_count,
        fail_on=fail_on,
        ok=ok,
        reason=reason,
        counts=dict(result.counts),
        findings=[_finding(f) for f in result.findings],
        licences=[LicenceFindingData(**vars(f)) for f in result.licences],
        notes=list(result.notes),
    )
    summary = ", ".join(f"{n} {k}" for k, n in result.counts.items() if n) or "no findings"
    lines = [
        f"{result.inventory}: {result.packages} packages ({result.ecosystem}) against "
        f"{result.advisory_count} advisories: {summary}",
        *(_line(f) for f in result.findings),
        *(f"  licence {f.denied}: {f.package} {f.version} ({f.license})" for f in result.licences),
    ]
    if fail_on:
        lines.append(reason)
    code = EXIT_OK if ok or not fail_on else FindingsError.exit_code
    output.emit(ctx, as_json, data, lines, messages=result.notes, code=code)
    if code:
        raise typer.Exit(code)


def _scan_all(
    ctx: typer.Context, as_json: bool, image: str, advisories: Path, fail_on: str | None
) -> None:
    loaded = project(ctx)
    aws = AwsClients(aws_settings(ctx, loaded))
    scans = published.scan_all(loaded, aws, image, advisories)
    rows = []
    lines = []
    bad = False
    for entry in scans:
        found = entry.result.findings if entry.result else ()
        bad = bad or bool(fail_on and entry.result and not gate.evaluate(entry.result, fail_on)[0])
        on = f" [{', '.join(entry.channels)}]" if entry.channels else ""
        counts = dict(entry.result.counts) if entry.result else {}
        shown = ", ".join(f"{n} {k}" for k, n in counts.items() if n) or "no findings"
        # An error names the image and version already ("web 1.0.0: no SBOM ...").
        lines.append(
            f"{entry.error}{on}" if entry.error else f"{image} {entry.version}{on}: {shown}"
        )
        lines.extend(_line(f) for f in found)
        rows.append(
            VersionScanData(
                version=entry.version,
                channels=list(entry.channels),
                scanned=entry.result is not None,
                error=entry.error,
                counts=counts,
                findings=[_finding(f) for f in found],
            )
        )
    data = ScanAllData(
        image=image, advisories=str(advisories), fail_on=fail_on, ok=not bad, versions=rows
    )
    code = FindingsError.exit_code if bad else EXIT_OK
    output.emit(ctx, as_json, data, lines or [f"{image}: no published versions"], code=code)
    if code:
        raise typer.Exit(code)


@app.command("scan")
def scan_command(  # noqa: PLR0913 - one command, three forms (README, Vulnerabilities and SBOM)
    ctx: typer.Context,
    image: Annotated[str | None, typer.Argument(help="Image.")] = None,
    version: Annotated[str | None, typer.Argument(help="Published version.")] = None,
    advisories: Annotated[
        Path | None,
        typer.Option("--advisories", help="OSV data: a directory of JSON or an all.zip."),
    ] = None,
    fail_on: Annotated[
        Level | None, typer.Option("--fail-on", help="Exit 16 at this severity or above.")
    ] = None,
    all_versions: Annotated[
        bool, typer.Option("--all-versions", help="Every published version of IMAGE.")
    ] = False,
    sbom: Annotated[
        Path | None, typer.Option("--sbom", help="A CycloneDX SBOM or inventory.json (no AWS).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Scan a version's SBOM offline against OSV advisories (exit 16 at --fail-on)."""
    if sbom is not None:
        if advisories is None:
            raise PackerpyError("scan --sbom: --advisories PATH is required")
        index = osv.load(advisories)
        _report(ctx, as_json, scan(inventory.load(sbom), index), fail_on)
        return
    if image is None:
        raise PackerpyError("scan: give IMAGE VERSION, IMAGE --all-versions, or --sbom FILE")
    loaded = project(ctx)
    section = loaded.image(image).scan
    # --advisories is relative to the working directory, scan.advisories to the project.
    source = advisories or (loaded.root / section.advisories if section.advisories else None)
    if source is None:
        raise PackerpyError(
            f"{loaded.label}: images.{image}.scan.advisories is not set; pass --advisories PATH"
        )
    threshold = fail_on or section.fail_on
    if all_versions:
        _scan_all(ctx, as_json, image, source, fail_on)
        return
    if version is None:
        raise PackerpyError(f"scan {image}: give a VERSION or --all-versions")
    aws = AwsClients(aws_settings(ctx, loaded))
    result = published.scan_version(loaded, aws, image, version, source)
    _report(ctx, as_json, result, threshold)
