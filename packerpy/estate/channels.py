"""Channels, read side: which version (and AMI) each channel of an image points at, per region.

A channel is one SSM String parameter per region, `<ssm_prefix>/<project>/<image>/<channel>`,
DataType `aws:ec2:image`, whose value is that region's AMI id (naming.channel_parameter). Its
history is SSM's parameter history (GetParameterHistory: every value it held, with the labels
packerpy put on each, `v1.5.0`). One GetParameterHistory per channel and region, concurrently.

Cleanup, rollout and report import this module: `read_channels(...)` gives a `ChannelsView`,
`view.current(channel, region)` the entry a consumer resolves now. Nothing here mutates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packerpy.aws.clients import AwsClients, translated
from packerpy.estate import catalog
from packerpy.naming import channel_parameter
from packerpy.support.pool import per_region


@dataclass(frozen=True)
class Entry:
    """One value a channel's parameter held in one region (one SSM parameter version)."""

    parameter_version: int
    ami: str
    # The packerpy version that AMI is (found by the catalog), None for an AMI it does not know.
    version: str | None
    labels: tuple[str, ...] = ()
    modified: str = ""  # ISO 8601, when SSM recorded the value


@dataclass(frozen=True)
class RegionChannel:
    region: str
    parameter: str
    history: tuple[Entry, ...] = ()  # oldest first; empty while the parameter does not exist

    @property
    def current(self) -> Entry | None:
        return self.history[-1] if self.history else None


@dataclass(frozen=True)
class ChannelView:
    channel: str
    regions: Mapping[str, RegionChannel]  # region -> what the channel holds there

    @property
    def version(self) -> str | None:
        """The version the channel points at, if every region points at the same known one."""
        found = {r.current.version if r.current else None for r in self.regions.values()}
        return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class ChannelsView:
    image: str
    channels: Mapping[str, ChannelView]  # in the configured (promotion) order
    # Every published version of the image, oldest first, for callers that need the AMIs.
    published: tuple[catalog.Published, ...] = field(default=(), repr=False)

    def current(self, channel: str, region: str) -> Entry | None:
        """What `channel` resolves to in `region` now (None: not set there)."""
        return self.channels[channel].regions[region].current

    def pointing_at(self, version: str) -> tuple[str, ...]:
        """The channels whose current value is `version` in at least one region."""
        return tuple(
            name
            for name, view in self.channels.items()
            if any(
                r.current and r.current.version and catalog.same_version(r.current.version, version)
                for r in view.regions.values()
            )
        )


def versions_by_ami(published: Iterable[catalog.Published]) -> dict[str, str]:
    """AMI id -> the packerpy version it is, over every region."""
    return {ami: p.version for p in published for ami in p.amis.values()}


def history(aws: AwsClients, region: str, name: str) -> list[dict[str, Any]]:
    """GetParameterHistory of `name` in `region`, oldest first; [] when it does not exist."""
    ssm = aws.ssm(region)
    found: list[dict[str, Any]] = []
    with translated(f"read the history of {name}", region):
        try:
            for page in ssm.get_paginator("get_parameter_history").paginate(Name=name):
                found.extend(page["Parameters"])
        except ssm.exceptions.ParameterNotFound:
            return []
    return sorted(found, key=lambda item: int(item["Version"]))


def _entry(item: Mapping[str, Any], known: Mapping[str, str]) -> Entry:
    modified: Any = item.get("LastModifiedDate")
    return Entry(
        parameter_version=int(item["Version"]),
        ami=str(item["Value"]),
        version=known.get(str(item["Value"])),
        labels=tuple(item.get("Labels", ())),
        modified=modified.isoformat() if hasattr(modified, "isoformat") else str(modified or ""),
    )


def read_channels(
    aws: AwsClients,
    project: str,
    image: str,
    channels: Sequence[str],
    regions: Sequence[str],
    prefix: str,
    published: Sequence[catalog.Published] | None = None,
) -> ChannelsView:
    """Every channel of `image` in every region, with history; `published` saves a catalog read."""
    found = tuple(
        published
        if published is not None
        else catalog.published(aws, image, regions, project=project)
    )
    known = versions_by_ami(found)

    def read(region: str) -> dict[str, RegionChannel]:
        out = {}
        for channel in channels:
            name = channel_parameter(prefix, project, image, channel)
            items = history(aws, region, name)
            out[channel] = RegionChannel(region, name, tuple(_entry(i, known) for i in items))
        return out

    by_region = dict(zip(regions, per_region(list(regions), read), strict=True))
    views = {c: ChannelView(c, {r: by_region[r][c] for r in regions}) for c in channels}
    return ChannelsView(image=image, channels=views, published=found)
