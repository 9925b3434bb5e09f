"""Claim: cleanup plans and applies 500 AMIs in <= 1.3 s and plans 5,000 in <= 10 s, with
describe calls that grow with pages, not with AMIs.

Against moto: 10 images x 50 versions in one region (keep_last 3, keep_days 0, 10 deleted-by-
policy AMIs in use by instances), plan (prepare) and apply (execute) timed separately; then
5,000 AMIs across 3 regions, plan only. The estate is made through the API before any timing,
and the apply's end state is checked before anything is reported.

Each phase also shows where the time goes: CPU of this process (botocore and packerpy, every
thread) and of the sandbox server (moto; psutil), per AWS call. On a 2-core machine the two
compete, so wall time is at least (client + server CPU) / 2.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
import psutil
from build_overhead import reset
from common import local_aws

from packerpy import sandbox
from packerpy.aws.clients import AwsClients
from packerpy.aws.operation import Mode
from packerpy.aws.settings import AwsSettings
from packerpy.naming import IMAGE_TAG, PROJECT_TAG, VERSION_TAG
from packerpy.retention import cleanup
from packerpy.retention.cost import Prices
from packerpy.retention.model import Policy
from packerpy.retention.survey import Scope

IMAGES = tuple(f"img{i}" for i in range(10))
POLICY = Policy(keep_last=3, keep_prereleases=0, keep_days=0)
PRICES = Prices(0.05, 0.0125, "2026-11-27")
LIMIT_SMALL, LIMIT_LARGE = 1.3, 10.0


def _register(ec2: Any, count: int) -> list[str]:
    def one(_: int) -> str:
        found: str = ec2.register_image(
            Name=f"bench-{time.monotonic_ns()}",
            VirtualizationType="hvm",
            RootDeviceName="/dev/sda1",
            BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8}}],
        )["ImageId"]
        return found

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


def estate(endpoint: str, region: str, versions: int) -> dict[tuple[str, int], str]:
    """len(IMAGES) x `versions` AMIs tagged as bakes leave them; (image, minor) -> AMI id.
    Tagged in batches (one CreateTags per tag value): set-up only, never timed."""
    ec2 = boto3.client("ec2", region_name=region, endpoint_url=endpoint)
    ids = _register(ec2, len(IMAGES) * versions)
    amis = {
        (image, v): ids[i * versions + v] for i, image in enumerate(IMAGES) for v in range(versions)
    }

    def tag(resources: Sequence[str], key: str, value: str) -> None:
        for start in range(0, len(resources), 1000):
            chunk = list(resources[start : start + 1000])
            ec2.create_tags(Resources=chunk, Tags=[{"Key": key, "Value": value}])

    tag(ids, PROJECT_TAG, "acme")
    for image in IMAGES:
        tag([amis[image, v] for v in range(versions)], IMAGE_TAG, image)
    for v in range(versions):
        tag([amis[image, v] for image in IMAGES], VERSION_TAG, f"1.{v}.0")
    return amis


def scope(regions: tuple[str, ...]) -> Scope:
    return Scope("acme", "/packerpy", regions, dict.fromkeys(IMAGES, POLICY))


def clients(endpoint: str) -> AwsClients:
    settings = AwsSettings(
        region="us-east-1",
        profile=None,
        endpoint_url=endpoint,
        max_retries=2,
        retry_mode="standard",
    )
    return AwsClients(settings)


def counts(aws: AwsClients, start: int = 0) -> str:
    found = Counter(op for _, op in aws.log.calls[start:])
    return ", ".join(f"{op} {n}" for op, n in sorted(found.items()))


def server_process(endpoint: str) -> psutil.Process:
    """The sandbox server answering on `endpoint` (its command line names the port)."""
    port = str(urlsplit(endpoint).port)
    for process in psutil.process_iter(["cmdline"]):
        argv = process.info["cmdline"] or []
        if sandbox.SERVER_MODULE in argv and port in argv:
            return process
    raise SystemExit(f"no sandbox server on {endpoint}")


@dataclass
class Phase:
    """Wall time, calls and CPU (this process, the server) of one timed phase."""

    wall: float = 0.0
    calls: int = 0
    client_cpu: float = 0.0
    server_cpu: float = 0.0

    def cpu(self) -> str:
        per = max(self.calls, 1)
        return (
            f"client {self.client_cpu * 1000 / per:.2f} ms/call, "
            f"server {self.server_cpu * 1000 / per:.2f} ms/call "
            f"({self.calls} calls; CPU client {self.client_cpu:.2f} s, "
            f"server {self.server_cpu:.2f} s)"
        )


def _server_cpu(server: psutil.Process) -> float:
    times = server.cpu_times()
    return float(times.user + times.system)


@contextmanager
def measured(aws: AwsClients, server: psutil.Process) -> Iterator[Phase]:
    phase = Phase()
    calls, client, served = len(aws.log.calls), time.process_time(), _server_cpu(server)
    start = time.perf_counter()
    yield phase
    phase.wall = time.perf_counter() - start
    phase.client_cpu = time.process_time() - client
    phase.server_cpu = _server_cpu(server) - served
    phase.calls = len(aws.log.calls) - calls


def small(endpoint: str) -> list[tuple[str, str]]:
    reset(endpoint)
    amis = estate(endpoint, "us-east-1", 50)
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=endpoint)
    for image in IMAGES[:10]:  # 10 AMIs the policy would delete are in use
        ec2.run_instances(ImageId=amis[image, 0], MinCount=1, MaxCount=1)
    aws = clients(endpoint)
    aws.ec2("us-east-1").describe_regions()  # the client made, as a CLI run would have it
    aws.ssm("us-east-1")
    aws.client("autoscaling", "us-east-1")
    server = server_process(endpoint)
    begin = len(aws.log.calls)
    with measured(aws, server) as plan:
        prepared = cleanup.prepare(aws, scope(("us-east-1",)), PRICES)
    plan_calls = counts(aws, begin)
    middle = len(aws.log.calls)
    with measured(aws, server) as apply:
        result = cleanup.execute(aws, prepared, Mode())
    plan_s, apply_s = plan.wall, apply.wall
    left = {i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]}
    kept = {amis[image, v] for image in IMAGES for v in (0, 47, 48, 49)}
    assert left == kept, f"left {len(left)} AMIs, expected the {len(kept)} kept"
    assert not result.outcome.failed
    total = plan_s + apply_s
    return [
        ("500 AMIs: deleted", f"{result.total.amis} AMIs, {result.total.snapshots} snapshots"),
        ("500 AMIs: plan (s)", f"{plan_s:.2f}"),
        ("500 AMIs: plan calls", plan_calls),
        ("500 AMIs: plan CPU", plan.cpu()),
        ("500 AMIs: apply (s)", f"{apply_s:.2f}"),
        ("500 AMIs: apply calls", counts(aws, middle)),
        ("500 AMIs: apply CPU", apply.cpu()),
        (
            "500 AMIs: plan + apply (s)",
            f"{total:.2f} (limit {LIMIT_SMALL}: {'ok' if total <= LIMIT_SMALL else 'OVER'})",
        ),
    ]


def large(endpoint: str) -> list[tuple[str, str]]:
    reset(endpoint)
    regions = ("us-east-1", "us-west-2", "eu-west-1")
    versions = (167, 167, 166)  # 10 images x 500 versions in all: 5,000 AMIs
    for region, count in zip(regions, versions, strict=True):
        estate(endpoint, region, count)
    aws = clients(endpoint)
    with measured(aws, server_process(endpoint)) as plan:
        prepared = cleanup.prepare(aws, scope(regions), PRICES)
    plan_s = plan.wall
    assert len(prepared.decisions) == 5000
    return [
        (
            "5,000 AMIs / 3 regions: plan (s)",
            f"{plan_s:.2f} (limit {LIMIT_LARGE}: {'ok' if plan_s <= LIMIT_LARGE else 'OVER'})",
        ),
        ("5,000 AMIs / 3 regions: plan calls", counts(aws)),
        ("5,000 AMIs / 3 regions: plan CPU", plan.cpu()),
        (
            "5,000 AMIs / 3 regions: to delete",
            f"{sum(1 for d in prepared.decisions if not d.keep)}",
        ),
    ]


def main() -> list[tuple[str, str]]:
    with local_aws() as endpoint:
        return [*small(endpoint), *large(endpoint)]


if __name__ == "__main__":
    for key, value in main():
        print(f"  {key:44} {value}")
