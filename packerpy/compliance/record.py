"""The scan of a bake: tag its AMIs with the result, and find it again for a version.

The compliance provisioner's results come back into the run record (`compliance/` beside the
template, the template contract's `compliance` download); the bake calls `tag_scan` once, so
the score, profile and content version stay with the version in AWS, where `verify` reads them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packerpy import naming
from packerpy.aws.clients import AwsClients, translated
from packerpy.compliance.summary import (
    REPORT_NAME,
    RESULTS_DIR,
    SUMMARY_NAME,
    Summary,
    read_summary,
)
from packerpy.config import ImageConfig
from packerpy.errors import PackerpyError

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import TagTypeDef

RESULT_NAME = "result.json"  # records.RESULT_NAME (records is a sibling layer)


def tag_scan(
    image: ImageConfig, run_dir: Path, amis: Mapping[str, str], aws: AwsClients
) -> Summary | None:
    """Tag `amis` with the scan this run brought back; None when there was none to tag."""
    path = run_dir / RESULTS_DIR / SUMMARY_NAME
    if image.compliance is None or not path.is_file():
        return None  # no scan configured, or a reused AMI: this run baked nothing
    found = read_summary(path)
    if isinstance(found, str):
        return None  # skipped (compliance.required = false): no score to claim
    tags: list[TagTypeDef] = [{"Key": key, "Value": value} for key, value in found.tags().items()]
    for region, ami in amis.items():
        with translated(f"tag {ami} with its compliance score", region):
            aws.ec2(region).create_tags(Resources=[ami], Tags=tags)
    return found


@dataclass(frozen=True)
class VersionScan:
    image: str
    version: str
    amis: dict[str, str]
    score: float | None  # from the AMI's tag (what verify gates on)
    profile: str | None
    content: str | None
    run_dir: str | None  # the run record holding the scan, if this machine has it
    report: str | None
    summary: Summary | None  # the run record's summary: failed rules and counts


def version_scan(
    runs_dir: Path, image: str, version: str, amis: Mapping[str, str], tags: Mapping[str, str]
) -> VersionScan:
    """The scan of a published version: its tags, and the newest run record that baked it."""
    run = _run_of(runs_dir, image, set(amis.values()))
    kept = read_summary(run / RESULTS_DIR / SUMMARY_NAME) if run else None
    summary = kept if isinstance(kept, Summary) else None
    score = tags.get(naming.COMPLIANCE_SCORE_TAG)
    if score is None and summary is None:
        raise PackerpyError(
            f"{image} {version}: no compliance scan (no {naming.COMPLIANCE_SCORE_TAG} tag, no run "
            f"record with one): set images.{image}.compliance and build a new version"
        )
    try:
        tagged = float(score) if score is not None else None
    except ValueError:
        raise PackerpyError(
            f"{image} {version}: tag {naming.COMPLIANCE_SCORE_TAG}={score!r} is not a score"
        ) from None
    return VersionScan(
        image=image,
        version=version,
        amis=dict(amis),
        score=tagged if tagged is not None or summary is None else summary.score,
        profile=tags.get(naming.COMPLIANCE_PROFILE_TAG) or (summary.profile if summary else None),
        content=tags.get(naming.COMPLIANCE_CONTENT_TAG),
        run_dir=str(run) if run else None,
        report=str(run / RESULTS_DIR / REPORT_NAME) if run else None,
        summary=summary,
    )


def _run_of(runs_dir: Path, image: str, amis: set[str]) -> Path | None:
    """The newest run of `image` whose result names one of `amis` and that kept a scan."""
    if not runs_dir.is_dir():
        return None
    for run in sorted(runs_dir.glob(f"*-{image}*"), reverse=True):
        if not (run / RESULTS_DIR / SUMMARY_NAME).is_file():
            continue
        try:
            result = json.loads((run / RESULT_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # unfinished or unreadable: not the record of a published version
        found = result.get("amis") if isinstance(result, dict) else None
        if isinstance(found, dict) and amis & set(found.values()):
            return run
    return None
