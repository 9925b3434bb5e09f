"""One real SSH bake with the inventory provisioner (packer against moto, over the loopback
sshd of test_ssh_bake) of a fake Debian 12 root with vulnerable packages planted: the SBOM
lands in the run record and in a moto S3 bucket, its tags on the AMI; `sbom` prints it and
`scan` finds the planted packages (exit 16 at --fail-on high).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest
import tomlkit

from packerpy import naming
from tests.e2e.test_ssh_bake import sshd  # noqa: F401 - the loopback sshd fixture
from tests.helpers import envelope, loopback_ssh, run_cli, tags_of
from tests.vuln.conftest import OSV, debian_root

pytestmark = pytest.mark.e2e


def ssh_project(root: Path, port: int, key: Path, image_root: Path) -> None:
    """`init web`, then SSH to the loopback sshd, inventory of `image_root`, SBOM bucket."""
    assert run_cli("init", "web", cwd=root).returncode == 0
    shutil.copy(key, root / "id_build")
    (root / ".gitignore").write_text("id_build\n")  # lint scans what git would commit
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    config = tomlkit.parse((root / "packerpy.toml").read_text())
    web = config["images"]["web"]
    web["provisioners"] = ["inventory"]
    web["provisioner_env"] = {"ROOT": str(image_root), "INVENTORY_OUT": str(root / "inv.json")}
    web.update(loopback_ssh(port))
    web["sbom"] = {"bucket": "sboms"}
    web["scan"] = {"advisories": "osv", "fail_on": "high"}
    (root / "packerpy.toml").write_text(tomlkit.dumps(config))
    shutil.copytree(OSV, root / "osv")


def test_bake_stores_sbom_and_scan_finds_the_planted_packages(
    aws: str,
    tmp_path: Path,
    sshd: tuple[int, Path],  # noqa: F811 - the fixture imported above
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    ssh_project(project, *sshd, debian_root(tmp_path))
    boto3.client("s3", endpoint_url=aws, region_name="us-east-1").create_bucket(Bucket="sboms")
    done = run_cli("build", "web", "--json", cwd=project, timeout=300)
    assert done.returncode == 0, done.stderr
    data = envelope(done)["data"]
    run_dir, version, ami = Path(data["run_dir"]), data["version"], data["amis"]["us-east-1"]
    stored = (run_dir / "sbom.cdx.json").read_text()
    uri = f"s3://sboms/web/web/{version}.cdx.json"
    body = boto3.client("s3", endpoint_url=aws, region_name="us-east-1").get_object(
        Bucket="sboms", Key=f"web/web/{version}.cdx.json"
    )["Body"]
    assert body.read().decode() == stored
    tags = tags_of(aws, "us-east-1", ami)
    assert tags[naming.SBOM_TAG] == uri
    printed = run_cli("sbom", "web", version, cwd=project)
    assert printed.returncode == 0, printed.stderr
    assert printed.stdout == stored
    names = {c["name"] for c in json.loads(stored)["components"]}
    assert {"debian", "openssh-server", "libssl3", "libc6"} <= names
    scanned = run_cli("scan", "web", version, "--json", cwd=project)
    assert scanned.returncode == 16, scanned.stderr
    findings = {(f["advisory"], f["package"]) for f in envelope(scanned)["data"]["findings"]}
    assert {("DSA-5724-1", "openssh-server"), ("DSA-5532-1", "libssl3")} <= findings
