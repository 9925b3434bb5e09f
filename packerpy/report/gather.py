"""Read the estate for the report: versions by packerpy's tags, channels from SSM, verdicts and
scores from the AMIs' tags. Read-only: one DescribeImages per image and region, one
GetParametersByPath per image and region, one GetParameterHistory per channel (build region),
one DescribeImageAttribute per version (build region)."""

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
from packerpy.support.pool import per_region
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


def _channel_values(aws: AwsClients, region: str, path: str) -> dict[str, str]:  # channel -> AMI id
    ssm = aws.ssm(region)
    found: dict[str, str] = {}
    with translated(f"read channels under {path}", region):
        for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path):
            for parameter in page["Parameters"]:
                found[parameter["Name"].rsplit("/", 1)[-1]] = parameter["Value"]
    return found


def _history(aws: AwsClients, region: str, name: str) -> list[tuple[str, str]]:
    """(ISO time, AMI id) of every value the parameter held, oldest first."""
    events = []
    for entry in channels.history(aws, region, name):
        at = entry.get("LastModifiedDate")
        stamp = at.astimezone(UTC).isoformat() if isinstance(at, datetime) else str(at)
        events.append((stamp, str(entry["Value"])))
    return sorted(events)


def _shared_with(aws: AwsClients, region: str, ami: str) -> int:
    with translated(f"read launch permissions of {ami}", region):
        found = aws.ec2(region).describe_image_attribute(ImageId=ami, Attribute="launchPermission")
    return len(found.get("LaunchPermissions", []))


class _Reader:
    def __init__(self, aws: AwsClients, project: str, prefix: str, now: datetime) -> None:
        self.aws, self.project, self.prefix, self.now = aws, project, prefix, now

    def image(self, name: str, image: ImageConfig, default_region: str) -> ImageReport:
        regions = image_regions(image, default_region)
        published = catalog.published(self.aws, name, regions, project=self.project)
        path = naming.channel_parameter(self.prefix, self.project, name, "x").rsplit("/", 1)[0]
        current_amis = dict(
            per_region(list(regions), lambda r: (r, _channel_values(self.aws, r, path)))
        )
        version_of = {ami: p.version for p in published for ami in p.amis.values()}
        current = {
            region: {ch: version_of.get(ami, ami) for ch, ami in values.items()}
            for region, values in current_amis.items()
        }
        rows = tuple(self._row(p, current_amis) for p in published)
        present = tuple(ch for ch in image.channels if ch in current_amis.get(regions[0], {}))
        promotions = self._promotions(name, regions[0], present, version_of)
        return ImageReport(
            name=name,
            regions=regions,
            channels=image.channels,
            versions=rows,
            promotions=promotions,
            current=current,
        )

    def _row(self, p: catalog.Published, current: Mapping[str, Mapping[str, str]]) -> VersionRow:
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
                for region, values in current.items()
                for ch, ami in values.items()
                if p.amis.get(region) == ami
            }
        )
        first = next(iter(p.amis.items()))
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
            vulnerabilities=None,
            shared_with=_shared_with(self.aws, first[0], first[1]),
            cleanup="",
        )

    def _promotions(
        self, name: str, region: str, channels: tuple[str, ...], version_of: Mapping[str, str]
    ) -> tuple[ChannelEvent, ...]:
        events: list[ChannelEvent] = []
        for channel in channels:
            parameter = naming.channel_parameter(self.prefix, self.project, name, channel)
            history = _history(self.aws, region, parameter)
            events += [
                ChannelEvent(channel=channel, version=version_of.get(ami, ami), at=at)
                for at, ami in history
            ]
        return tuple(sorted(events, key=lambda e: e.at))


def _with_scans(project: Project, aws: AwsClients, image: ImageReport) -> ImageReport:
    """Each version's vulnerability count at or above scan.fail_on, when the image has
    advisories configured (the offline scan of its SBOM, vuln/gate.py)."""
    if project.image(image.name).scan.advisories is None:
        return image

    def scanned(row: VersionRow) -> VersionRow:
        region, ami = row.amis[0].region, row.amis[0].ami
        with translated(f"describe {ami}", region):
            found = aws.ec2(region).describe_images(ImageIds=[ami])["Images"]
        tags = {t["Key"]: t["Value"] for t in (found[0].get("Tags", []) if found else [])}
        _ok, _reason, findings = gate.check(project, aws, image.name, tags, region)
        return dataclasses.replace(row, vulnerabilities=len(findings))

    return dataclasses.replace(image, versions=tuple(scanned(v) for v in image.versions))


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
    reader = _Reader(AwsClients(settings), config.project.name, config.project.ssm_prefix, moment)
    chosen = names or tuple(config.images)
    images = tuple(reader.image(n, project.image(n), settings.region) for n in chosen)
    images = tuple(_with_scans(project, reader.aws, image) for image in images)
    images, totals = _with_cleanup(project, reader.aws, images, moment)
    return EstateReport(
        project=config.project.name,
        generated=moment.replace(microsecond=0).isoformat(),
        images=images,
        cleanup=totals,
    )
