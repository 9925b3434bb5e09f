"""Sensitive variables: from the environment to packer, and nowhere else."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from packerpy.support import paths as resources
from tests.helpers import envelope, run_cli

pytestmark = pytest.mark.e2e

ECHO_BUILD = """
build {
  name    = {{ name | hcl }}
  sources = [{{ ("source.amazon-ebs." ~ name) | hcl }}]

  provisioner "shell-local" {
    environment_vars = {{ secret_env | hcl }}
    inline           = ["echo the password is $DB_PASSWORD"]
  }
}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    assert run_cli("init", "web", cwd=tmp_path).returncode == 0
    builtin = (resources.builtin("hcl_templates") / "amazon-ebs.pkr.hcl.j2").read_text()
    echo = builtin[: builtin.index("build {")] + ECHO_BUILD.lstrip()
    (tmp_path / "hcl_templates" / "echo.pkr.hcl.j2").write_text(echo)
    config = tmp_path / "packerpy.toml"
    text = config.read_text().replace('template = "amazon-ebs"', 'template = "echo"')
    config.write_text(
        text.replace(
            'tags = { team = "platform" }',
            'tags = { team = "platform" }\nsecrets = ["DB_PASSWORD"]',
        )
    )
    return tmp_path


def test_a_planted_secret_appears_in_nothing_packerpy_writes_or_prints(
    aws: str, project: Path
) -> None:
    secret = f"pp-{uuid.uuid4().hex}"
    env = {**os.environ, "DB_PASSWORD": secret}
    validated = run_cli("validate", cwd=project, env=env)
    assert validated.returncode == 0, validated.stderr
    done = run_cli("build", "web", "--json", cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    run_dir = Path(envelope(done)["data"]["run_dir"])
    log = (run_dir / "packer.log").read_text()
    # The script did print it: packer 1.6 does not mask sensitive values, packerpy does.
    assert "the password is ***" in log
    assert 'variable "db_password" {' in (run_dir / "web.pkr.hcl").read_text()
    hits = [str(p) for p in project.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert hits == []
    assert secret not in done.stdout + done.stderr + validated.stdout + validated.stderr


def test_a_missing_secret_stops_before_packer(aws: str, project: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DB_PASSWORD"}
    done = run_cli("build", "web", cwd=project, env=env)
    assert done.returncode == 2
    assert done.stderr == (
        "packerpy: error: packerpy.toml: images.web.secrets[0]: environment variable "
        "'DB_PASSWORD' is not set (secrets are read from the environment, never from files)\n"
    )
    assert not (project / ".packerpy" / "runs").exists()
