"""`packerpy compliance IMAGE VERSION` against moto, and `compliance scan --root` with the real
OpenSCAP over a small Debian 11 root (e2e: oscap evaluates the whole data stream, ~5 s a scan)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from packerpy import naming
from packerpy.cli.app import run
from packerpy.compliance.scan import scan_root
from packerpy.errors import ConfigError
from tests.compliance.test_summary import WRITTEN
from tests.helpers import envelope, make_ami, make_project, run_cli

needs_oscap = pytest.mark.skipif(shutil.which("oscap-chroot") is None, reason="`make scap`")


@pytest.fixture
def debian11(tmp_path: Path) -> Path:
    """The files SSG's Debian 11 platform check and the content choice read; nothing else."""
    root = tmp_path / "rootfs"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\n')
    (root / "etc/debian_version").write_text("11.8\n")
    return root


def test_compliance_show_reads_the_tags_and_the_run_record(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project(tmp_path, images={"web": {"compliance": {"profile": "p", "min_score": 80}}})
    monkeypatch.chdir(tmp_path)
    tags = {
        **naming.identity_tags("acme", "web", "1.0.0"),
        naming.COMPLIANCE_SCORE_TAG: "71.1",
        naming.COMPLIANCE_PROFILE_TAG: WRITTEN["profile"],
        naming.COMPLIANCE_CONTENT_TAG: "ssg-debian11-ds.xml 0.1.65",
    }
    ami = make_ami(aws, tags=tags)
    run_dir = tmp_path / ".packerpy/runs/20260101T000000Z-web"
    (run_dir / "compliance").mkdir(parents=True)
    (run_dir / "compliance/summary.json").write_text(json.dumps(WRITTEN))
    (run_dir / "result.json").write_text(json.dumps({"amis": {"us-east-1": ami}}))

    assert run(["compliance", "web", "1.0.0", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)["data"]
    assert data["score"] == 71.1 and data["below_min_score"] is True
    assert (data["passed"], data["failed"], data["failed_rules"]) == (32, 13, WRITTEN["failed"])
    assert data["report"] == str(run_dir / "compliance/report.html")
    assert run(["compliance", "web", "1.0.0"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        "web 1.0.0: score 71.1 (32 pass, 13 fail), below min_score 80",
        f"  profile {WRITTEN['profile']}",
    ]
    assert run(["compliance", "web", "2.0.0"]) == 2
    assert capsys.readouterr().err.strip() == (
        "packerpy: error: web 2.0.0: not published (see `packerpy images list web`)"
    )


@pytest.mark.e2e
@needs_oscap
def test_compliance_scan_of_a_root(debian11: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_cli(
        "compliance", "scan", "--root", str(debian11), "--profile", "standard",
        "--out", str(out), "--json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = envelope(done)["data"]
    assert data["profile"] == "xccdf_org.ssgproject.content_profile_standard"
    assert data["content"].startswith("ssg-debian11-ds.xml ")
    assert data["score"] == round(100 * data["passed"] / (data["passed"] + data["failed"]), 1)
    assert data["report"] == str(out / "report.html") and (out / "arf.xml").is_file()
    bad = run_cli("compliance", "scan", "--root", str(debian11), "--profile", "nope", cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "packerpy: error: profile 'xccdf_org.ssgproject.content_profile_nope' is not in "
        "ssg-debian11-ds.xml (it has: anssi_np_nt28_average anssi_np_nt28_high "
        "anssi_np_nt28_minimal anssi_np_nt28_restrictive standard): set compliance.profile "
        "(COMPLIANCE_PROFILE) to one of them"
    )


def test_scan_of_a_missing_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as missing:
        scan_root(tmp_path / "nowhere", "standard", tmp_path / "out")
    assert missing.value.message == f"--root {tmp_path / 'nowhere'}: not a directory"
