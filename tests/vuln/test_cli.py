"""`packerpy scan` and `packerpy sbom` through the CLI: the --json contract and the text,
pinned like every command's (tests/cli/test_contract.py, snapshots in tests/cli/snapshots/)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from packerpy import scaffold
from packerpy.estate import catalog
from packerpy.vuln import cdx, inventory, osv, published
from packerpy.vuln.scan import scan
from tests.cli.test_contract import both, check, invoke
from tests.vuln.conftest import OSV


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    scaffold.init("web", tmp_path)
    shutil.copytree(OSV, tmp_path / "osv")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_scan_sbom_file(
    project: Path, debian_inventory: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scan", "--sbom", str(debian_inventory), "--advisories", "osv", "--fail-on", "high"]
    both(capsys, project, "scan-sbom", *argv)
    done = invoke(capsys, project, *argv, "--json")
    assert done["exit_code"] == 16
    assert done["stdout"]["data"]["ok"] is False
    report = invoke(capsys, project, "scan", "--sbom", str(debian_inventory), "--advisories", "osv")
    assert report["exit_code"] == 0  # no threshold: a report


def test_scan_bad_input_is_one_line(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "bad.zip").write_bytes(b"PK\x03\x04 not a zip")
    (project / "inv.json").write_text(
        '{"os": {"id": "debian", "version_id": "12"}, "packages": []}'
    )
    done = invoke(capsys, project, "scan", "--sbom", "inv.json", "--advisories", "bad.zip")
    assert done["exit_code"] == 1
    assert done["stderr"] == (
        "packerpy: error: bad.zip: not a readable zip file (File is not a zip file)\n"
    )


def test_sbom_command(
    project: Path,
    debian_inventory: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    subject = cdx.Subject(
        "web",
        "web",
        "0.1.0",
        {"us-east-1": "ami-0aaaaaaaaaaaaaaaa"},
        datetime(2026, 11, 27, tzinfo=UTC),
    )
    text = cdx.cyclonedx(inventory.load(debian_inventory), subject)
    found = catalog.Published(
        "0.1.0", {"us-east-1": "ami-0aaaaaaaaaaaaaaaa"}, {"packerpy:sbom": "run:r1"}
    )
    monkeypatch.setattr(published, "find", lambda *_a: found)
    monkeypatch.setattr(published, "sbom_text", lambda *_a: text)
    out = invoke(capsys, project, "sbom", "web", "0.1.0")
    document = json.loads("\n".join(out["stdout"]))
    assert document == json.loads(text)  # printed as stored
    check(
        "sbom-spdx",
        invoke(capsys, project, "sbom", "web", "0.1.0", "--format", "spdx-json", "--json"),
    )


def test_scan_all_versions(
    project: Path,
    debian_inventory: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = scan(inventory.load(debian_inventory), osv.load(project / "osv"))
    scans = [
        published.VersionScan("0.1.0", ("stable",), result),
        published.VersionScan("0.2.0", (), None, "web 0.2.0: no SBOM (tag packerpy:sbom missing)"),
    ]
    monkeypatch.setattr(published, "scan_all", lambda *_a: scans)
    both(
        capsys, project, "scan-all-versions", "scan", "web", "--all-versions", "--advisories", "osv"
    )
    done = invoke(
        capsys, project, "scan", "web", "--all-versions", "--advisories", "osv", "--fail-on", "high"
    )
    assert done["exit_code"] == 16
