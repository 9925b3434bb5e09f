"""`packerpy lint` through the real command line: exit codes, the JSON envelope, no leaks."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.helpers import envelope, invoke, run_cli

pytestmark = pytest.mark.e2e

# Built from pieces so this file itself holds no scannable secret.
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
SUMMARY = re.compile(r"(\d+) error\(s\), (\d+) warning\(s\) in (\d+) file\(s\)")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """`packerpy init web`, its encrypt line without the comment: clean."""
    done = invoke("init", "web", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    config = tmp_path / "packerpy.toml"
    config.write_text(
        config.read_text().replace(
            "encrypt = true                   # `lint` (run before every build) requires it\n",
            "encrypt = true\n",
        )
    )
    return tmp_path


def test_a_clean_project_exits_0(project: Path) -> None:
    done = run_cli("lint", cwd=project)
    assert done.returncode == 0, done.stderr
    summary = SUMMARY.fullmatch(done.stdout.splitlines()[-1])
    assert summary is not None, done.stdout
    # Only PPL002 may warn: it depends on the packer on PATH (1.6 cannot require IMDSv2).
    assert summary.group(1, 3) == ("0", "4")
    assert all(" warning PPL002 " in line for line in done.stdout.splitlines()[:-1])

    as_json = run_cli("lint", "--json", cwd=project)
    assert as_json.returncode == 0, as_json.stderr
    env = envelope(as_json)
    assert (env["ok"], env["command"], env["exit_code"]) == (True, "lint", 0)
    assert env["data"]["errors"] == 0
    # The whole project is scanned, not only what the config references (issue 9 class 9).
    assert env["data"]["scanned"] == [
        ".gitignore",
        "hcl_templates/README.md",
        "packerpy.toml",
        "provisioners/README.md",
    ]
    assert {f["rule"] for f in env["data"]["findings"]} <= {"PPL002"}


def test_an_error_exits_11_and_the_secret_never_reaches_the_output(project: Path) -> None:
    var_file = project / "prod.pkrvars.hcl"
    var_file.write_text(f'region = "us-east-1"\naccess_key = "{AWS_KEY}"\n')

    done = run_cli("lint", cwd=project)
    assert done.returncode == 11, done.stderr
    assert any(
        line.startswith("prod.pkrvars.hcl:2: error PPS001 possible secret (AWS Access Key")
        for line in done.stdout.splitlines()
    )
    summary = SUMMARY.fullmatch(done.stdout.splitlines()[-1])
    assert summary is not None
    assert summary.group(1) == "1"

    as_json = run_cli("lint", "--json", cwd=project)
    assert as_json.returncode == 11
    env = envelope(as_json)
    assert (env["ok"], env["exit_code"], env["data"]["errors"]) == (True, 11, 1)
    [secret] = [f for f in env["data"]["findings"] if f["rule"] == "PPS001"]
    assert (secret["file"], secret["line"], secret["severity"]) == ("prod.pkrvars.hcl", 2, "error")
    assert "prod.pkrvars.hcl" in env["data"]["scanned"]

    for run in (done, as_json):
        assert AWS_KEY not in run.stdout + run.stderr
        assert AWS_KEY[4:] not in run.stdout + run.stderr


def test_an_invalid_config_is_exit_2(project: Path) -> None:
    (project / "packerpy.toml").write_text("[images.web\n")
    done = run_cli("lint", cwd=project)
    assert done.returncode == 2
    assert "not valid TOML" in done.stderr


def test_without_packer_only_ppl002_goes_unchecked(project: Path) -> None:
    env = {**os.environ, "PACKERPY_PACKER": str(project / "no-such-packer")}
    done = run_cli("lint", cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("PPL002 not checked: packer: ")
    assert done.stdout.splitlines() == ["0 error(s), 0 warning(s) in 4 file(s)"]


def test_build_runs_lint_first_and_fails_closed(aws: str, project: Path) -> None:
    config = project / "packerpy.toml"
    config.write_text(config.read_text().replace("encrypt = true\n", "encrypt = false\n"))
    done = run_cli("build", "web", cwd=project)
    assert done.returncode == 11
    (error,) = [line for line in done.stderr.splitlines() if line.startswith("packerpy: error:")]
    assert re.fullmatch(
        r"packerpy: error: lint: 1 error\(s\), first packerpy.toml:\d+: PPL001 images.web: AMI is "
        r"not encrypted; run `packerpy lint` for all of them",
        error,
    ), error
    (record,) = (project / ".packerpy" / "runs").glob("*/result.json")
    assert not (record.parent / "packer.log").exists(), "packer must not run"

    skipped = run_cli("build", "web", "--skip-lint", "--json", cwd=project)
    assert skipped.returncode == 0, skipped.stderr
    assert "packerpy: WARNING: lint skipped (--skip-lint)" in skipped.stderr
    run_dir = Path(envelope(skipped)["data"]["run_dir"])
    assert json.loads((run_dir / "result.json").read_text())["lint"] == "skipped (--skip-lint)"
