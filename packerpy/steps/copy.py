"""Copy the AMI to every configured region that does not hold this version yet.

Before copying, each region is searched for an earlier copy by AMI name (unique per region and
account), so a publish that was killed after CopyImage and run again adopts that copy instead
of making a second one. Copies are encrypted with the region's key when the image is encrypted,
tagged the moment they exist, and then waited for; the wait checks the cancel token between
polls, so Ctrl-C does not sit out a copy that can take an hour.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any, ClassVar

from packerpy.aws.clients import translated
from packerpy.aws.images import wait_available
from packerpy.aws.operation import Action, Execute, Outcome
from packerpy.errors import Cancelled
from packerpy.steps.protocol import (
    BuiltImage,
    StepContext,
    StepPlan,
    StepResult,
    desired_tags,
    operation,
    result_of,
)
from packerpy.support.pool import per_region

WAIT_DELAY_SECONDS = 15
WAIT_MAX_ATTEMPTS = 240  # an hour: large AMIs copy slowly across regions


class CopyStep:
    name: ClassVar[str] = "copy"
    # Seconds between polls while a copy becomes available (tests shorten it).
    wait_delay: ClassVar[float] = WAIT_DELAY_SECONDS

    def plan(self, ctx: StepContext) -> StepPlan:
        """Per missing region: adopt an earlier copy of this version's name, or copy."""
        built = ctx.built
        missing = [r for r in built.regions if r not in built.amis]
        if not missing or not built.amis:
            return StepPlan()
        source_region = next((r for r in built.regions if r in built.amis), next(iter(built.amis)))
        source_ami = built.amis[source_region]
        source = ctx.images.get(source_region, source_ami)
        name = source.get("Name") or f"{built.image}-{built.version}"
        request: dict[str, Any] = {
            "SourceImageId": source_ami,
            "SourceRegion": source_region,
            "Name": name,
            "Description": source.get("Description") or name,
        }

        def plan_region(region: str) -> Action:
            with translated(f"look for an earlier copy of {name!r}", region):
                found = ctx.aws.ec2(region).describe_images(
                    Owners=["self"], Filters=[{"Name": "name", "Values": [name]}]
                )["Images"]
            if found:
                return Action(
                    region,
                    "adopt",
                    (found[0]["ImageId"],),
                    f"(earlier copy of {source_ami})",
                    mutating=False,
                )
            payload = {**request, **_copy_options(built, region)}
            return Action(
                region,
                "copy",
                (source_ami,),
                f"from {source_region}",
                payload=payload,
                execute=lambda _cancel: _copy(ctx, region, payload),
            )

        return StepPlan(tuple(per_region(missing, plan_region)))

    def run(self, ctx: StepContext) -> StepResult:
        plan = self.plan(ctx)
        copied = operation(ctx).execute(plan.actions)
        adopted = {a.region: a.resources[0] for a in plan.actions if a.verb == "adopt"}
        made = {d.action.region: str(d.result) for d in copied.done if d.action.verb == "copy"}
        if made:
            copied += self._wait(ctx, made, copied)
        new = {**adopted, **made}
        return result_of(
            self.name,
            ctx,
            plan,
            copied,
            # Adopting changes where the image exists as much as copying does.
            changed=bool(new) and not ctx.dry_run,
            amis={**ctx.built.amis, **new},
        )

    def _wait(self, ctx: StepContext, made: dict[str, str], copied: Outcome) -> Outcome:
        for region, ami in made.items():
            ctx.progress(f"waiting for {ami} in {region}")
        waits = [
            Action(
                region, "wait for", (ami,), mutating=False, execute=self._waiter(ctx, region, ami)
            )
            for region, ami in made.items()
        ]
        try:
            return operation(ctx).apply(waits)
        except Cancelled as exc:
            # The copies were made: report them along with the waits that were abandoned.
            partial = exc.outcome if isinstance(exc.outcome, Outcome) else Outcome()
            raise Cancelled(exc.message, detail=exc.detail, outcome=copied + partial) from None

    def _waiter(self, ctx: StepContext, region: str, ami: str) -> Execute:
        def wait(cancel: threading.Event) -> None:
            wait_available(
                ctx.aws, region, ami, cancel, delay=self.wait_delay, attempts=WAIT_MAX_ATTEMPTS
            )

        return wait


def _copy_options(built: BuiltImage, region: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if built.config.encrypt:
        options["Encrypted"] = True
        if key := built.config.kms_key_ids.get(region):
            options["KmsKeyId"] = key
    # Same request, same token: AWS returns the first copy instead of making another.
    token = hashlib.sha256(f"{built.image}/{built.version}/{region}".encode()).hexdigest()
    options["ClientToken"] = token[:64]
    return options


def _copy(ctx: StepContext, region: str, request: dict[str, Any]) -> str:
    """CopyImage, then tag the copy at once: the tags are how later runs find it."""
    ec2 = ctx.aws.ec2(region)
    source, source_region = request["SourceImageId"], request["SourceRegion"]
    with translated(f"copy {source} from {source_region}", region):
        ami: str = ec2.copy_image(**request)["ImageId"]
    tags = [{"Key": k, "Value": v} for k, v in desired_tags(ctx.built).items()]
    with translated(f"tag {ami}", region):
        ec2.create_tags(Resources=[ami], Tags=tags)  # type: ignore[arg-type]
    return ami
