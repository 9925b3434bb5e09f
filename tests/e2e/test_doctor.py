"""`packerpy doctor` through the real command line: a sandbox started the way a user starts it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import envelope, run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def user_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A project, and `eval "$(packerpy sandbox start)"` done in its environment."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_STATE_HOME": str(home / ".state")}
    env.pop("AWS_ENDPOINT_URL", None)
    assert run_cli("init", "web", cwd=tmp_path, env=env).returncode == 0
    started = run_cli("sandbox", "start", cwd=tmp_path, env=env)
    assert started.returncode == 0, started.stderr
    for line in started.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value
    try:
        yield env
    finally:
        run_cli("sandbox", "stop", cwd=tmp_path, env=env)


def test_doctor_against_the_sandbox(tmp_path: Path, user_env: dict[str, str]) -> None:
    done = run_cli("doctor", "--json", cwd=tmp_path, env=user_env)
    assert done.returncode == 0, done.stdout + done.stderr
    result = envelope(done)
    assert (result["command"], result["exit_code"]) == ("doctor", 0)
    rows = {row["name"]: row for row in result["data"]["checks"]}
    assert {name: row["status"] for name, row in rows.items()} == {
        "packer": "ok",
        "amazon plugin": "ok",
        "shellcheck": "ok",
        "git": "ok",
        "config": "ok",
        "aws credentials": "ok",
        "ec2 endpoint": "ok",
        "sandbox": "ok",
    }
    endpoint = user_env["AWS_ENDPOINT_URL"]
    assert rows["aws credentials"]["found"].startswith("account 123456789012 ")
    assert rows["ec2 endpoint"]["found"] == f"{endpoint} answers"
    assert rows["sandbox"]["found"] == f"running at {endpoint}; AWS calls go there"

    text = run_cli("doctor", cwd=tmp_path, env=user_env)
    assert text.returncode == 0
    assert "8 ok, 0 warning(s), 0 failure(s), 0 skipped" in text.stdout
    assert "aws credentials" in text.stdout


def test_doctor_fails_without_packer_and_says_how_to_install_it(
    tmp_path: Path, user_env: dict[str, str]
) -> None:
    env = {**user_env, "PACKERPY_PACKER": str(tmp_path / "no-packer")}
    env.pop("AWS_ACCESS_KEY_ID")
    env.pop("AWS_SECRET_ACCESS_KEY")
    env["AWS_SHARED_CREDENTIALS_FILE"] = env["AWS_CONFIG_FILE"] = str(tmp_path / "none")
    done = run_cli("doctor", "--json", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    result = envelope(done)
    assert result["exit_code"] == 1
    rows = {row["name"]: row for row in result["data"]["checks"]}
    assert rows["packer"]["status"] == "fail"
    assert "developer.hashicorp.com/packer/install" in rows["packer"]["fix"]
    assert rows["amazon plugin"]["status"] == "skip"
    # No credentials: a warning, and the checks that need them say why they did not run.
    assert rows["aws credentials"]["status"] == "warn"
    assert rows["ec2 endpoint"] == {
        "name": "ec2 endpoint",
        "status": "skip",
        "found": "not checked: no AWS credentials",
        "fix": "",
    }
    assert result["data"]["failures"] == 1
