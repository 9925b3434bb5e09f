"""Published versions' SBOMs and scans: `sbom IMAGE VERSION`, `scan IMAGE VERSION`, and
`scan IMAGE --all-versions` (which versions, and which channels, carry which advisory).

Read-only: versions are found by their tags (estate.catalog), channels by their SSM
parameters (naming.channel_parameter), SBOMs where the `packerpy:sbom` tag says.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from packerpy import naming
from packerpy.aws.clients import AwsClients, translated
from packerpy.config import Project, image_regions
from packerpy.errors import PackerpyError
from packerpy.estate import catalog
from packerpy.vuln import inventory, osv, store
from packerpy.vuln.scan import ScanResult, scan


@dataclass(frozen=True)
class VersionScan:
    version: str
    channels: tuple[str, ...]  # channels whose parameter points at this version's AMI
    result: ScanResult | None
    error: str = ""  # why it was not scanned (no SBOM, ...)


def _all(project: Project, aws: AwsClients, name: str) -> tuple[list[catalog.Published], str]:
    regions = image_regions(project.image(name), aws.settings.region)
    found = catalog.published(aws, name, regions, project=project.config.project.name)
    return found, regions[0]


def find(project: Project, aws: AwsClients, name: str, version: str) -> catalog.Published:
    found, _region = _all(project, aws, name)
    match = next((p for p in found if catalog.same_version(p.version, version)), None)
    if match is None:
        known = ", ".join(p.version for p in found) or "none"
        raise PackerpyError(f"{name} {version}: not published (published: {known})")
    return match


def sbom_text(project: Project, aws: AwsClients, name: str, version: str) -> str:
    """The stored CycloneDX SBOM of a published version, checked against its SHA-256 tag."""
    found = find(project, aws, name, version)
    return store.read(project, aws, found.tags, next(iter(found.amis)))


def scan_version(
    project: Project, aws: AwsClients, name: str, version: str, advisories: Path
) -> ScanResult:
    text = sbom_text(project, aws, name, version)
    found = inventory.parse_text(text, f"{name} {version} SBOM")
    return scan(found, osv.load(advisories), project.image(name).scan.deny_licenses)


def channels(
    project: Project, aws: AwsClients, name: str, found: list[catalog.Published], region: str
) -> dict[str, tuple[str, ...]]:
    """version -> the channels whose SSM parameter (in the image's first region) names its AMI."""
    by_ami = {ami: p.version for p in found for ami in p.amis.values()}
    result: dict[str, list[str]] = {}
    for channel in project.image(name).channels:
        parameter = naming.channel_parameter(
            project.config.project.ssm_prefix, project.config.project.name, name, channel
        )
        client = aws.ssm(region)
        with translated(f"GetParameter {parameter}", region):
            try:
                value = client.get_parameter(Name=parameter)["Parameter"]["Value"]
            except client.exceptions.ParameterNotFound:
                continue  # a channel nothing was promoted to yet
        if value in by_ami:
            result.setdefault(by_ami[value], []).append(channel)
    return {version: tuple(names) for version, names in result.items()}


def scan_all(project: Project, aws: AwsClients, name: str, advisories: Path) -> list[VersionScan]:
    """Every published version of `name` scanned against the same advisories (indexed once)."""
    found, region = _all(project, aws, name)
    index = osv.load(advisories)
    on = channels(project, aws, name, found, region)
    deny = project.image(name).scan.deny_licenses
    scans = []
    for version in found:
        try:
            text = store.read(project, aws, version.tags, next(iter(version.amis)))
            packages = inventory.parse_text(text, f"{name} {version.version} SBOM")
            result: ScanResult | None = scan(packages, index, deny)
            error = ""
        except PackerpyError as exc:
            result, error = None, exc.message
        scans.append(VersionScan(version.version, on.get(version.version, ()), result, error))
    return scans
