"""Read the estate for the report: versions by packerpy's tags (estate/catalog), channels and
their history (estate/channels), verdicts and scores from the AMIs' tags. Read-only: one
DescribeImages per image and region, one GetParameterHistory per channel and region, one
DescribeImageAttribute per version (build region); the scan and cleanup's plan when configured."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from packerpy import naming
from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.settings import AwsSettings
from packerpy.config import ImageConfig, Project, image_regions
from packerpy.estate import catalog, channels
from packerpy.report.model import (
    ChannelEvent,
    CleanupTotals,
    EstateReport,
    ImageReport,
    RegionAmi,
    VersionRow,
)
from packerpy.retention import cleanup as retention
from packerpy.retention import cost
from packerpy.vuln import gate


def _size_gib(description: Mapping[str, Any]) -> int:
    return sum(
        int(m["Ebs"].get("VolumeSize", 0))
        for m in description.get("BlockDeviceMappings", [])
        if "Ebs" in m
    )


def _age_days(created: str, now: datetime) -> int:
    try:
        when = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return 0
    return max(0, (now - when).days)


def _shared_with(aws: AwsClients, region: str, ami: str) -> int:
    with translated(f"read launch permissions of {ami}", region):
        found = aws.ec2(region).describe_image_attribute(ImageId=ami, Attribute="launchPermission")
    return len(found.get("LaunchPermissions", []))


class _Reader:
    def __init__(self, aws: AwsClients, project: Project, now: datetime) -> None:
        self.aws, self.project, self.now = aws, project, now
        self.owner = project.config.project.name

    def image(self, name: str, image: ImageConfig, default_region: str) -> ImageReport:
        regions = image_regions(image, default_region)
        published = catalog.published(self.aws, name, regions, project=self.owner)
        view = channels.read_channels(
            self.aws,
            self.owner,
            name,
            image.channels,
            regions,
            self.project.config.project.ssm_prefix,
            published,
        )
        now_on = {
            region: {ch: entry for ch in image.channels if (entry := view.current(ch, region))}
            for region in regions
        }
        promotions = sorted(
            (
                ChannelEvent(channel=ch, version=entry.version or entry.ami, at=entry.modified)
                for ch in image.channels
                for entry in view.channels[ch].regions[regions[0]].history
            ),
            key=lambda event: event.at,
        )
        return ImageReport(
            name=name,
            regions=regions,
            channels=image.channels,
            versions=tuple(self._row(name, p, now_on) for p in published),
            promotions=tuple(promotions),
            current={
                region: {ch: entry.version or entry.ami for ch, entry in entries.items()}
                for region, entries in now_on.items()
                if entries
            },
        )

    def _row(
        self,
        name: str,
        p: catalog.Published,
        now_on: Mapping[str, Mapping[str, channels.Entry]],
    ) -> VersionRow:
        amis = tuple(
            RegionAmi(
                region=region,
                ami=ami,
                state=str(p.descriptions.get(region, {}).get("State", "")),
                public=bool(p.descriptions.get(region, {}).get("Public", False)),
                size_gib=_size_gib(p.descriptions.get(region, {})),
            )
            for region, ami in p.amis.items()
        )
        on = sorted(
            {
                ch
                for region, entries in now_on.items()
                for ch, entry in entries.items()
                if p.amis.get(region) == entry.ami
            }
        )
        first_region, first_ami = next(iter(p.amis.items()))
        tags = p.tags
        return VersionRow(
            version=p.version,
            created=p.created,
            age_days=_age_days(p.created, self.now),
            amis=amis,
            channels=tuple(on),
            verified=tags.get(naming.VERIFIED_TAG, ""),
            verify_reason=tags.get(naming.VERIFY_REASON_TAG, ""),
            revoked=tags.get(naming.REVOKED_TAG, ""),
            compliance_score=tags.get(naming.COMPLIANCE_SCORE_TAG, ""),
            vulnerabilities=self._findings(name, tags, first_region),
            shared_with=_shared_with(self.aws, first_region, first_ami),
            cleanup="",
        )

    def _findings(self, name: str, tags: Mapping[str, str], region: str) -> int | None:
        """Findings of the offline scan of the version's SBOM (vuln/gate.py), when the image
        has advisories configured; None (not scanned) otherwise."""
        if self.project.image(name).scan.advisories is None:
            return None
        _ok, _reason, findings = gate.check(self.project, self.aws, name, tags, region)
        return len(findings)


def _with_cleanup(
    project: Project, aws: AwsClients, images: tuple[ImageReport, ...], now: datetime
) -> tuple[tuple[ImageReport, ...], CleanupTotals | None]:
    """Each version's cleanup decision and the totals, when an image has a retention policy
    (cleanup's own plan, read-only: what `packerpy cleanup` would do now)."""
    names = tuple(i.name for i in images if project.image(i.name).retention is not None)
    if not names:
        return images, None
    regions = tuple(dict.fromkeys(r for i in images if i.name in names for r in i.regions))
    prepared = retention.prepare(
        aws, retention.scope_of(project, regions, names), retention.prices_of(project), now
    )
    by_ami = {d.ami.ami_id: d for d in prepared.decisions}

    def decided(row: VersionRow) -> VersionRow:
        found = [by_ami[a.ami] for a in row.amis if a.ami in by_ami]
        if not found:
            return row
        verdict = "delete" if all(not d.keep for d in found) else "keep"
        return dataclasses.replace(row, cleanup=verdict, cleanup_reasons=found[0].reasons)

    images = tuple(
        dataclasses.replace(i, versions=tuple(decided(v) for v in i.versions)) for i in images
    )
    total = cost.total(prepared.costs)
    return images, CleanupTotals(
        amis=total.amis,
        snapshots=total.snapshots,
        gib=total.gib,
        monthly_usd=round(total.monthly_saving, 2),
        prices_as_of=prepared.prices.as_of,
    )


def gather(
    project: Project,
    settings: AwsSettings,
    names: tuple[str, ...] = (),
    *,
    now: datetime | None = None,
) -> EstateReport:
    """The report of `names` (default: every image of the project)."""
    config = project.config
    moment = now or datetime.now(UTC)
    reader = _Reader(AwsClients(settings), project, moment)
    chosen = names or tuple(config.images)
    images = tuple(reader.image(n, project.image(n), settings.region) for n in chosen)
    images, totals = _with_cleanup(project, reader.aws, images, moment)
    return EstateReport(
        project=config.project.name,
        generated=moment.replace(microsecond=0).isoformat(),
        images=images,
        cleanup=totals,
    )
