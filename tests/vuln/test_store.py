"""The SBOM at build time (run record, S3, tags), read back by the AMI's tags; the gate;
`--all-versions` with channels. Against moto."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from packerpy import config, naming
from packerpy.aws.clients import AwsClients
from packerpy.config import ImageConfig
from packerpy.errors import PackerpyError
from packerpy.records import RunRecord
from packerpy.vuln import gate, published, store
from tests.helpers import boto_client, make_ami, make_project, settings_for, tags_of
from tests.vuln.conftest import OSV


@dataclasses.dataclass(frozen=True)
class Built:
    """The fields of bake's BuiltImage that record_for_build reads."""

    image: str
    version: str
    amis: Mapping[str, str]
    config: ImageConfig
    provenance: Mapping[str, str]
    project: str = "acme"


def project_with(tmp_path: Path, **web: object) -> config.Project:
    return config.load(make_project(tmp_path, images={"web": web}))


def bake(aws: str, loaded: config.Project, inventory: Path, version: str = "1.0.0") -> Built:
    """What a bake leaves: an AMI with identity tags, inventory.json in the run record."""
    ami = make_ami(aws, tags=naming.identity_tags("acme", "web", version))
    built = Built("web", version, {"us-east-1": ami}, loaded.image("web"), {})
    with RunRecord(loaded.runs_dir(), "web", datetime.now(UTC), {}) as record:
        shutil.copy(inventory, record.dir / "inventory.json")
        return store.record_for_build(built, record, AwsClients(settings_for(aws)))


def test_sbom_goes_to_s3_with_sse_and_tags(
    aws: str, tmp_path: Path, debian_inventory: Path
) -> None:
    boto_client("s3", aws).create_bucket(Bucket="sboms")
    loaded = project_with(tmp_path, sbom={"bucket": "sboms", "prefix": "sbom/"})
    built = bake(aws, loaded, debian_inventory)
    ami = built.amis["us-east-1"]
    uri = "s3://sboms/sbom/acme/web/1.0.0.cdx.json"
    text = next(loaded.runs_dir().glob("*/sbom.cdx.json")).read_text()
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert built.provenance == {naming.SBOM_TAG: uri, naming.SBOM_SHA_TAG: digest}
    tags = tags_of(aws, "us-east-1", ami)
    assert (tags[naming.SBOM_TAG], tags[naming.SBOM_SHA_TAG]) == (uri, digest)
    head = boto_client("s3", aws).head_object(Bucket="sboms", Key="sbom/acme/web/1.0.0.cdx.json")
    assert head["ServerSideEncryption"] == "AES256"
    clients = AwsClients(settings_for(aws))
    assert published.sbom_text(loaded, clients, "web", "1.0.0") == text


def test_without_a_bucket_the_run_record_is_the_store(
    aws: str, tmp_path: Path, debian_inventory: Path
) -> None:
    loaded = project_with(tmp_path)
    built = bake(aws, loaded, debian_inventory)
    run = next(loaded.runs_dir().iterdir())
    assert built.provenance[naming.SBOM_TAG] == f"run:{run.name}"
    clients = AwsClients(settings_for(aws))
    assert (
        published.sbom_text(loaded, clients, "web", "1.0.0") == (run / "sbom.cdx.json").read_text()
    )
    # an SBOM that changed since is refused
    (run / "sbom.cdx.json").write_text("{}")
    with pytest.raises(
        PackerpyError, match=r"^web 1.0.0: SBOM run:.* has SHA-256 .*, the AMI's tag says"
    ):
        published.sbom_text(loaded, clients, "web", "1.0.0")


def test_a_reused_version_keeps_its_sbom(aws: str, tmp_path: Path, debian_inventory: Path) -> None:
    loaded = project_with(tmp_path)
    kept = {naming.SBOM_TAG: "run:earlier", naming.SBOM_SHA_TAG: "abc"}
    built = Built("web", "1.0.0", {"us-east-1": make_ami(aws)}, loaded.image("web"), kept)
    with RunRecord(loaded.runs_dir(), "web", datetime.now(UTC), {}) as record:
        shutil.copy(debian_inventory, record.dir / "inventory.json")
        assert store.record_for_build(built, record, AwsClients(settings_for(aws))) is built
        assert not (record.dir / "sbom.cdx.json").exists()


def test_no_inventory_no_sbom(aws: str, tmp_path: Path) -> None:
    loaded = project_with(tmp_path)
    built = Built("web", "1.0.0", {"us-east-1": make_ami(aws)}, loaded.image("web"), {})
    with RunRecord(loaded.runs_dir(), "web", datetime.now(UTC), {}) as record:
        assert store.record_for_build(built, record, AwsClients(settings_for(aws))) is built


def test_gate(aws: str, tmp_path: Path, debian_inventory: Path) -> None:
    shutil.copytree(OSV, tmp_path / "osv")
    loaded = project_with(tmp_path, scan={"advisories": "osv", "fail_on": "critical"})
    built = bake(aws, loaded, debian_inventory)
    clients = AwsClients(settings_for(aws))
    tags = tags_of(aws, "us-east-1", built.amis["us-east-1"])
    ok, reason, findings = gate.check(loaded, clients, "web", tags, "us-east-1")
    assert (ok, reason, len(findings)) == (
        True,
        "scan: no findings at or above critical (3 below)",
        3,
    )
    strict = project_with(tmp_path, scan={"advisories": "osv", "fail_on": "high"})
    ok, reason, _ = gate.check(strict, clients, "web", tags, "us-east-1")
    assert not ok
    assert reason.startswith("scan: 2 finding(s) at or above high (DSA-5724-1 openssh-server")
    no_sbom = {k: v for k, v in tags.items() if k != naming.SBOM_TAG}
    ok, reason, _ = gate.check(strict, clients, "web", no_sbom, "us-east-1")
    assert (ok, reason.split(" (")[0]) == (False, "scan: web 1.0.0: no SBOM")
    unset = project_with(tmp_path, scan={"advisories": None})
    assert gate.check(unset, clients, "web", tags, "us-east-1") == (
        True,
        "scan: not configured (scan.advisories unset)",
        (),
    )


def test_all_versions_with_channels(aws: str, tmp_path: Path, debian_inventory: Path) -> None:
    loaded = project_with(tmp_path, channels=["beta", "stable"])
    old = bake(aws, loaded, debian_inventory, "1.0.0")
    make_ami(aws, tags=naming.identity_tags("acme", "web", "1.1.0"))  # built before SBOMs
    boto_client("ssm", aws).put_parameter(
        Name="/packerpy/acme/web/stable", Value=old.amis["us-east-1"], Type="String"
    )
    scans = published.scan_all(loaded, AwsClients(settings_for(aws)), "web", OSV)
    assert [(s.version, s.channels, s.result is not None) for s in scans] == [
        ("1.0.0", ("stable",), True),
        ("1.1.0", (), False),
    ]
    assert scans[1].error.startswith("web 1.1.0: no SBOM (tag packerpy:sbom missing")
    assert scans[0].result is not None
    assert {f.advisory for f in scans[0].result.findings} == {
        "DSA-5724-1",
        "DSA-5532-1",
        "DEBIAN-CVE-2024-58382",
    }


def test_verify_fails_on_a_vulnerable_sbom_and_names_it(
    aws: str, tmp_path: Path, debian_inventory: Path
) -> None:
    """Issue 13's gate: verify runs the scan when scan.advisories is set, and fails at fail_on
    (so promote, which needs verified = pass, refuses the version)."""
    from packerpy.errors import VerifyFailed
    from packerpy.verify.run import VerifyOptions, verify

    shutil.copytree(OSV, tmp_path / "osv")
    loaded = project_with(tmp_path, scan={"advisories": "osv", "fail_on": "high"})
    built = bake(aws, loaded, debian_inventory)
    ami = built.amis["us-east-1"]
    with pytest.raises(VerifyFailed) as failed:
        verify(loaded, settings_for(aws), "web", "1.0.0", VerifyOptions())
    record = json.loads(
        (Path(failed.value.detail[-1].removeprefix("run record: ")) / "result.json").read_text()
    )
    scan = next(c for c in record["checks"] if c["name"] == "vulnerabilities")
    assert scan["ok"] is False
    assert scan["reason"].startswith("scan: 2 finding(s) at or above high (DSA-5724-1")
    assert tags_of(aws, "us-east-1", ami)[naming.VERIFIED_TAG] == "fail"


def test_the_estate_report_counts_each_versions_findings(
    aws: str, tmp_path: Path, debian_inventory: Path
) -> None:
    from packerpy.report import gather

    shutil.copytree(OSV, tmp_path / "osv")
    loaded = project_with(tmp_path, scan={"advisories": "osv", "fail_on": "critical"})
    bake(aws, loaded, debian_inventory)
    (web,) = gather.gather(loaded, settings_for(aws)).images
    assert [(v.version, v.vulnerabilities) for v in web.versions] == [("1.0.0", 3)]
