"""`promote`: point a channel at a version in every region of the image, through its gates.

Gates, in order (each a one-line Refused, exit 14): the version exists and is available in
every declared region; it is not revoked; it passed verify (`packerpy:verified = pass` in
every region) unless --force, which tags `packerpy:forced` on the AMIs; it is on the previous
channel now, in every region (the strict rule: not merely once, so a version rolled back off
staging cannot reach prod) unless --skip-order, recorded in the same tag. A region already
pointing at the version's AMI (and labelled) is left alone: a re-run completes a partial
promotion and a converged one makes no mutating call.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from packerpy.aws.clients import translated
from packerpy.aws.operation import Action, Mode
from packerpy.aws.settings import AwsSettings
from packerpy.channels import common, run
from packerpy.config import Project
from packerpy.estate import catalog
from packerpy.estate import channels as reader
from packerpy.naming import FORCED_TAG, version_label

# EC2 tag values: at most 256 Unicode characters (EC2 User Guide, "Tag restrictions").
TAG_VALUE_MAX = 256


@dataclass(frozen=True)
class PromoteOptions:
    force: bool = False
    skip_order: bool = False


@dataclass(frozen=True)
class PromoteResult(run.Reported):
    image: str
    version: str
    channel: str
    parameter: str
    amis: dict[str, str]  # region -> the AMI the channel points at (or will, in a dry run)
    previous: dict[str, str | None]  # region -> the version it pointed at before (None: unset)
    forced: tuple[str, ...]  # the gates passed by --force / --skip-order ("verify", "order")
    ran: run.Ran


def _order(
    image: common.Image, view: reader.ChannelsView, target: catalog.Published, channel: str
) -> str | None:
    """Why the version is not on the channel before `channel` now (None: it is, or first)."""
    index = image.channels.index(channel)
    if index == 0:
        return None
    before = image.channels[index - 1]
    for region in image.regions:
        now = view.current(before, region)
        if now is None or now.ami != target.amis[region]:
            holds = now.version or now.ami if now else "nothing"
            return (
                f"not on {before} in {region} ({before} holds {holds}; {channel} takes a "
                f"version from {before}): promote it to {before} first, or pass --skip-order"
            )
    return None


def gates(
    image: common.Image,
    view: reader.ChannelsView,
    target: catalog.Published,
    channel: str,
    options: PromoteOptions,
) -> tuple[str, ...]:
    """Refuse a version that fails a gate; the gates passed by option, for the record."""
    why = common.usable(image, target)
    if why:
        raise common.refuse(image, target.version, why)
    reason = common.revoked(target)
    if reason is not None:
        raise common.refuse(image, target.version, f"is revoked ({reason}); it cannot be promoted")
    forced: list[str] = []
    why = common.verified(target, image.regions)
    if why and not options.force:
        raise common.refuse(
            image,
            target.version,
            f"is not verified ({why}): run `packerpy verify {image.name} {target.version}`, "
            "or promote with --force (recorded on the AMI)",
        )
    if why:
        forced.append("verify")
    why = _order(image, view, target, channel)
    if why and not options.skip_order:
        raise common.refuse(image, target.version, why)
    if why:
        forced.append("order")
    return tuple(forced)


def _converged(entry: reader.Entry | None, ami: str, label: str) -> bool:
    return entry is not None and entry.ami == ami and label in entry.labels


def _forced_tag(image: common.Image, region: str, ami: str, value: str) -> Action:
    def execute(_cancel: threading.Event) -> object:
        with translated(f"tag {ami} {FORCED_TAG}", region):
            image.aws.ec2(region).create_tags(
                Resources=[ami], Tags=[{"Key": FORCED_TAG, "Value": value}]
            )
        return None

    payload = {"Resources": [ami], "Tags": {FORCED_TAG: value}}
    return Action(region, "tag", (ami,), f"{FORCED_TAG}={value}", payload=payload, execute=execute)


def forced_value(existing: str, entry: str) -> str:
    """The tag with `entry` appended (oldest entries dropped past AWS's 256-character limit)."""
    entries = [*filter(None, existing.split("; ")), entry]
    while len("; ".join(entries)) > TAG_VALUE_MAX and len(entries) > 1:
        entries.pop(0)
    return "; ".join(entries)[:TAG_VALUE_MAX]


def plan(
    image: common.Image,
    view: reader.ChannelsView,
    target: catalog.Published,
    channel: str,
    forced: tuple[str, ...],
) -> list[Action]:
    """Per region: the forced tag (when a gate was passed by option), then the write."""
    actions: list[Action] = []
    label = version_label(target.version)
    record = f"{channel}: {'+'.join(forced)}"
    for region in image.regions:
        ami = target.amis[region]
        tagged = common.tags_in(target, region).get(FORCED_TAG, "")
        if forced and not any(e.startswith(record) for e in tagged.split("; ")):
            value = forced_value(tagged, f"{record} at {common.now_text()}")
            actions.append(_forced_tag(image, region, ami, value))
        entry = view.current(channel, region)
        if _converged(entry, ami, label):
            continue
        before = entry.parameter_version if entry else None
        if entry is not None and entry.ami == ami:  # written, label missing: label that version
            actions.append(_label_action(image, region, channel, entry, label))
            continue
        actions.append(common.set_action(image, region, channel, target, before))
    return actions


def _label_action(
    image: common.Image, region: str, channel: str, entry: reader.Entry, label: str
) -> Action:
    name = image.parameter(channel)

    def execute(_cancel: threading.Event) -> object:
        with translated(f"label {name} version {entry.parameter_version} {label}", region):
            image.aws.ssm(region).label_parameter_version(
                Name=name, ParameterVersion=entry.parameter_version, Labels=[label]
            )
        return None

    payload = {"Name": name, "ParameterVersion": entry.parameter_version, "Labels": [label]}
    return Action(region, "label", (name,), label, payload=payload, execute=execute)


def promote(
    project: Project,
    settings: AwsSettings,
    name: str,
    version: str,
    channel: str,
    options: PromoteOptions | None = None,
    mode: Mode | None = None,
) -> PromoteResult:
    """Point `channel` at `version` in every region, or refuse naming the gate (module doc)."""
    options, mode = options or PromoteOptions(), mode or Mode()
    image = common.load(project, settings, name, channel)
    target = image.version(version)
    index = image.channels.index(channel)
    view = image.read(image.channels[max(0, index - 1) : index + 1])
    forced = gates(image, view, target, channel, options)
    actions = plan(image, view, target, channel, forced)
    what = f"promote {name} {target.version} to {channel}"
    ran = run.apply(actions, mode, image.aws, what)
    return PromoteResult(
        image=name,
        version=target.version,
        channel=channel,
        parameter=image.parameter(channel),
        amis={r: target.amis[r] for r in image.regions},
        previous={
            r: (e.version or e.ami) if (e := view.current(channel, r)) else None
            for r in image.regions
        },
        forced=forced,
        ran=ran,
    )
