"""Read the estate cleanup decides on: every region concurrently, each fact once per region.

What the planner needs about AMIs it would keep anyway is never read: launch permissions
(one call per AMI, there is no list call) are read only for the AMIs no other rule keeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from packerpy.aws.clients import AwsClients
from packerpy.estate import catalog
from packerpy.naming import KEEP_TAG
from packerpy.retention import channels as channel_guard
from packerpy.retention import inventory, plan, reads
from packerpy.retention.model import Ami, Decision, Estate, Key, Policy
from packerpy.support.pool import per_region

DEFAULT_HISTORY = 3  # RetentionSection.channel_history's default


@dataclass(frozen=True)
class Scope:
    """What one cleanup run looks at, from the config and the command line."""

    project: str
    ssm_prefix: str
    regions: tuple[str, ...]
    policies: Mapping[str, Policy | None]  # every configured image
    images: tuple[str, ...] = ()  # only these (empty: every image)
    channels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # image -> channels
    # image -> how many past targets of each channel stay protected (retention.channel_history)
    channel_history: Mapping[str, int] = field(default_factory=dict)
    orphans: bool = False


@dataclass(frozen=True)
class RegionFacts:
    region: str
    amis: tuple[Ami, ...]
    used: dict[Key, tuple[str, ...]]
    channels: dict[Key, tuple[str, ...]]


def protections(aws: AwsClients, region: str, scope: Scope) -> dict[str, tuple[str, ...]]:
    """AMI id -> in-use and channel reasons in `region`, read now (the apply re-reads it)."""
    found = {ami: list(whys) for ami, whys in inventory.uses(aws, region).items()}
    for image, channels in scope.channels.items():
        if channels and (not scope.images or image in scope.images):
            where = (scope.ssm_prefix, scope.project, image)
            history = scope.channel_history.get(image, DEFAULT_HISTORY)
            got = channel_guard.protected(aws, region, where, channels, history)
            for ami, whys in got.items():
                found.setdefault(ami, []).extend(whys)
    return {ami: tuple(whys) for ami, whys in found.items()}


def _region(aws: AwsClients, region: str, scope: Scope) -> RegionFacts:
    images = catalog.project_images(aws, region, scope.project, scope.images)
    amis: list[Ami] = []
    used: dict[Key, tuple[str, ...]] = {}
    for image in images:
        state = image.get("State", "")
        if state == "deregistered":
            continue
        ami = inventory.to_ami(region, image)
        amis.append(ami)
        if state not in inventory.USABLE_STATES:  # a copy in flight, a failed AMI
            used[ami.key] = (f"state {state}",)
    protected = protections(aws, region, scope)
    channels: dict[Key, tuple[str, ...]] = {}
    for ami in amis:
        whys = protected.get(ami.ami_id, ())
        mine = tuple(w for w in whys if w.startswith("channel "))
        if mine:
            channels[ami.key] = mine
        others = tuple(w for w in whys if not w.startswith("channel "))
        if others:
            used[ami.key] = (*used.get(ami.key, ()), *others)
    return RegionFacts(region, tuple(amis), used, channels)


def survey(aws: AwsClients, scope: Scope, now: datetime) -> tuple[Estate, tuple[Decision, ...]]:
    """The estate of every region in `scope`, and the planner's decisions on it."""
    facts = per_region(list(scope.regions), lambda region: _region(aws, region, scope))
    estate = Estate(
        amis=tuple(a for f in facts for a in f.amis),
        used={k: v for f in facts for k, v in f.used.items()},
        channels={k: v for f in facts for k, v in f.channels.items()},
    )
    decisions = plan.decide(estate, scope.policies, now)
    # Launch permissions only where they could change the outcome: AMIs about to be deleted
    # of images whose policy does not ignore shares, and AMIs about to be archived (an
    # archived snapshot must be restored before its AMI launches, which no account the AMI is
    # shared with can do).
    askable = {
        d.ami.key
        for d in decisions
        if d.archive or (not d.keep and not include_shared(scope.policies.get(d.ami.image)))
    }
    if not askable:
        return estate, decisions
    by_region = {r: [a for (reg, a) in askable if reg == r] for r in scope.regions}
    shared = per_region(
        [r for r in scope.regions if by_region[r]],
        lambda region: (region, reads.shares(aws, region, by_region[region])),
    )
    estate = replace(
        estate,
        shared={(region, ami): whys for region, got in shared for ami, whys in got.items()},
    )
    return estate, plan.decide(estate, scope.policies, now)


def include_shared(policy: Policy | None) -> bool:
    return policy is not None and policy.include_shared


def recheck(aws: AwsClients, region: str, scope: Scope) -> dict[str, tuple[str, ...]]:
    """What protects AMIs in `region` now: uses, channels and keep tags, read again."""
    found = dict(protections(aws, region, scope))
    for image in catalog.project_images(aws, region, scope.project, scope.images, KEEP_TAG):
        found[image["ImageId"]] = (*found.get(image["ImageId"], ()), f"tagged {KEEP_TAG}")
    return found
