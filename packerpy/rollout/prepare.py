"""Before a rollout acts: what to roll out where, whether it may, and the claim on the group.

Reads only, until `claim`. The claim is a tag written, then read back after CLAIM_SETTLE: of two
rollouts that write it at nearly the same time, the later write wins and the earlier writer sees
that and refuses. The window left: a second writer whose read-then-write takes longer than
CLAIM_SETTLE can overwrite a claim its owner has already confirmed (README "Rollouts").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from packerpy.aws.clients import AwsClients, translated
from packerpy.errors import Refused
from packerpy.naming import VERSION_TAG
from packerpy.rollout import state
from packerpy.rollout.groups import Group, Groups
from packerpy.rollout.model import RolloutOptions

CLAIM_SETTLE = 1.0  # seconds between writing the claim and reading it back
# A claim from another host is taken over once its heartbeat is this old: no process we can see
# is rolling it, and every step of a live one refreshes the heartbeat well within this.
STALE = timedelta(minutes=30)


@dataclass(frozen=True)
class Target:
    """What a rollout works from: the AMI and its version, blue, and the state to resume."""

    ami: str
    version: str
    blue: Group
    from_ami: str
    source_version: str  # the template version blue uses, as a number
    latest_version: int  # the template's latest version number (the next is one more)
    resume: state.State | None
    logical: str  # the name users give the group (it follows the live group)


def _ami_version(aws: AwsClients, region: str, ami: str) -> str:
    ec2 = aws.ec2(region)
    with translated(f"describe the channel's AMI {ami}", region):
        images = ec2.describe_images(ImageIds=[ami])["Images"]
    if not images:
        raise Refused(f"the channel's AMI {ami} does not exist in {region}")
    tags = {t["Key"]: t["Value"] for t in images[0].get("Tags") or ()}
    return tags.get(VERSION_TAG, "unknown")


def _refuse_or_resume(found: state.State, blue: Group, ami: str, strategy: str) -> state.State:
    """The state to resume, or Refused when another rollout holds the group."""
    if found.ami != ami or found.strategy != strategy:
        raise Refused(
            f"{blue.name}: a {found.strategy} rollout of {found.ami} by {found.by} (started "
            f"{found.started}) is in progress; `packerpy rollout abort` it first"
        )
    alive = state.owner_alive(found.owner)
    stale = _age(found.heartbeat) > STALE
    if alive or (alive is None and not stale):
        raise Refused(
            f"{blue.name}: already being rolled out to {ami} by {found.owner} "
            f"(heartbeat {found.heartbeat}); watch it with `packerpy rollout status`"
        )
    return found


def _age(stamp: str) -> timedelta:
    try:
        then = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return timedelta.max
    return datetime.now(UTC) - then


def target(aws: AwsClients, options: RolloutOptions, ami: str) -> Target:
    """Reads only: the group, its template version and AMI, and any rollout to resume."""
    groups = Groups(aws, options.region)
    blue = groups.live(options.asg)
    if not blue.template_id:
        raise Refused(
            f"{blue.name}: uses no launch template (launch configurations and mixed "
            "instances policies are not supported)"
        )
    found = blue.state
    resume = _refuse_or_resume(found, blue, ami, options.strategy) if found else None
    source = groups.template_version(blue.template_id, blue.template_version)
    from_ami = str(source.get("LaunchTemplateData", {}).get("ImageId", ""))
    if resume is None and blue.desired == 0:
        raise Refused(f"{blue.name}: desired capacity is 0; nothing to roll out to")
    ec2 = aws.ec2(options.region)
    with translated(f"describe launch template {blue.template_id}", options.region):
        template = ec2.describe_launch_templates(LaunchTemplateIds=[blue.template_id])
    return Target(
        ami=ami,
        version=_ami_version(aws, options.region, ami),
        blue=blue,
        from_ami=resume.from_ami if resume else from_ami,
        source_version=str(source["VersionNumber"]),
        latest_version=int(template["LaunchTemplates"][0]["LatestVersionNumber"]),
        resume=resume,
        logical=blue.tags.get(state.NAME, options.asg),
    )


def initial_state(found: Target, options: RolloutOptions, green: str) -> state.State:
    stamp = state.now()
    blue = found.blue
    return state.State(
        owner=state.me(),
        strategy=options.strategy,
        image=options.image,
        version=found.version,
        ami=found.ami,
        from_ami=found.from_ami,
        template=f"{blue.template_id}:{found.source_version}:",
        green=green,
        steps=options.steps,
        done=0,
        blue_capacity=(blue.min_size, blue.max_size, blue.desired),
        started=stamp,
        by=state.me().split(" ")[0],
        heartbeat=stamp,
    )


def claim(groups: Groups, blue: str, wanted: state.State, logical: str) -> state.State:
    """Write the state with our owner token, read it back: Refused if another claim won."""
    mine = replace(wanted, owner=state.me(), heartbeat=state.now())
    groups.tag(blue, {**mine.tags(), state.NAME: logical})
    time.sleep(CLAIM_SETTLE)
    now = groups.find(blue)
    holder = now.tags.get(state.OWNER, "") if now else ""
    if holder != mine.owner:
        raise Refused(f"{blue}: claimed at the same moment by {holder or 'nobody'}; not rolling")
    return mine
