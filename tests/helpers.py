"""Helpers shared by test modules (fixtures stay in conftest.py; plain functions live here)."""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import settings
from hypothesis import strategies as st

from packerpy.aws.settings import AwsSettings
from packerpy.cli import app as cli_app

REPO = Path(__file__).resolve().parent.parent
# Hand-written packer templates for the adopt tests: the demo's own (`single`), and a
# three-file directory with two sources and a post-processor chain.
ADOPT_TEMPLATES = {
    "single": REPO / "examples" / "legacy",
    "multi": REPO / "tests" / "data" / "adopt" / "multi",
}
_serial = itertools.count(1)

# The smallest valid project: one image on a pinned base, every other field at its default.
BASE_PROJECT: dict[str, Any] = {
    "project": {"name": "acme"},
    "images": {"web": {"version": "1.0.0", "base": {"ami": "ami-03cf127a"}}},
}


def merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `overrides` merged in, tables recursively; a None value removes the key."""
    out = copy.deepcopy(dict(base))
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping):
            out[key] = merged(out.get(key) or {}, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def make_project(tmp_path: Path, **overrides: Any) -> Path:
    """Write packerpy.toml in `tmp_path` from BASE_PROJECT merged with `overrides`; its path.

    `make_project(tmp_path, images={"web": {"encrypt": True}})` changes one field; pass
    `images={"web": None, "db": {...}}` to replace an image.
    """
    path = tmp_path / "packerpy.toml"
    path.write_text(tomlkit.dumps(merged(BASE_PROJECT, overrides)), encoding="utf-8")
    return path


def settings_for(endpoint: str | None, region: str = "us-east-1") -> AwsSettings:
    """AWS settings pointing every client at `endpoint` (the test moto), with few retries."""
    return AwsSettings(
        region=region, profile=None, endpoint_url=endpoint, max_retries=2, retry_mode="standard"
    )


@functools.cache
def boto_client(service: str, endpoint: str, region: str = "us-east-1") -> Any:
    """A plain boto3 client on the test moto, for arranging and inspecting state.

    One per (service, endpoint, region) for the session: botocore builds a client's class
    anew each time (31 ms for EC2's 600 operations), and making one per helper call was the
    largest share of `make unit`. Clients are thread-safe, and every test has the same
    credentials (conftest's aws_guard), so sharing them between tests changes nothing else.
    """
    import boto3

    factory: Any = boto3.client  # its overloads want a literal service name
    return factory(service, region_name=region, endpoint_url=endpoint)


def ec2(endpoint: str, region: str = "us-east-1") -> Any:
    return boto_client("ec2", endpoint, region)


def make_ami(
    endpoint: str,
    region: str = "us-east-1",
    *,
    name: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> str:
    """A new self-owned AMI in moto, tagged; registered, not imaged, as that is 50x faster."""
    client = ec2(endpoint, region)
    ami: str = client.register_image(
        Name=name or f"test-{next(_serial)}",
        VirtualizationType="hvm",
        RootDeviceName="/dev/sda1",
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8}}],
    )["ImageId"]
    if tags:
        client.create_tags(Resources=[ami], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return ami


def snapshots_of(endpoint: str, region: str, ami: str) -> list[str]:
    image = ec2(endpoint, region).describe_images(ImageIds=[ami])["Images"][0]
    return [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m]


def tags_of(endpoint: str, region: str, resource: str) -> dict[str, str]:
    """The tags on one EC2 resource, as a dict."""
    found = ec2(endpoint, region).describe_tags(
        Filters=[{"Name": "resource-id", "Values": [resource]}]
    )["Tags"]
    return {t["Key"]: t["Value"] for t in found}


# --- hypothesis: any valid SemVer string ----------------------------------------------------

_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-"
_numbers = st.integers(min_value=0, max_value=10**6)
# Numeric identifiers have no leading zeros; alphanumeric ones need a non-digit.
_numeric_id = _numbers.map(str)
alnum_id = st.text(_ALNUM, min_size=1, max_size=8).filter(lambda s: not s.isdigit())
_pre_id = st.one_of(_numeric_id, alnum_id, st.sampled_from(["rc", "alpha", "beta", "rc9", "0a9"]))
_build_id = st.text(_ALNUM, min_size=1, max_size=6)


def examples(ci: int) -> int:
    """`ci` examples under the `ci` hypothesis profile; scaled like the loaded profile otherwise.

    For tests that set `max_examples` themselves (a decorator overrides the profile): the
    `dev` profile of `make unit` runs 20 of hypothesis's 100 default, so a 500-example
    property runs 100 there and all 500 in `make test`. Read at import time, after conftest.py
    loaded the profile.
    """
    return max(1, ci * settings.default.max_examples // 100)


@st.composite
def semvers(draw: st.DrawFn) -> str:
    core = ".".join(str(draw(_numbers)) for _ in range(3))
    pre = draw(st.lists(_pre_id, max_size=4))
    build = draw(st.lists(_build_id, max_size=3))
    return core + ("-" + ".".join(pre) if pre else "") + ("+" + ".".join(build) if build else "")


def loopback_ssh(port: int) -> dict[str, Any]:
    """An image's communicator and build_env for a bake over the tests' loopback sshd
    (tests/e2e/test_ssh_bake.py's fixture: key `id_build` in the project, EC2 key pair name)."""
    return {
        "communicator": {
            "type": "ssh",
            "ssh_username": "root",
            "ssh_host": "127.0.0.1",
            "ssh_port": port,
            "ssh_private_key_file": "id_build",
            "ssh_keypair_name": "packerpy-e2e",
            "ssh_timeout": "30s",
        },
        "build_env": {"ssh_cidrs": ["127.0.0.1/32"]},
    }


def unwritable_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """$XDG_CACHE_HOME is a file: every cache write under it fails (a read-only home)."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The real command line, in a subprocess, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "packerpy", *args],
        cwd=cwd,
        env=env if env is not None else dict(os.environ),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def invoke(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """run_cli's result, without the subprocess: the CLI's own boundary (`cli.run`) in-process.

    For tests of what a command prints and returns; a `python -m packerpy` start-up costs about
    1 s of a shared core (imports, no bytecode cache), which dominated the CLI tests. Keep
    run_cli for exit codes decided by the interpreter, signals and stdout framing. `env`, when
    given, replaces os.environ for the call (and the packer it starts), as run_cli's does; but
    the packer found is cached per process (packer/binary.py), so a test that hides packer from
    PATH needs run_cli.
    """
    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_cwd = dict(os.environ), Path.cwd()
    try:
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli_app.run(list(args))
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    argv = [sys.executable, "-m", "packerpy", *args]
    return subprocess.CompletedProcess(argv, code, out.getvalue(), err.getvalue())


def envelope(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(done.stdout)
    return data
