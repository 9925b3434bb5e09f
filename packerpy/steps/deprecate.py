"""Schedule the AMI's deprecation in every region, `deprecate_after` from its creation.

The time is derived from the AMI's own CreationDate (in the first region), not from now, so a
re-run computes the same time and makes no call. AWS keeps deprecation times to the minute.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from packerpy.aws.clients import translated
from packerpy.aws.operation import Action
from packerpy.steps import identity
from packerpy.steps.protocol import StepContext, StepPlan, StepResult, converge
from packerpy.support.pool import per_region

_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    match = re.fullmatch(r"([1-9]\d*)([hdw])", text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration like 180d, 26w or 12h")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _parse_time(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    return None


class DeprecateStep:
    name: ClassVar[str] = "deprecate"

    def plan(self, ctx: StepContext) -> StepPlan:
        after = ctx.built.config.deprecate_after
        if after is None or not ctx.built.amis:
            return StepPlan()
        first = next(r for r in [*ctx.built.regions, *ctx.built.amis] if r in ctx.built.amis)
        created = _parse_time(ctx.images.get(first, ctx.built.amis[first]).get("CreationDate"))
        if created is None:
            created = datetime.now(UTC)
        at = (created + parse_duration(after)).replace(second=0, microsecond=0)

        def plan_region(region: str) -> Action | None:
            ami = ctx.built.amis[region]
            image = ctx.images.get(region, ami)
            identity.check(ctx.built, region, image, "deprecate")
            current = _parse_time(image.get("DeprecationTime"))
            if current is not None and current.replace(second=0, microsecond=0) == at:
                return None

            def enable(_cancel: object) -> None:
                with translated(f"schedule deprecation of {ami}", region):
                    ctx.aws.ec2(region).enable_image_deprecation(ImageId=ami, DeprecateAt=at)
                ctx.images.forget(region, ami)

            payload = {"ImageId": ami, "DeprecateAt": at.isoformat()}
            detail = f"at {at:%Y-%m-%dT%H:%MZ}"
            return Action(region, "deprecate", (ami,), detail, payload=payload, execute=enable)

        actions = per_region(list(ctx.built.amis), plan_region)
        return StepPlan(tuple(a for a in actions if a), data={"deprecate_at": at.isoformat()})

    def run(self, ctx: StepContext) -> StepResult:
        return converge(self.name, ctx, self.plan(ctx))
