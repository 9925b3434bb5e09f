"""Tag the AMI and its snapshots in every region with packerpy's tags and the configured ones.

One DescribeImages, at most one DescribeSnapshots and at most one CreateTags per region; a
region whose resources already carry every tag gets no CreateTags at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from packerpy import naming
from packerpy.aws.clients import translated
from packerpy.aws.images import snapshot_ids
from packerpy.steps.protocol import BuiltImage, StepContext, StepResult, outcome
from packerpy.support.pool import per_region

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import TagTypeDef


def desired_tags(built: BuiltImage) -> dict[str, str]:
    return {
        **naming.identity_tags(built.image, built.version),
        **built.provenance,
        **built.config.tags,
    }


def _missing(have: Sequence[TagTypeDef] | None, want: dict[str, str]) -> bool:
    current = {tag.get("Key"): tag.get("Value") for tag in have or []}
    return any(current.get(key) != value for key, value in want.items())


class TagStep:
    name: ClassVar[str] = "tag"

    def run(self, ctx: StepContext) -> StepResult:
        want = desired_tags(ctx.built)

        def converge(region: str) -> str | None:
            ami = ctx.built.amis[region]
            ec2 = ctx.aws.ec2(region)
            image = ctx.images.get(region, ami)
            stale = [ami] if _missing(image.get("Tags"), want) else []
            if snapshots := snapshot_ids(image):
                with translated(f"describe snapshots of {ami}", region):
                    found = ec2.describe_snapshots(SnapshotIds=snapshots)["Snapshots"]
                stale += [s["SnapshotId"] for s in found if _missing(s.get("Tags"), want)]
            if not stale:
                return None
            if not ctx.dry_run:
                with translated(f"tag {', '.join(stale)}", region):
                    ec2.create_tags(
                        Resources=stale, Tags=[{"Key": k, "Value": v} for k, v in want.items()]
                    )
                ctx.images.forget(region, ami)
            return f"{region}: tag {', '.join(stale)}"

        return outcome(
            self.name, ctx, per_region(list(ctx.built.amis), converge), data={"tags": want}
        )
