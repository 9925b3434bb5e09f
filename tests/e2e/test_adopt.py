"""Adopted hand-written templates, end to end: real packer 1.6.6 against moto."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.helpers import ADOPT_TEMPLATES, REPO, envelope, run_cli, tags_of

pytestmark = pytest.mark.e2e

DATA = REPO / "tests" / "data" / "adopt"


def _tree(path: Path) -> dict[str, str]:
    return {
        p.relative_to(path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(path.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "packerpy.toml").write_text('[project]\nname = "acme"\n')
    for name, source in ADOPT_TEMPLATES.items():
        shutil.copytree(source, tmp_path / "packer" / name)
    return tmp_path


def test_a_hand_written_template_builds_unchanged_and_gets_versioned(
    aws: str, project: Path
) -> None:
    before = _tree(project / "packer")
    done = run_cli("adopt", "packer/single", "--image", "legacy", cwd=project)
    assert done.returncode == 0, done.stderr
    built = run_cli("build", "legacy", "--skip-lint", "--json", cwd=project)
    assert built.returncode == 0, built.stderr
    data = envelope(built)["data"]
    ami = data["amis"]["us-east-1"]
    tags = tags_of(aws, "us-east-1", ami)
    assert tags["packerpy:version"] == "0.1.0"
    assert tags["packerpy:project"] == "acme"
    assert tags["packerpy:fingerprint"] == data["fingerprint"]
    # The template's own manifest post-processor ran, in the copy inside the run record.
    run_dir = Path(data["run_dir"])
    assert (run_dir / "template" / "legacy-manifest.json").is_file()
    assert _tree(project / "packer") == before
    # packerpy's values reached the template only through the variables it declares.
    var_file = (run_dir / "packerpy.pkrvars.hcl").read_text()
    assert 'ami_name     = "legacy-0.1.0"' in var_file
    assert "image_version" not in var_file


def test_several_sources_need_only_and_get_it(aws: str, project: Path) -> None:
    assert run_cli("adopt", "packer/multi", "--image", "multi", cwd=project).returncode == 0
    config = project / "packerpy.toml"
    text = config.read_text()
    # Refused first: the template's endpoint variable is not called aws_endpoint.
    refused = run_cli("build", "multi", "--skip-lint", cwd=project)
    assert refused.returncode == 2
    assert "refused under an endpoint" in refused.stderr
    assert "source.amazon-ebs.small does not send its EC2 calls to" in refused.stderr
    config.write_text(
        text + '[images.multi.adopt]\nvars = { endpoint = "aws_endpoint" }\n'
        'only = ["both.amazon-ebs.large"]\n'
    )
    built = run_cli("build", "multi", "--skip-lint", "--json", cwd=project)
    assert built.returncode == 0, built.stderr
    ami = envelope(built)["data"]["amis"]["us-east-1"]
    assert tags_of(aws, "us-east-1", ami)["packerpy:image"] == "multi"


def test_validate_runs_packer_on_the_directory_as_it_is(aws: str, project: Path) -> None:
    assert run_cli("adopt", "packer/single", "--image", "legacy", cwd=project).returncode == 0
    done = run_cli("validate", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    image = envelope(done)["data"]["images"][0]
    assert image["checks"][:2] == ["config", "packer validate"]


def test_post_process_from_inside_packer_versions_tags_and_shares(aws: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    shutil.copytree(DATA / "selfrun", tmp_path / "packer")
    (tmp_path / "packerpy.toml").write_text(
        '[project]\nname = "acme"\n\n[images.selfrun]\nversion = "2.0.0"\n'
        'base = { ami = "ami-03cf127a" }\nshare = { accounts = ["123456789012"] }\n'
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [
        "packer",
        "build",
        "-machine-readable",
        f"-var=aws_endpoint={aws}",
        f"-var=packerpy={sys.executable} -m packerpy",
        ".",
    ]
    done = subprocess.run(
        command, cwd=tmp_path / "packer", env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-3000:]
    amis = envelope_free_amis(tmp_path / "packer" / "manifest.json")
    tags = tags_of(aws, "us-east-1", amis["us-east-1"])
    assert (tags["packerpy:image"], tags["packerpy:version"]) == ("selfrun", "2.0.0")
    users = ec2_client(aws).describe_image_attribute(
        ImageId=amis["us-east-1"], Attribute="launchPermission"
    )["LaunchPermissions"]
    assert [p["UserId"] for p in users] == ["123456789012"]
    # A re-run converges: nothing left to change.
    again = run_cli(
        "post-process",
        "--image",
        "selfrun",
        "--manifest",
        "packer/manifest.json",
        "--json",
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    assert envelope(again)["data"]["mutating"] == []


def envelope_free_amis(manifest: Path) -> dict[str, str]:
    from packerpy.packer import manifest as packer_manifest

    (artifact,) = packer_manifest.read(manifest)
    return artifact.amis


def ec2_client(endpoint: str):
    from tests.helpers import ec2

    return ec2(endpoint)
