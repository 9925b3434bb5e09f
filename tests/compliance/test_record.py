"""The bake's compliance hook against moto: the AMIs get the score, profile and content tags;
a version's scan is found again from its tags and the run record that baked it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packerpy import naming
from packerpy.aws.clients import AwsClients
from packerpy.compliance import record
from packerpy.config import ImageConfig
from packerpy.errors import PackerpyError
from tests.compliance.test_summary import WRITTEN
from tests.helpers import make_ami, settings_for, tags_of

IMAGE = ImageConfig.model_validate(
    {
        "version": "1.0.0",
        "base": {"ami": "ami-03cf127a"},
        "compliance": {"profile": "anssi_np_nt28_average"},
    }
)


def _run(runs: Path, name: str, amis: dict[str, str], summary: object = WRITTEN) -> Path:
    run = runs / name
    (run / "compliance").mkdir(parents=True)
    (run / "compliance" / "summary.json").write_text(json.dumps(summary))
    (run / "result.json").write_text(json.dumps({"ok": True, "amis": amis}))
    return run


def test_tag_scan_tags_every_region(aws: str, tmp_path: Path) -> None:
    amis = {"us-east-1": make_ami(aws), "eu-west-1": make_ami(aws, "eu-west-1")}
    run = _run(tmp_path, "20260101T000000Z-web", amis)
    found = record.tag_scan(IMAGE, run, amis, AwsClients(settings_for(aws)))
    assert found is not None and found.score == 71.1
    for region, ami in amis.items():
        tags = tags_of(aws, region, ami)
        assert tags[naming.COMPLIANCE_SCORE_TAG] == "71.1"
        assert tags[naming.COMPLIANCE_CONTENT_TAG] == "ssg-debian11-ds.xml 0.1.65"


def test_tag_scan_tags_nothing_without_a_scan(aws: str, tmp_path: Path) -> None:
    ami = make_ami(aws)
    aws_clients = AwsClients(settings_for(aws))
    skipped = _run(tmp_path, "r1-web", {"us-east-1": ami}, {"skipped": "no scanner"})
    assert record.tag_scan(IMAGE, skipped, {"us-east-1": ami}, aws_clients) is None
    # A reused AMI: the run record has no compliance directory.
    assert record.tag_scan(IMAGE, tmp_path / "r2-web", {"us-east-1": ami}, aws_clients) is None
    unconfigured = IMAGE.model_copy(update={"compliance": None})
    assert record.tag_scan(unconfigured, skipped, {"us-east-1": ami}, aws_clients) is None
    assert naming.COMPLIANCE_SCORE_TAG not in tags_of(aws, "us-east-1", ami)
    assert aws_clients.log.mutating == []


def test_version_scan_finds_the_run_record_that_baked_it(tmp_path: Path) -> None:
    _run(tmp_path, "20260101T000000Z-web", {"us-east-1": "ami-0other"})
    baked = _run(tmp_path, "20260102T000000Z-web", {"us-east-1": "ami-0mine"})
    tags = {naming.COMPLIANCE_SCORE_TAG: "71.1", naming.COMPLIANCE_PROFILE_TAG: "p"}
    got = record.version_scan(tmp_path, "web", "1.0.0", {"us-east-1": "ami-0mine"}, tags)
    assert got.run_dir == str(baked)
    assert got.report == str(baked / "compliance" / "report.html")
    assert got.summary is not None and got.summary.failed_rules == tuple(WRITTEN["failed"])
    assert (got.score, got.profile) == (71.1, "p")
    # Another machine, without the run record: the tags alone.
    alone = record.version_scan(tmp_path / "none", "web", "1.0.0", {"us-east-1": "ami-0x"}, tags)
    assert (alone.score, alone.summary, alone.report) == (71.1, None, None)


def test_version_scan_without_any_scan_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(PackerpyError) as err:
        record.version_scan(tmp_path, "web", "1.0.0", {"us-east-1": "ami-0x"}, {})
    assert err.value.message == (
        "web 1.0.0: no compliance scan (no packerpy:compliance-score tag, no run record with one): "
        "set images.web.compliance and build a new version"
    )
