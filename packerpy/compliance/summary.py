"""What one OpenSCAP scan found: the summary.json the compliance provisioner writes, and tags.

provisioners/compliance.sh computes the score where the scan runs (the instance has no Python
of ours): 100 * pass / (pass + fail), one decimal, with notapplicable, notchecked and the other
non-scoring results left out. This module only reads it back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packerpy import naming
from packerpy.errors import PackerpyError

# In the run record beside the template, and in COMPLIANCE_OUT on the instance.
RESULTS_DIR = "compliance"
SUMMARY_NAME = "summary.json"
REPORT_NAME = "report.html"
ARF_NAME = "arf.xml"
# Where the provisioner leaves its results on the instance unless COMPLIANCE_OUT says.
INSTANCE_DIR = "/var/lib/packerpy/compliance"


@dataclass(frozen=True)
class Summary:
    profile: str
    content: str  # the data stream's file name, e.g. ssg-debian11-ds.xml
    content_version: str  # the SSG release that built it, e.g. 0.1.65
    scanner: str  # oscap's version
    os: str  # "debian 11", from the scanned root's os-release
    passed: int
    failed: int
    notapplicable: int
    other: int  # notchecked, notselected, informational, error, unknown
    score: float  # 0-100, one decimal
    failed_rules: tuple[str, ...]  # SSG rule ids without xccdf_org.ssgproject.content_rule_

    def tags(self) -> dict[str, str]:
        """The AMI tags that keep the result with the version (`verify` gates on the score)."""
        return {
            naming.COMPLIANCE_SCORE_TAG: f"{self.score:.1f}",
            naming.COMPLIANCE_PROFILE_TAG: self.profile,
            naming.COMPLIANCE_CONTENT_TAG: f"{self.content} {self.content_version}".strip(),
        }


def read_summary(path: Path) -> Summary | str:
    """The summary in `path`, or the reason the provisioner gave for skipping the scan."""
    try:
        found: Any = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(found, dict):
            raise TypeError("a JSON object was expected")
        if isinstance(skipped := found.get("skipped"), str):
            return skipped
        return _summary(found)
    except KeyError as exc:
        raise PackerpyError(f"{path}: not a compliance summary: no {exc.args[0]!r}") from None
    except (OSError, ValueError, TypeError) as exc:
        raise PackerpyError(f"{path}: not a compliance summary: {exc}") from None


def _summary(found: Mapping[str, Any]) -> Summary:
    failed = found["failed"]
    if not isinstance(failed, list):
        raise TypeError("failed: a list of rule ids was expected")
    return Summary(
        profile=str(found["profile"]),
        content=str(found["content"]),
        content_version=str(found.get("content_version", "")),
        scanner=str(found.get("scanner", "")),
        os=str(found.get("os", "")),
        passed=int(found["pass"]),
        failed=int(found["fail"]),
        notapplicable=int(found.get("notapplicable", 0)),
        other=int(found.get("other", 0)),
        score=float(found["score"]),
        failed_rules=tuple(str(rule) for rule in failed),
    )
