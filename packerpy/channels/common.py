"""What promote, rollback and revoke share: the image's channels in AWS, and one channel write.

A write is `PutParameter(Overwrite=True)`, then a check of the version SSM gave it. SSM has no
compare-and-swap (PutParameter has no expected-version condition:
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html), so a
write is guarded by the parameter version read when planning (`before`): PutParameter returns the
version it created, and SSM numbers versions one by one, so the writer that got `before + 1` was
first after the state both writers planned from and wins. A writer that got a later version
raced: it puts back the value its write replaced (only while its own write is still the newest)
and raises Conflict (exit 15) naming the parameter. Residual window: a third write between the
loser's check and its put-back is overwritten by the put-back; the history shows all of them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.operation import Action
from packerpy.aws.settings import AwsSettings
from packerpy.config import Project, image_regions
from packerpy.errors import ConfigError, Conflict, PackerpyError, Refused
from packerpy.estate import catalog
from packerpy.estate import channels as reader
from packerpy.naming import REVOKED_TAG, VERIFIED_TAG, channel_parameter, version_label

# What consumers resolve: EC2 validates the value is an AMI id (real SSM; moto does not).
DATA_TYPE = "aws:ec2:image"


@dataclass(frozen=True)
class Image:
    """One image's channel context: names, regions and its published versions in AWS."""

    aws: AwsClients
    project: str
    name: str
    channels: tuple[str, ...]
    regions: tuple[str, ...]
    prefix: str
    published: tuple[catalog.Published, ...]

    def parameter(self, channel: str) -> str:
        return channel_parameter(self.prefix, self.project, self.name, channel)

    def read(self, channels: Sequence[str] | None = None) -> reader.ChannelsView:
        chosen = self.channels if channels is None else tuple(channels)
        return reader.read_channels(
            self.aws, self.project, self.name, chosen, self.regions, self.prefix, self.published
        )

    def version(self, version: str) -> catalog.Published:
        found = next((p for p in self.published if catalog.same_version(p.version, version)), None)
        if found is None:
            known = ", ".join(p.version for p in self.published) or "none"
            raise PackerpyError(
                f"{self.name} {version}: not published in {', '.join(self.regions)} "
                f"(published: {known}); bake it first: packerpy build {self.name}"
            )
        return found


def load(project: Project, settings: AwsSettings, name: str, channel: str | None = None) -> Image:
    """The image's context; `channel`, when given, must be one the image declares."""
    spec = project.image(name)
    if channel is not None and channel not in spec.channels:
        declared = ", ".join(spec.channels) or "none"
        raise ConfigError(
            f"{project.label}: images.{name}.channels: no channel {channel!r} "
            f"(declared: {declared})"
        )
    aws = AwsClients(settings)
    regions = image_regions(spec, settings.region)
    found = catalog.published(aws, name, regions, project=project.config.project.name)
    return Image(
        aws=aws,
        project=project.config.project.name,
        name=name,
        channels=spec.channels,
        regions=regions,
        prefix=project.config.project.ssm_prefix,
        published=tuple(found),
    )


def view(project: Project, settings: AwsSettings, name: str) -> reader.ChannelsView:
    """Every channel of the image in every region, with history (`packerpy channels`)."""
    return load(project, settings, name).read()


def tags_in(published: catalog.Published, region: str) -> dict[str, str]:
    image = published.descriptions.get(region, {})
    return {t["Key"]: t["Value"] for t in image.get("Tags", [])}


def revoked(published: catalog.Published) -> str | None:
    """The reason the version was revoked (in any region), else None."""
    reasons = (tags_in(published, r).get(REVOKED_TAG) for r in published.amis)
    return next((r for r in reasons if r is not None), None)


def verified(published: catalog.Published, regions: Sequence[str]) -> str | None:
    """Why the version does not count as verified in `regions` (None: pass everywhere)."""
    for region in regions:
        verdict = tags_in(published, region).get(VERIFIED_TAG)
        if verdict != "pass":
            return f"{VERIFIED_TAG} = {verdict or 'unset'} in {region}"
    return None


def usable(image: Image, published: catalog.Published) -> str | None:
    """Why the version cannot be a channel's value in every region (None: it can).

    Real SSM rejects an aws:ec2:image value that is not an existing AMI (asynchronously);
    moto accepts anything, so packerpy checks DescribeImages' state itself.
    """
    for region in image.regions:
        if region not in published.amis:
            return f"not in {region} (a region of images.{image.name})"
        state = published.descriptions.get(region, {}).get("State")
        if state != "available":
            return f"{published.amis[region]} in {region} is {state}, not available"
    return None


def set_action(
    image: Image, region: str, channel: str, target: catalog.Published, before: int | None
) -> Action:
    """Point `channel` in `region` at the version's AMI, labelled, guarded by `before`."""
    name = image.parameter(channel)
    ami = target.amis[region]
    label = version_label(target.version)

    def execute(_cancel: threading.Event) -> object:
        return write(image.aws, region, name, ami, label, before)

    payload = {"Name": name, "Value": ami, "DataType": DATA_TYPE, "Label": label}
    detail = f"{channel} -> {target.version} ({ami})"
    return Action(region, "set", (name,), detail, payload=payload, execute=execute)


def write(
    aws: AwsClients, region: str, name: str, value: str, label: str, before: int | None
) -> int:
    """Write and label one parameter; Conflict when another writer got in first (module doc)."""
    ssm = aws.ssm(region)
    with translated(f"write {name}", region):
        written = int(
            ssm.put_parameter(
                Name=name, Value=value, Type="String", DataType=DATA_TYPE, Overwrite=True
            )["Version"]
        )
    if written != (before or 0) + 1:
        _put_back(aws, region, name, written)
        raise Conflict(
            f"aws {region}: {name} was changed by another writer while this one wrote it "
            f"(planned from version {before or 0}, wrote version {written}); "
            "check `packerpy channels` and run again"
        )
    with translated(f"label {name} version {written} {label}", region):
        ssm.label_parameter_version(Name=name, ParameterVersion=written, Labels=[label])
    return written


def _put_back(aws: AwsClients, region: str, name: str, written: int) -> None:
    """Undo a losing write while it is still the newest, so the winner's value stands."""
    items = reader.history(aws, region, name)
    if not items or int(items[-1]["Version"]) != written or len(items) < 2:
        return
    previous = items[-2]
    with translated(f"put back {name}", region):
        aws.ssm(region).put_parameter(
            Name=name, Value=previous["Value"], Type="String", DataType=DATA_TYPE, Overwrite=True
        )


def now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


def refuse(image: Image, version: str, why: str) -> Refused:
    return Refused(f"{image.name} {version}: {why}")
