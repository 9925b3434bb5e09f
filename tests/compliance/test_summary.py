"""The compliance provisioner's summary.json read back, and the AMI tags made from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packerpy import naming
from packerpy.compliance.summary import Summary, read_summary
from packerpy.errors import PackerpyError

# What provisioners/compliance.sh wrote for the Debian 11 minbase root after harden (measured).
WRITTEN = {
    "profile": "xccdf_org.ssgproject.content_profile_anssi_np_nt28_average",
    "content": "ssg-debian11-ds.xml",
    "content_version": "0.1.65",
    "scanner": "1.3.7",
    "os": "debian 11",
    "pass": 32,
    "fail": 13,
    "notapplicable": 0,
    "other": 0,
    "score": 71.1,
    "failed": ["partition_for_home", "package_syslogng_installed"],
}


def test_reads_the_provisioners_summary_and_tags_it(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text(json.dumps(WRITTEN))
    found = read_summary(path)
    assert isinstance(found, Summary)
    assert (found.passed, found.failed, found.score) == (32, 13, 71.1)
    assert found.failed_rules == ("partition_for_home", "package_syslogng_installed")
    assert found.tags() == {
        naming.COMPLIANCE_SCORE_TAG: "71.1",
        naming.COMPLIANCE_PROFILE_TAG: WRITTEN["profile"],
        naming.COMPLIANCE_CONTENT_TAG: "ssg-debian11-ds.xml 0.1.65",
    }


def test_a_skipped_scan_gives_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text('{"skipped": "no OpenSCAP scanner"}\n')
    assert read_summary(path) == "no OpenSCAP scanner"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[]", "a JSON object was expected"),
        ('{"profile": "p"}', "no 'failed'"),
        (json.dumps({**WRITTEN, "failed": "x"}), "failed: a list of rule ids was expected"),
        ("{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ],
)
def test_a_broken_summary_is_one_line_naming_the_file(
    tmp_path: Path, text: str, reason: str
) -> None:
    path = tmp_path / "summary.json"
    path.write_text(text)
    with pytest.raises(PackerpyError) as err:
        read_summary(path)
    assert err.value.message == f"{path}: not a compliance summary: {reason}"
