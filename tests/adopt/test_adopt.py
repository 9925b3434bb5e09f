from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from packerpy.adopt import checks, propose, register, template
from packerpy.config import load
from packerpy.errors import ConfigError
from tests.helpers import ADOPT_TEMPLATES, envelope, make_project, run_cli


def _tree_hash(path: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(file.relative_to(path).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    make_project(tmp_path)
    for name, source in ADOPT_TEMPLATES.items():
        shutil.copytree(source, tmp_path / "packer" / name)
    return tmp_path


def test_reads_variables_sources_builds_and_post_processors() -> None:
    single = template.read(ADOPT_TEMPLATES["single"])
    assert single.variables["ami_name"] == "legacy-web-{{timestamp}}"
    assert [s.ref for s in single.sources] == ["source.amazon-ebs.web"]
    assert single.has_manifest
    assert single.role_variables({}) == {
        "ami_name": "ami_name",
        "tags": "tags",
        "region": "region",
        "aws_endpoint": "aws_endpoint",
    }
    multi = template.read(ADOPT_TEMPLATES["multi"])
    assert multi.files == ("build.pkr.hcl", "sources.pkr.hcl", "variables.pkr.hcl")
    assert [s.ref for s in multi.sources] == ["source.amazon-ebs.small", "source.amazon-ebs.large"]
    assert multi.builds[0].name == "both"
    assert multi.builds[0].post_processors == ("manifest", "shell-local")
    assert multi.role_variables({"endpoint": "aws_endpoint"})["aws_endpoint"] == "endpoint"


def test_an_endpoint_the_template_does_not_route_to_is_named() -> None:
    multi = template.read(ADOPT_TEMPLATES["multi"])
    endpoint = "http://127.0.0.1:5000"
    unmapped = checks.endpoint_problems(multi, multi.role_variables({}), endpoint)
    assert len(unmapped) == 2
    assert "source.amazon-ebs.small does not send its EC2 calls to" in unmapped[0]
    mapped = multi.role_variables({"endpoint": "aws_endpoint"})
    assert checks.endpoint_problems(multi, mapped, endpoint) == []
    assert checks.endpoint_problems(multi, {}, None) == []


def test_encryption_as_the_template_writes_it() -> None:
    assert checks.encrypts(template.read(ADOPT_TEMPLATES["single"])) == {
        "source.amazon-ebs.web": False
    }


def test_adopt_appends_a_loadable_entry_and_never_touches_the_files(project_dir: Path) -> None:
    before = _tree_hash(project_dir / "packer")
    result = register.adopt(
        project_dir / "packerpy.toml", project_dir / "packer" / "single", "legacy"
    )
    assert result.written
    image = load(project_dir / "packerpy.toml").image("legacy")
    assert image.template_dir == "packer/single"
    assert image.base.ami == "ami-03cf127a"
    assert image.regions == ("us-east-1",)
    assert _tree_hash(project_dir / "packer") == before
    text = (project_dir / "packerpy.toml").read_text()
    assert '# instance_type = "t3.micro" is the template\'s' in text


def test_a_second_adopt_of_the_same_name_is_refused(project_dir: Path) -> None:
    config = project_dir / "packerpy.toml"
    register.adopt(config, project_dir / "packer" / "single", "legacy")
    with pytest.raises(ConfigError, match=r"images\.legacy exists already"):
        register.adopt(config, project_dir / "packer" / "single", "legacy")


def test_a_filter_base_is_proposed(project_dir: Path) -> None:
    found = template.read(project_dir / "packer" / "multi")
    block = propose.propose(found, "multi", "packer/multi").block
    assert '[images.multi.base.filter]\nname = "amzn2-ami-hvm-*"\nowners = ["amazon"]' in block


def test_unsupported_shapes_get_one_line(tmp_path: Path) -> None:
    (tmp_path / "old.json").write_text("{}")
    with pytest.raises(ConfigError, match=r"old\.json is JSON: run `packer hcl2_upgrade` first"):
        template.read(tmp_path)
    (tmp_path / "d.pkr.hcl").write_text(
        'source "docker" "x" {\n  image = "debian"\n}\nbuild {\n  sources = ["source.docker.x"]\n}\n'
    )
    with pytest.raises(ConfigError, match="no amazon-ebs source"):
        propose.propose(template.read(tmp_path), "x", ".")


def test_adopt_cli_dry_run_writes_nothing(project_dir: Path) -> None:
    config = project_dir / "packerpy.toml"
    before = config.read_bytes()
    done = run_cli(
        "adopt", "packer/multi", "--image", "multi", "--dry-run", "--json", cwd=project_dir
    )
    assert done.returncode == 0, done.stderr
    data = envelope(done)["data"]
    assert data["written"] is False
    assert data["sources"] == ["source.amazon-ebs.small", "source.amazon-ebs.large"]
    assert config.read_bytes() == before
    bad = run_cli("adopt", "nowhere", "--image", "x", cwd=project_dir)
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1


def test_only_selects_the_sources_checked() -> None:
    multi = template.read(ADOPT_TEMPLATES["multi"])
    endpoint = "http://127.0.0.1:5000"
    problems = checks.endpoint_problems(multi, {}, endpoint, ("both.amazon-ebs.large",))
    assert len(problems) == 1
    assert "source.amazon-ebs.large" in problems[0]


def test_packer_under_an_endpoint_cannot_reach_anything_else() -> None:
    from packerpy.packer.binary import CLOSED_PROXY, environment

    env = environment({"PATH": "/bin"}, confine_to="http://127.0.0.1:4566")
    assert env["HTTPS_PROXY"] == env["https_proxy"] == CLOSED_PROXY
    assert env["NO_PROXY"] == "127.0.0.1"
    assert "HTTPS_PROXY" not in environment({"PATH": "/bin"})
