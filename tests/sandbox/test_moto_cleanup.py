"""The sandbox's cleanup fills (sandbox/moto_cleanup.py) under concurrent requests.

cleanup deregisters 8 AMIs at a time (aws/operation.py), and each request runs in its own
server thread: the sandbox must stay consistent when they interleave. A server of our own
switches threads every microsecond (sys.setswitchinterval) instead of every 5 ms, so an
interleaving that the 500-AMI bench hit in 2 runs of 3 happens in every run here.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from packerpy import sandbox

# A moto server (its own, not the session's): `make test`, not `make unit`.
pytestmark = pytest.mark.moto
AMIS = 60
THREADS = 12
# Runs the sandbox's own server module with a switch interval of 1 us (default 5 ms).
RACY_SERVER = (
    "import sys; sys.setswitchinterval(1e-6); from packerpy.sandbox.server import main; main()"
)


@pytest.fixture(scope="module")
def racy_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = sandbox.free_port()
    log = tmp_path_factory.mktemp("racy") / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", RACY_SERVER, "--host", sandbox.HOST, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://{sandbox.HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1):  # noqa: S310 - loopback
                    break
            except (urllib.error.URLError, OSError):
                assert server.poll() is None, Path(log).read_text()
                assert time.monotonic() < deadline, "the racy sandbox did not start"
                time.sleep(0.1)
        yield endpoint
    finally:
        server.kill()  # nothing to keep: its state dies with it
        server.wait(timeout=30)


def _client(endpoint: str) -> Any:
    return boto3.client(
        "ec2",
        region_name="us-east-1",
        endpoint_url=endpoint,
        config=Config(max_pool_connections=THREADS, retries={"total_max_attempts": 1}),
    )


def _register(client: Any, count: int) -> list[str]:
    return [
        client.register_image(
            Name=f"racy-{n}",
            VirtualizationType="hvm",
            RootDeviceName="/dev/sda1",
            BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8}}],
        )["ImageId"]
        for n in range(count)
    ]


def test_concurrent_deregistrations_with_snapshots_all_succeed(racy_endpoint: str) -> None:
    """Each DeregisterImage + DeleteAssociatedSnapshots answers success and deletes its own
    snapshot, while other threads deregister (it used to answer 500: "dictionary changed size
    during iteration", scanning the region's AMIs for another user of the snapshot)."""
    client = _client(racy_endpoint)
    amis = _register(client, AMIS)
    images = client.describe_images(ImageIds=amis)["Images"]
    snapshots = {i["ImageId"]: i["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"] for i in images}

    def deregister(ami: str) -> list[dict[str, str]]:
        answer = client.deregister_image(ImageId=ami, DeleteAssociatedSnapshots=True)
        found: list[dict[str, str]] = answer["DeleteSnapshotResults"]
        return found

    with ThreadPoolExecutor(THREADS) as pool:
        results = dict(zip(amis, pool.map(deregister, amis), strict=True))

    assert results == {
        ami: [{"SnapshotId": snapshots[ami], "ReturnCode": "success"}] for ami in amis
    }
    left = client.describe_snapshots(
        Filters=[{"Name": "snapshot-id", "Values": list(snapshots.values())}]
    )["Snapshots"]
    assert left == []
    still = {i["ImageId"] for i in client.describe_images(Owners=["self"])["Images"]}
    assert not still & set(amis)
