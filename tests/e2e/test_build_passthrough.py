"""Packer's own options through `packerpy build`, and idempotent re-runs, with the real packer.

One bake for the module (with --var, --var-file and the other pass-through flags); the rest of
the tests reuse what it published, and bake again only where the point is a second bake.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from packerpy.support import paths
from tests.conftest import REAL_CREDENTIAL_VARS, reset_moto
from tests.helpers import envelope, run_cli, tags_of

pytestmark = pytest.mark.e2e

# The built-in template, with the user variable `flavour` in the AMI's tags: what packer
# received for it is then visible in AWS.
TAGS_LINE = '  "tags": expr("var.tags"),'
FLAVOURED = '  "tags": expr("merge(var.tags, { flavour = var.flavour })"),'


def sandboxed(endpoint: str, config: Path) -> dict[str, str]:
    """The environment aws_guard gives a test, for fixtures wider than one test."""
    env = {k: v for k, v in os.environ.items() if k not in REAL_CREDENTIAL_VARS}
    config.write_text("")
    return {
        **env,
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(config),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "NO_PROXY": "127.0.0.1,localhost",
    }


@pytest.fixture(scope="module")
def env(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    reset_moto(moto_endpoint)
    return sandboxed(moto_endpoint, tmp_path_factory.mktemp("aws") / "empty")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    root = tmp_path_factory.mktemp("passthrough")
    assert run_cli("init", "web", cwd=root, env=env).returncode == 0
    config = root / "packerpy.toml"
    config.write_text(
        config.read_text().replace(
            'tags = { team = "platform" }',
            'tags = { team = "platform" }\nvariables = { flavour = "plain", release = "a" }',
        )
    )
    builtin = paths.builtin("hcl_templates") / "amazon-ebs.pkr.hcl.j2"
    text = builtin.read_text()
    assert TAGS_LINE in text
    (root / "hcl_templates" / "amazon-ebs.pkr.hcl.j2").write_text(
        text.replace(TAGS_LINE, FLAVOURED)
    )
    (root / "extra.pkrvars.hcl").write_text('release = "b"\n')
    return root


PASS = (
    "--var", "flavour=spicy", "--var-file", "extra.pkrvars.hcl", "--on-error", "cleanup",
    "--parallel-builds", "1", "--timestamp-ui",
)  # fmt: skip


@contextmanager
def configured_version(project: Path, version: str) -> Iterator[None]:
    """packerpy.toml with another version for the block (the module's bake keeps 0.1.0)."""
    config = project / "packerpy.toml"
    text = config.read_text()
    config.write_text(text.replace('version = "0.1.0"', f'version = "{version}"'))
    try:
        yield
    finally:
        config.write_text(text)


def build(project: Path, env: dict[str, str], *args: str) -> tuple[int, dict[str, Any], str]:
    done = run_cli("build", "web", "--json", *args, cwd=project, env=env)
    return done.returncode, envelope(done)["data"], done.stderr


@pytest.fixture(scope="module")
def baked(project: Path, env: dict[str, str]) -> dict[str, Any]:
    code, data, err = build(project, env, *PASS)
    assert code == 0, err
    return data


def test_var_and_var_file_reach_packer(baked: dict[str, Any], env: dict[str, str]) -> None:
    ami = baked["amis"]["us-east-1"]
    assert tags_of(env["AWS_ENDPOINT_URL"], "us-east-1", ami)["flavour"] == "spicy"
    run_dir = Path(baked["run_dir"])
    assert (run_dir / "user-1-extra.pkrvars.hcl").read_text() == 'release = "b"\n'
    assert baked["skipped"] is False


def test_ux4_2_the_same_build_again_is_skipped_and_other_inputs_are_exit_9(
    baked: dict[str, Any], project: Path, env: dict[str, str]
) -> None:
    ami = baked["amis"]["us-east-1"]
    # --only/--except/--on-error/--timestamp-ui do not change the image: still the same inputs.
    code, again, err = build(project, env, *PASS[:4], "--except", "nothing")
    assert (code, again["skipped"], again["amis"]) == (0, True, baked["amis"]), err
    assert again["reason"] == (
        f"web 0.1.0 is already published from the same inputs ({ami} in us-east-1); nothing to bake"
    )
    code, refused, err = build(project, env, "--var", "flavour=mild")
    assert code == 9
    assert err.endswith("and changed: variables; versions are immutable: "
                        "packerpy version bump web patch\n")  # fmt: skip
    assert refused["phase"] == "render" and Path(refused["run_dir"]).is_dir()


def test_reserved_variables_are_refused_before_any_run(project: Path, env: dict[str, str]) -> None:
    done = run_cli("build", "web", "--var", "ami_name=x", cwd=project, env=env)
    assert done.returncode == 2
    assert done.stderr == (
        "packerpy: error: --var ami_name: sets ami_name, which packerpy sets itself "
        "(reserved: ami_name, image_version, run_tags, ssh_private_key_file, tags)\n"
    )


def test_only_an_unknown_build_is_one_line_with_the_run_dir_and_phase(
    baked: dict[str, Any], project: Path, env: dict[str, str]
) -> None:
    with configured_version(project, "0.2.0"):
        code, data, err = build(project, env, "--only", "nosuch")
    assert code == 2
    assert err.splitlines()[-1] == (
        "packerpy: error: --only nosuch: packer built nothing, no build of web.pkr.hcl was "
        "selected (its builds: web.amazon-ebs.web)"
    )
    assert data["phase"] == "manifest" and data["exit_code"] == 2
    assert (Path(data["run_dir"]) / "packer.log").is_file()


def test_ux8_an_older_version_is_refused(
    baked: dict[str, Any], project: Path, env: dict[str, str]
) -> None:
    with configured_version(project, "0.0.9"):
        done = run_cli("build", "web", "--var", "flavour=old", cwd=project, env=env)
    assert done.returncode == 14
    assert done.stderr == (
        "packerpy: error: packerpy.toml: images.web.version: 0.0.9 is lower than the latest "
        "published version 0.1.0; bump it, or pass --allow-older to build a hotfix line\n"
    )
    # --allow-older then bakes it: tests/bake/test_plan.py (no second bake here).
