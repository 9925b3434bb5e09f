"""Channels end to end: two versions baked by packer, promoted dev -> staging -> prod through
the gates, read back with boto3 and the AWS CLI, rolled back, revoked; a revoked base stops a
build; two promotions racing as two processes give one winner and one conflict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import reset_moto
from tests.fault_proxy import FaultProxy
from tests.helpers import ec2, envelope, run_cli

pytestmark = pytest.mark.e2e

REGIONS = ["us-east-1", "us-west-2"]
PACKERPY = [sys.executable, "-m", "packerpy"]
AWS_CLI = Path(sys.executable).parent / "aws"


@pytest.fixture(scope="module")
def baked(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """web 0.1.0 and 0.2.0, each baked by packer in us-east-1 and copied to us-west-2."""
    reset_moto(moto_endpoint)
    # The bakes run before the function-scoped aws_guard: the same loopback-only environment.
    empty = tmp_path_factory.mktemp("aws") / "empty"
    empty.write_text("")
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
            patch.delenv(key, raising=False)
        yield bake(tmp_path_factory)


@pytest.fixture(autouse=True)
def endpoint(aws_guard: None, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The module's moto (not reset: the bakes are shared), after aws_guard removed it."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    return moto_endpoint


def bake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("channels")
    assert run_cli("init", "web", cwd=root).returncode == 0
    config = root / "packerpy.toml"
    config.write_text(
        config.read_text()
        .replace(
            'regions = ["us-east-1"]',
            f'regions = {json.dumps(REGIONS)}\nchannels = ["dev", "staging", "prod"]',
        )
        .replace(
            'tags = { team = "platform" }',
            'tags = { team = "platform" }\nvariables = { release = "a" }',
        )
    )
    for bump in (None, "minor"):
        if bump:  # new inputs too: unchanged ones would reuse 0.1.0's AMI instead of baking
            assert run_cli("version", "bump", "web", bump, cwd=root).returncode == 0
            config.write_text(config.read_text().replace('release = "a"', 'release = "b"'))
        done = run_cli("build", "web", "--json", cwd=root)
        assert done.returncode == 0, done.stderr
        assert not envelope(done)["data"]["skipped"], done.stdout
    return root


def cli(root: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    done = run_cli(*args, cwd=root)
    assert done.returncode == code, (done.stdout, done.stderr)
    return done


def amis(endpoint: str, version: str) -> dict[str, str]:
    found = {}
    for region in REGIONS:
        (image,) = ec2(endpoint, region).describe_images(
            Owners=["self"], Filters=[{"Name": "tag:packerpy:version", "Values": [version]}]
        )["Images"]
        found[region] = image["ImageId"]
    return found


def verdict(endpoint: str, version: str, value: str) -> None:
    """What `packerpy verify` (another branch) records: set by hand here."""
    for region, ami in amis(endpoint, version).items():
        ec2(endpoint, region).create_tags(
            Resources=[ami], Tags=[{"Key": "packerpy:verified", "Value": value}]
        )


def read_back(endpoint: str, channel: str, *, aws_cli: bool = False) -> dict[str, str]:
    """The channel's value per region as boto3 reads it; with `aws_cli`, the AWS CLI as well
    (what a consumer's script runs), which must agree."""
    import boto3

    name = f"/packerpy/web/web/{channel}"
    seen = {}
    for region in REGIONS:
        ssm = boto3.client("ssm", region_name=region, endpoint_url=endpoint)
        found = ssm.get_parameter(Name=name)["Parameter"]
        assert found["DataType"] == "aws:ec2:image"
        seen[region] = found["Value"]
        if aws_cli:
            command = [str(AWS_CLI), "--endpoint-url", endpoint, "--region", region]
            command += ["--output", "text", "--query", "Parameter.Value"]
            command += ["ssm", "get-parameter", "--name", name]
            out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60)
            assert out.stdout.strip() == found["Value"]
    return seen


class OrderedPuts(FaultProxy):
    """Holds each region's first two SSM PutParameter calls until both arrived, then lets the
    one writing a `first` AMI through first: both writers read the parameter's version before
    either writes, and the same writer wins in every region."""

    def __init__(self, upstream: str, first: set[str]) -> None:
        super().__init__(upstream)
        self.first = first
        self.regions: dict[str, tuple[threading.Barrier, threading.Event, list[int]]] = {}

    def _forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        head = {k.lower(): v for k, v in headers}
        if not head.get("x-amz-target", "").endswith(".PutParameter"):
            return super()._forward(method, path, headers, body)
        region = head["authorization"].split("/")[2]  # the credential scope names it
        with self._lock:
            barrier, landed, count = self.regions.setdefault(
                region, (threading.Barrier(2, timeout=60), threading.Event(), [0])
            )
            count[0] += 1
            held = count[0] <= 2  # the two racing writes
        if held:
            barrier.wait()
            if not any(ami.encode() in body for ami in self.first):
                landed.wait(60)
        try:
            return super()._forward(method, path, headers, body)
        finally:
            landed.set()


def test_two_concurrent_promotions_one_winner_one_conflict(moto_endpoint: str, baked: Path) -> None:
    """Two processes promote different versions to dev at once: 0.1.0's write lands first in
    each region, 0.2.0's process reports the conflict (exit 15) and puts 0.1.0 back."""
    first = amis(moto_endpoint, "0.1.0")
    with OrderedPuts(moto_endpoint, set(first.values())) as proxy:
        procs = [
            subprocess.Popen(
                [
                    *PACKERPY,
                    "--endpoint-url",
                    proxy.endpoint,
                    "promote",
                    "web",
                    version,
                    "--to",
                    "dev",
                    "--force",
                ],
                cwd=baked,
                env=dict(os.environ),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for version in ("0.1.0", "0.2.0")
        ]
        done = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _o, _e in done] == [0, 15], done
    assert "/packerpy/web/web/dev was changed by another writer" in done[1][2]
    assert read_back(moto_endpoint, "dev") == first


# Ten CLI runs: 67-95 s measured with 8 engineers sharing 2 cores (the default limit is 120 s).
@pytest.mark.timeout(300)
def test_promote_chain_rollback_revoke_and_a_revoked_base(moto_endpoint: str, baked: Path) -> None:
    first, second = amis(moto_endpoint, "0.1.0"), amis(moto_endpoint, "0.2.0")
    refused = cli(baked, "promote", "web", "0.1.0", "--to", "dev", code=14)
    assert "is not verified (packerpy:verified = unset in us-east-1)" in refused.stderr
    verdict(moto_endpoint, "0.1.0", "pass")
    verdict(moto_endpoint, "0.2.0", "pass")
    refused = cli(baked, "promote", "web", "0.1.0", "--to", "prod", code=14)
    assert "not on staging in us-east-1" in refused.stderr
    for channel in ("dev", "staging", "prod"):
        data = envelope(cli(baked, "promote", "web", "0.1.0", "--to", channel, "--json"))["data"]
        assert data["amis"] == first and data["forced"] == []
    assert read_back(moto_endpoint, "prod", aws_cli=True) == first
    skipped = envelope(
        cli(baked, "promote", "web", "0.2.0", "--to", "prod", "--skip-order", "--json")
    )
    assert skipped["data"]["forced"] == ["order"] and skipped["data"]["ssm_calls"] == 4 * len(
        REGIONS
    )
    assert read_back(moto_endpoint, "prod") == second

    shown = envelope(cli(baked, "channels", "web", "--json"))["data"]["channels"]
    assert [(c["channel"], c["version"]) for c in shown] == [
        ("dev", "0.1.0"),
        ("staging", "0.1.0"),
        ("prod", "0.2.0"),
    ]
    prod = shown[2]["history"]["us-west-2"]
    assert [e["labels"] for e in prod] == [["v0.1.0"], ["v0.2.0"]]

    rolled = cli(baked, "rollback", "web", "--channel", "prod")
    assert rolled.stdout.startswith("web prod: 0.2.0 -> 0.1.0")
    assert read_back(moto_endpoint, "prod") == first

    revoked = cli(baked, "revoke", "web", "0.1.0", "--reason", "CVE-2026-1234")
    assert "  prod in us-east-1: back to 0.2.0" in revoked.stdout
    assert read_back(moto_endpoint, "prod") == second
    # staging held no other version: its parameter is gone, consumers stop resolving it.
    assert "  staging in us-west-2: no earlier good version, parameter deleted" in revoked.stdout
    image = ec2(moto_endpoint, "us-west-2").describe_images(ImageIds=[first["us-west-2"]])
    assert "DeprecationTime" in image["Images"][0]
    # Every promote left a run record, refused ones included (exit 14).
    records = (baked / ".packerpy" / "runs").glob("*-web-promote*/result.json")
    assert {0, 14} <= {json.loads(path.read_text())["exit_code"] for path in records}

    config = baked / "packerpy.toml"
    config.write_text(
        config.read_text()
        + f'\n[images.app]\nversion = "1.0.0"\nbase = {{ ami = "{first["us-east-1"]}" }}\n'
    )
    stopped = cli(baked, "build", "app", "--skip-lint", code=14)
    assert f"images.app.base: {first['us-east-1']} in us-east-1 is a revoked version" in (
        stopped.stderr
    )
