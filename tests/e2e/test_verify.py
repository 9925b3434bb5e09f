"""verify end to end: a real packer bake against moto (once per module), then `packerpy verify`
through the command line; the launch test's scripts run by packer's null builder over SSH into
the loopback sshd of tests/e2e/test_ssh_bake.py (verify.ssh_host = 127.0.0.1).

moto launches the instance, packer runs the scripts on this machine; what is asserted is that
the verdict is tagged, the reason names the failed check, and the instance is terminated in
every case, Ctrl-C included.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from packerpy import naming, sandbox
from tests.conftest import REAL_CREDENTIAL_VARS
from tests.e2e.test_ssh_bake import sshd  # noqa: F401 - the loopback sshd fixture, reused
from tests.helpers import ec2, envelope, run_cli, snapshots_of, tags_of

pytestmark = pytest.mark.e2e
REGIONS = ["us-east-1", "eu-west-1"]
A = "111122223333"
SCRIPTS = {
    "smoke.sh": "#!/bin/sh\necho smoke test on $(hostname)\n",
    "fail.sh": "#!/bin/sh\necho checking nginx\nexit 3\n",
    # Says it started (the test waits for the file), then outlasts the test's patience.
    "slow.sh": "#!/bin/sh\ntouch MARKER\nsleep 60\n",
}


def environment(endpoint: str, home: Path) -> dict[str, str]:
    """The CLI's environment: this module's moto, fake credentials, no way out (conftest's rules;
    its guard fixture is per test, and the bake below runs once per module)."""
    env = {k: v for k, v in os.environ.items() if k not in REAL_CREDENTIAL_VARS}
    empty = home / "aws-empty-config"
    empty.write_text("")
    proxy = "http://127.0.0.1:9"
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_CONFIG_FILE=str(empty),
        AWS_SHARED_CREDENTIALS_FILE=str(empty),
        AWS_EC2_METADATA_DISABLED="true",
        HTTP_PROXY=proxy,
        HTTPS_PROXY=proxy,
        http_proxy=proxy,
        https_proxy=proxy,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


class Baked:
    """web 0.1.0 baked by packer in two regions, shared with A; verify's config rewritten per test."""

    def __init__(self, root: Path, env: dict[str, str], endpoint: str, port: int) -> None:
        self.root, self.env, self.endpoint, self.port = root, env, endpoint, port
        self.pristine = (root / "packerpy.toml").read_text()
        self.amis: dict[str, str] = {}

    def configure(self, script: str) -> None:
        section = (
            f'\n[images.web.verify]\ntests = ["tests/{script}"]\nssh_username = "root"\n'
            f'ssh_private_key_file = "id_verify"\nssh_host = "127.0.0.1"\n'
            f'ssh_port = {self.port}\ntimeout = "2m"\n'
        )
        (self.root / "packerpy.toml").write_text(self.pristine + section)

    def verify(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_cli("verify", "web", "0.1.0", *args, cwd=self.root, env=self.env, timeout=180)

    def instances(self) -> dict[str, str]:
        """Every verify instance in the build region: id -> state."""
        filters = [{"Name": f"tag:{naming.PURPOSE_TAG}", "Values": ["verify"]}]
        found = ec2(self.endpoint).describe_instances(Filters=filters)["Reservations"]
        return {i["InstanceId"]: i["State"]["Name"] for r in found for i in r["Instances"]}


def _configure(text: str) -> str:
    start = text.index("regions = ")
    end = text.index("\n", start)
    keys = ", ".join(f'"{r}" = "alias/ami"' for r in REGIONS)
    lines = (
        # snapshots = true: the share step grants create-volume permission to the accounts
        # whether or not share.snapshots asks for it (steps/share.py), and verify checks that.
        f'regions = {json.dumps(REGIONS)}\nshare = {{ accounts = ["{A}"], snapshots = true }}\n'
        f'kms_key_ids = {{ {keys} }}\ndeprecate_after = "180d"'
    )
    return text[:start] + lines + text[end:]


@pytest.fixture(scope="module")
def baked(
    tmp_path_factory: pytest.TempPathFactory,
    sshd: tuple[int, Path],  # noqa: F811 - the fixture
) -> Iterator[Baked]:
    """A moto of this module's own (other modules reset the session's between tests)."""
    state = tmp_path_factory.mktemp("verify-moto")
    endpoint = sandbox.start(state).endpoint_url
    try:
        root = tmp_path_factory.mktemp("verify-project")
        env = environment(endpoint, root.parent)
        for region in REGIONS:  # the customer managed key a shared encrypted AMI needs
            kms = boto3.Session("testing", "testing").client(
                "kms", region_name=region, endpoint_url=endpoint
            )
            kms.create_alias(
                AliasName="alias/ami", TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"]
            )
        assert run_cli("init", "web", cwd=root, env=env).returncode == 0
        config = root / "packerpy.toml"
        config.write_text(_configure(config.read_text()))
        done = run_cli("build", "web", "--json", cwd=root, env=env, timeout=300)
        assert done.returncode == 0, done.stderr
        (root / "tests").mkdir()
        for name, text in SCRIPTS.items():
            (root / "tests" / name).write_text(text)
        shutil.copy(sshd[1], root / "id_verify")
        project = Baked(root, env, endpoint, sshd[0])
        project.amis = envelope(done)["data"]["amis"]
        yield project
    finally:
        sandbox.stop(state)


def test_a_good_version_passes_and_is_tagged_everywhere(baked: Baked) -> None:
    baked.configure("smoke.sh")
    started = time.perf_counter()
    done = baked.verify("--json")
    wall = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    data = envelope(done)["data"]
    assert data["verdict"] == "pass" and all(c["ok"] for c in data["checks"])
    assert any(line.startswith("smoke test on ") for line in data["output"])
    for region, ami in baked.amis.items():
        for resource in (ami, *snapshots_of(baked.endpoint, region, ami)):
            assert tags_of(baked.endpoint, region, resource)[naming.VERIFIED_TAG] == "pass"
    assert baked.instances() == {data["instance"]: "terminated"}
    # Measured in the sandbox: a few seconds, most of it packer's start and SSH (README, Verify).
    assert wall < 60 and data["seconds"] < wall


def test_a_share_removed_by_hand_fails_naming_it(baked: Baked) -> None:
    baked.configure("smoke.sh")
    ami = baked.amis["eu-west-1"]
    client = ec2(baked.endpoint, "eu-west-1")
    client.modify_image_attribute(ImageId=ami, LaunchPermission={"Remove": [{"UserId": A}]})
    try:
        done = baked.verify()
    finally:
        client.modify_image_attribute(ImageId=ami, LaunchPermission={"Add": [{"UserId": A}]})
    reason = f"launch-permissions in eu-west-1: missing {A}"
    assert done.returncode == 13, done.stderr
    assert f"packerpy: error: web 0.1.0: verify failed: {reason}" in done.stderr
    tags = tags_of(baked.endpoint, "us-east-1", baked.amis["us-east-1"])
    assert (tags[naming.VERIFIED_TAG], tags[naming.VERIFY_REASON_TAG]) == ("fail", reason)


def test_a_failing_script_fails_and_the_instance_is_terminated(baked: Baked) -> None:
    baked.configure("fail.sh")
    before = set(baked.instances())
    done = baked.verify("--json")
    assert done.returncode == 13, done.stderr
    failure = envelope(done)
    assert failure["ok"] is False and failure["exit_code"] == 13
    assert failure["messages"][0].startswith(
        "web 0.1.0: verify failed: launch-test in us-east-1: test failed on i-"
    )
    assert "output: checking nginx" in failure["messages"]
    new = {i: s for i, s in baked.instances().items() if i not in before}
    assert list(new.values()) == ["terminated"]
    (instance,) = new
    reason = tags_of(baked.endpoint, "us-east-1", baked.amis["us-east-1"])[naming.VERIFY_REASON_TAG]
    assert reason == (
        f"launch-test in us-east-1: test failed on {instance}: packer build failed (exit 1): "
        "Script exited with non-zero exit status: 3.Allowed exit codes are: [0]"
    )


def test_ctrl_c_during_the_launch_test_terminates_the_instance(
    baked: Baked, tmp_path: Path
) -> None:
    baked.configure("slow.sh")
    marker = tmp_path / "started"
    before = set(baked.instances())
    (baked.root / "tests" / "slow.sh").write_text(SCRIPTS["slow.sh"].replace("MARKER", str(marker)))
    child = subprocess.Popen(
        [sys.executable, "-m", "packerpy", "verify", "web", "0.1.0"],
        cwd=baked.root,
        env=baked.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while not marker.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.exists(), child.communicate()[1] if child.poll() is not None else ""
        child.send_signal(signal.SIGINT)  # to packerpy alone, as a terminal's Ctrl-C is not
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, err
    new = {i: s for i, s in baked.instances().items() if i not in before}
    assert list(new.values()) == ["terminated"]
    (record,) = [
        json.loads((run / "result.json").read_text())
        for run in sorted((baked.root / ".packerpy" / "runs").iterdir())[-1:]
    ]
    assert record["exit_code"] == 130 and record["phase"] == "launch"
