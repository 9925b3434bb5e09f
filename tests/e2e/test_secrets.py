"""Sensitive variables: from the environment to packer, and nowhere else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from packerpy.support import paths as resources
from tests.helpers import envelope, invoke, run_cli

pytestmark = pytest.mark.e2e

ECHO_BUILD = """
build {
  name    = {{ name | hcl }}
  sources = [{{ ("source.amazon-ebs." ~ name) | hcl }}]
%s
}
"""

PROVISIONER = """
  provisioner "shell-local" {
    environment_vars = {{ secret_env | hcl }}
    inline           = %s
  }
"""

# Every form a script or a shell prints a secret in (reliability review 3.1-3.3), to stdout and
# stderr; packer shell-local's own `'"'"'`-quoted environment line comes with PACKER_LOG=1.
FORMS = [
    'echo "quoted: $DB_PASSWORD"',
    "echo unquoted: $DB_PASSWORD",
    'echo "stderr: $DB_PASSWORD" >&2',
    "printf 'raw: %s\\n' \"$API_TOKEN\"",
    'echo "a is $A_TOKEN, b is $B_TOKEN" >&2',
    'python3 -c \'import json, os; print("json:", json.dumps(os.environ["DB_PASSWORD"]))\'',
    'bash -c \'printf "%q\\n" "$DB_PASSWORD"; set -x; true "$DB_PASSWORD"; echo $DB_PASSWORD\'',
]
FAILING = ['echo "cannot log in with $DB_PASSWORD" >&2', "exit 1"]


def make_project(root: Path, provisioners: list[list[str]], secrets: list[str]) -> Path:
    """The scaffold with its build block replaced by shell-local provisioners running `inline`s."""
    assert invoke("init", "web", cwd=root).returncode == 0
    builtin = (resources.builtin("hcl_templates") / "amazon-ebs.pkr.hcl.j2").read_text()
    blocks = "".join(PROVISIONER % json.dumps(inline) for inline in provisioners)
    echo = builtin[: builtin.index("build {")] + (ECHO_BUILD % blocks).lstrip()
    (root / "hcl_templates" / "echo.pkr.hcl.j2").write_text(echo)
    config = root / "packerpy.toml"
    text = config.read_text().replace('template = "amazon-ebs"', 'template = "echo"')
    config.write_text(
        text.replace(
            'tags = { team = "platform" }',
            f'tags = {{ team = "platform" }}\nsecrets = {json.dumps(secrets)}',
        )
    )
    return root


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_project(tmp_path, [["echo the password is $DB_PASSWORD"]], ["DB_PASSWORD"])


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


def written_bytes(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink()}


def test_r3_every_form_of_every_secret_appears_in_nothing_packerpy_writes_or_prints(
    aws: str, tmp_path: Path
) -> None:
    """Each form through a real packer bake, ending in a failing script: grep every byte."""
    token = {name: uuid.uuid4().hex[:12] for name in ("db1", "db2", "api", "ov", "suffix")}
    secrets = {
        # comma, both quotes, two lines, padding (3.1, 3.2, 3.3)
        "DB_PASSWORD": f'  pp-{token["db1"]},it\'s "q"\nl2-{token["db2"]}  ',
        # not UTF-8: os.environ keeps the bytes as surrogates (3.3)
        "API_TOKEN": f"nb-{token['api']}\udcff\udcfe-end",
        # B contains A (3.3: `***-SUFFIXPART`)
        "A_TOKEN": f"ov-{token['ov']}",
        "B_TOKEN": f"ov-{token['ov']}-SUFFIX{token['suffix']}",
    }
    root = make_project(tmp_path, [FORMS, FAILING], list(secrets))
    env = {**os.environ, **secrets, "PACKER_LOG": "1"}
    validated = run_bytes("validate", cwd=root, env=env)
    assert validated.returncode == 0, validated.stderr
    done = run_bytes("build", "web", "--json", cwd=root, env=env)
    # A failing script with a secret is a failed build (6), not a rejected template (4: 3.4).
    assert done.returncode == 6, done.stderr
    result = json.loads(done.stdout)
    assert (result["ok"], result["exit_code"]) == (False, 6), result
    assert "packer build failed (exit 1)" in result["messages"][0], result
    [run_dir] = (root / ".packerpy" / "runs").iterdir()
    log = (run_dir / "packer.log").read_text()
    for said in ["quoted: ***", "stderr: ***", "raw: ***", "a is ***%!(PACKER_COMMA) b is ***"]:
        assert said in log
    assert 'json: "***"' in log
    assert "cannot log in with ***" in log
    grepped: dict[str, bytes] = {str(path): data for path, data in written_bytes(root).items()}
    grepped |= {"stdout": done.stdout, "stderr": done.stderr}
    grepped |= {"validate stdout": validated.stdout, "validate stderr": validated.stderr}
    assert len(grepped) > 10  # the run record, the config, the templates, the outputs
    for where, data in grepped.items():
        for name, value in token.items():
            assert value.encode() not in data, f"{name} secret in {where}"


def run_bytes(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """run_cli without decoding: a non-UTF-8 secret must not hide behind a decoding error."""
    return subprocess.run(
        [sys.executable, "-m", "packerpy", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )


def test_r3_4_short_secret_refused_before_packer(aws: str, project: Path) -> None:
    done = run_cli("build", "web", cwd=project, env={**os.environ, "DB_PASSWORD": "a"})
    assert done.returncode == 2
    assert done.stderr == (
        "packerpy: error: packerpy.toml: images.web.secrets[0]: environment variable "
        "'DB_PASSWORD' is shorter than 8 characters (surrounding whitespace aside): too short "
        "to redact from packer's output\n"
    )
    assert not (project / ".packerpy" / "runs").exists()
