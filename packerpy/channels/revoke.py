"""`revoke`: a version off every channel, tagged revoked and deprecated now, in every region.

Per region, in this order (a region stops at its first failure; a re-run finishes it):
1. tag the AMI and its snapshots `packerpy:revoked = <reason>` and `packerpy:revoked-at`, so a
   concurrent promote and every later build (bake/plan.py) refuse it from then on;
2. every channel pointing at it goes back to its previous good version (rollback's rule); a
   channel with none left has its parameter deleted there, so consumers fail to resolve it
   instead of launching a revoked image;
3. deprecate it now: EnableImageDeprecation refuses a time in the past and rounds seconds to
   the minute (EC2 API reference), so "now" is the start of the next-but-one minute.
Each step is skipped where it is already done: a re-run with the same reason makes no call
that changes anything.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from packerpy.aws.clients import translated
from packerpy.aws.operation import Action, Mode
from packerpy.aws.settings import AwsSettings
from packerpy.channels import common, run
from packerpy.channels.rollback import previous_good
from packerpy.config import Project
from packerpy.estate import catalog
from packerpy.estate import channels as reader
from packerpy.naming import REVOKED_AT_TAG, REVOKED_TAG


@dataclass(frozen=True)
class Moved:
    channel: str
    region: str
    to_version: str | None  # None: no earlier good version, the parameter is deleted


@dataclass(frozen=True)
class RevokeResult(run.Reported):
    image: str
    version: str
    reason: str
    amis: dict[str, str]
    moved: tuple[Moved, ...]
    deprecate_at: str
    ran: run.Ran


def deprecate_time(now: datetime) -> datetime:
    """The soonest time EnableImageDeprecation accepts with margin: the next-but-one minute."""
    return now.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=2)


def _tag(image: common.Image, region: str, target: catalog.Published, reason: str) -> Action:
    ami = target.amis[region]
    described = target.descriptions.get(region, {})
    snapshots = [
        m["Ebs"]["SnapshotId"]
        for m in described.get("BlockDeviceMappings", [])
        if "SnapshotId" in m.get("Ebs", {})
    ]
    resources = (ami, *snapshots)
    tags = {REVOKED_TAG: reason, REVOKED_AT_TAG: common.now_text()}

    def execute(_cancel: threading.Event) -> object:
        with translated(f"tag {ami} revoked", region):
            image.aws.ec2(region).create_tags(
                Resources=list(resources), Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )
        return None

    payload = {"Resources": list(resources), "Tags": tags}
    return Action(
        region, "tag", resources, f"{REVOKED_TAG}={reason}", payload=payload, execute=execute
    )


def _delete(image: common.Image, region: str, channel: str) -> Action:
    name = image.parameter(channel)

    def execute(_cancel: threading.Event) -> object:
        ssm = image.aws.ssm(region)
        with translated(f"delete {name}", region):
            try:
                ssm.delete_parameter(Name=name)
            except ssm.exceptions.ParameterNotFound:
                return None
        return None

    detail = f"{channel}: no earlier good version; consumers stop resolving it"
    return Action(region, "delete", (name,), detail, payload={"Name": name}, execute=execute)


def _deprecate(image: common.Image, region: str, ami: str, at: datetime) -> Action:
    def execute(_cancel: threading.Event) -> object:
        with translated(f"deprecate {ami}", region):
            image.aws.ec2(region).enable_image_deprecation(ImageId=ami, DeprecateAt=at)
        return None

    payload = {"ImageId": ami, "DeprecateAt": at.isoformat()}
    return Action(
        region, "deprecate", (ami,), f"at {at.isoformat()}", payload=payload, execute=execute
    )


def _moves(
    image: common.Image, view: reader.ChannelsView, target: catalog.Published
) -> tuple[list[Moved], dict[str, list[Action]]]:
    """Where each channel pointing at the version goes, and the actions per region."""
    moved: list[Moved] = []
    actions: dict[str, list[Action]] = {r: [] for r in image.regions}
    for channel, channel_view in view.channels.items():
        for region, held in channel_view.regions.items():
            entry = held.current
            if entry is None or entry.ami != target.amis.get(region):
                continue
            back = previous_good(image, held.history[:-1], entry)
            moved.append(Moved(channel, region, back.version if back else None))
            before = entry.parameter_version
            actions[region].append(
                common.set_action(image, region, channel, back, before)
                if back
                else _delete(image, region, channel)
            )
    return moved, actions


def revoke(
    project: Project,
    settings: AwsSettings,
    name: str,
    version: str,
    reason: str,
    mode: Mode | None = None,
) -> RevokeResult:
    """Revoke `version` of `name` (module doc): off the channels, tagged, deprecated."""
    mode = mode or Mode()
    image = common.load(project, settings, name)
    target = image.version(version)
    view = image.read()
    moved, channel_actions = _moves(image, view, target)
    at = deprecate_time(datetime.now(UTC))
    plan: list[Action] = []
    for region, ami in target.amis.items():
        if common.tags_in(target, region).get(REVOKED_TAG) != reason:
            plan.append(_tag(image, region, target, reason))
        plan.extend(channel_actions.get(region, []))
        deprecation = target.descriptions.get(region, {}).get("DeprecationTime")
        if not deprecation or datetime.fromisoformat(str(deprecation)) > at:
            plan.append(_deprecate(image, region, ami, at))
    ran = run.apply(plan, mode, image.aws, f"revoke {name} {target.version}")
    return RevokeResult(
        image=name,
        version=target.version,
        reason=reason,
        amis=dict(target.amis),
        moved=tuple(moved),
        deprecate_at=at.isoformat(),
        ran=ran,
    )
