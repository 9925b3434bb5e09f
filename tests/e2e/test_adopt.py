"""Adopted hand-written templates, end to end: real packer 1.6.6 against moto."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.helpers import REPO, envelope, run_cli, tags_of

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
    for name in ("single", "multi"):
        shutil.copytree(DATA / name, tmp_path / "packer" / name)
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
    assert image["checks"] == ["config", "packer validate"]
