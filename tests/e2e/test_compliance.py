"""The compliance provisioner in a real SSH bake: packer's amazon-ebs builder against moto,
provisioning over the loopback sshd of test_ssh_bake. The scan reads a small root given by
ROOT (oscap-chroot), so this machine is not changed; the results come back into the run record
and the score is tagged on the AMI. A profile the content lacks fails the bake before the AMI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from packerpy import naming
from tests.e2e.test_ssh_bake import sshd  # noqa: F401 - the loopback sshd fixture, shared
from tests.helpers import envelope, loopback_ssh, make_project, run_cli, tags_of

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("oscap-chroot") is None, reason="`make scap` installs it"),
]
PROFILE = "anssi_np_nt28_average"


def _project(tmp_path: Path, port: int, key: Path, version: str, profile: str) -> Path:
    root = tmp_path / "imageroot"
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\n')
    (root / "etc/debian_version").write_text("11.8\n")  # SSG's Debian 11 platform check
    shutil.copy(key, tmp_path / "id_build")
    # lint scans what git would commit: the key stays ignored, as in a user's repository.
    (tmp_path / ".gitignore").write_text("id_build\n.packerpy/\nremote/\nimageroot/\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    image: dict[str, Any] = {
        "version": version,
        "encrypt": True,
        "provisioners": ["compliance"],
        "provisioner_env": {
            "ROOT": str(root),
            "COMPLIANCE_OUT": str(tmp_path / "remote/compliance"),
        },
        "compliance": {"profile": profile, "min_score": 50},
        **loopback_ssh(port),
    }
    return make_project(tmp_path, images={"web": image})


@pytest.mark.timeout(300)  # two bakes and a scan each, on a loaded 2-core machine
def test_bake_scans_brings_the_report_back_and_tags_the_score(
    aws: str,
    tmp_path: Path,
    sshd: tuple[int, Path],  # noqa: F811 - the fixture imported above
) -> None:
    port, key = sshd
    _project(tmp_path, port, key, "1.0.0", PROFILE)
    done = run_cli("build", "web", "--json", cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    data = envelope(done)["data"]
    results = Path(data["run_dir"]) / "compliance"
    summary = json.loads((results / "summary.json").read_text())
    assert summary["profile"] == f"xccdf_org.ssgproject.content_profile_{PROFILE}"
    assert summary["content"] == "ssg-debian11-ds.xml"
    assert summary["pass"] + summary["fail"] > 0
    assert (results / "arf.xml").stat().st_size > 0
    assert "<html" in (results / "report.html").read_text(errors="replace")[:2000].lower()
    tags = tags_of(aws, "us-east-1", data["amis"]["us-east-1"])
    assert tags[naming.COMPLIANCE_SCORE_TAG] == f"{summary['score']:.1f}"
    assert tags[naming.COMPLIANCE_PROFILE_TAG] == summary["profile"]
    assert (
        tags[naming.COMPLIANCE_CONTENT_TAG] == f"ssg-debian11-ds.xml {summary['content_version']}"
    )

    shown = run_cli("compliance", "web", "1.0.0", "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    report = envelope(shown)["data"]
    assert report["score"] == summary["score"]
    assert report["failed_rules"] == summary["failed"]
    assert report["report"] == str(results / "report.html")
    assert report["below_min_score"] is (summary["score"] < 50)

    # A profile the content lacks: the provisioner fails, so packer creates no AMI.
    _project(tmp_path, port, key, "1.0.1", "no_such_profile")
    failed = run_cli("build", "web", cwd=tmp_path, timeout=300)
    assert failed.returncode == 6, failed.stderr
    assert (
        "compliance: error: profile 'xccdf_org.ssgproject.content_profile_no_such_profile' is "
        "not in ssg-debian11-ds.xml" in failed.stdout + failed.stderr
    )
    listed = envelope(run_cli("images", "list", "web", "--json", cwd=tmp_path))
    assert [v["version"] for v in listed["data"]["versions"]] == ["1.0.0"]
