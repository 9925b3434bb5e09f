"""Tag the AMI and its snapshots in every region with packerpy's tags and the configured ones.

One DescribeImages, at most one DescribeSnapshots and at most one CreateTags per region; a
region whose resources already carry every tag gets no CreateTags at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from packerpy.aws.clients import translated
from packerpy.aws.images import snapshot_ids
from packerpy.aws.operation import Action
from packerpy.steps import identity
from packerpy.steps.protocol import StepContext, StepPlan, StepResult, converge, desired_tags
from packerpy.support.pool import per_region

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import TagTypeDef


def _missing(have: Sequence[TagTypeDef] | None, want: dict[str, str]) -> bool:
    current = {tag.get("Key"): tag.get("Value") for tag in have or []}
    return any(current.get(key) != value for key, value in want.items())


class TagStep:
    name: ClassVar[str] = "tag"

    def plan(self, ctx: StepContext) -> StepPlan:
        want = desired_tags(ctx.built)
        tags = [{"Key": k, "Value": v} for k, v in want.items()]

        def plan_region(region: str) -> Action | None:
            ami = ctx.built.amis[region]
            ec2 = ctx.aws.ec2(region)
            image = ctx.images.get(region, ami)
            identity.check(ctx.built, region, image, "tag")
            stale = [ami] if _missing(image.get("Tags"), want) else []
            if snapshots := snapshot_ids(image):
                with translated(f"describe snapshots of {ami}", region):
                    found = ec2.describe_snapshots(SnapshotIds=snapshots)["Snapshots"]
                stale += [s["SnapshotId"] for s in found if _missing(s.get("Tags"), want)]
            if not stale:
                return None

            def create(_cancel: object) -> None:
                with translated(f"tag {', '.join(stale)}", region):
                    ec2.create_tags(Resources=stale, Tags=tags)  # type: ignore[arg-type]
                # The cached description no longer shows the AMI's tags.
                ctx.images.forget(region, ami)

            payload = {"Resources": stale, "Tags": tags}
            return Action(region, "tag", tuple(stale), payload=payload, execute=create)

        actions = per_region(list(ctx.built.amis), plan_region)
        return StepPlan(tuple(a for a in actions if a), data={"tags": want})

    def run(self, ctx: StepContext) -> StepResult:
        return converge(self.name, ctx, self.plan(ctx))
