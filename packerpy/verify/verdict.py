"""The verdict: pass or fail, a short reason naming the first failed check, and the tags that
record it on the AMI and its snapshots in every region (what `promote`'s gate reads).

One CreateTags per region, planned as typed actions (aws/operation.py), so a dry run shows them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from packerpy import naming
from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.operation import Action
from packerpy.verify.checks import CheckResult

# AWS: a tag value is at most 256 Unicode characters (EC2 User Guide, "Tag restrictions").
REASON_MAX = 256


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str
    at: datetime

    @property
    def word(self) -> str:
        return "pass" if self.passed else "fail"

    def tags(self) -> dict[str, str]:
        return {
            naming.VERIFIED_TAG: self.word,
            naming.VERIFIED_AT_TAG: self.at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            naming.VERIFY_REASON_TAG: self.reason,
        }


def judge(results: Sequence[CheckResult], at: datetime) -> Verdict:
    """Pass when every check passed; else the first failure, as `name in region: reason`."""
    failed = next((r for r in results if not r.ok), None)
    if failed is None:
        return Verdict(True, short(f"{len(results)} checks passed"), at)
    return Verdict(False, short(f"{failed.name} in {failed.region}: {failed.reason}"), at)


def short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= REASON_MAX else flat[: REASON_MAX - 1] + "…"


def tag_actions(
    aws: AwsClients, resources: Mapping[str, tuple[str, ...]], verdict: Verdict
) -> tuple[Action, ...]:
    """One CreateTags per region over the AMI and its snapshots (`resources`: region -> ids)."""
    tags = [{"Key": k, "Value": v} for k, v in verdict.tags().items()]
    actions = []
    for region, ids in resources.items():
        if not ids:
            continue

        def create(_cancel: object, region: str = region, ids: tuple[str, ...] = ids) -> None:
            with translated(f"tag the verdict on {', '.join(ids)}", region):
                aws.ec2(region).create_tags(Resources=list(ids), Tags=tags)  # type: ignore[arg-type]

        payload = {"Resources": list(ids), "Tags": tags}
        detail = f"{naming.VERIFIED_TAG}={verdict.word}"
        actions.append(Action(region, "tag", ids, detail, payload=payload, execute=create))
    return tuple(actions)
