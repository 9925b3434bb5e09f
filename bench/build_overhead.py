"""Claim: packerpy's own work per build (start-up, lint, AWS lookup, render, steps) <= 0.6 s.

Compares `packerpy build --force-bake` with a raw `packer build` of the very template packerpy
rendered, against the same moto server, paired: each pair starts from a reset, the two run
alternately, and the figure is the median of the per-pair differences (issue 11 point 10).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import boto3
from common import local_aws, packerpy, paired, project, timed

RUNS = 5
TARGET_OVERHEAD_S = 0.6

# The floor under any build on packerpy's chosen libraries: a fresh interpreter imports them,
# validates one pydantic model, makes botocore's EC2 and SSM clients (botocore's own loader:
# no packerpy cache) and asks EC2 what a build's lookups ask, six calls. No packerpy code runs.
STACK_FLOOR = """
import gc, os
gc.disable()
import tomllib, typer, pydantic, jinja2, rich.console, botocore.session
class Image(pydantic.BaseModel):
    name: str
    regions: list[str]
Image.model_validate({"name": "web", "regions": ["us-east-1"]})
session = botocore.session.get_session()
endpoint = os.environ["AWS_ENDPOINT_URL"]
ec2 = session.create_client("ec2", region_name="us-east-1", endpoint_url=endpoint)
session.create_client("ssm", region_name="us-east-1", endpoint_url=endpoint)
for _ in range(6):
    ec2.describe_images(ImageIds=["ami-03cf127a"])
os._exit(0)
"""


def reset(endpoint: str) -> None:
    """Same starting state for every run: the AMI name is free again, and moto's lazily built
    region backend (about 1 s on its first call after a reset) is warm, as real AWS would be."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=endpoint)
    ec2.describe_regions()
    ec2.describe_images(ImageIds=["ami-03cf127a"])


def main() -> list[tuple[str, str]]:
    with local_aws() as endpoint:
        root = project()
        reset(endpoint)
        # One build to warm the OS page cache and to get the template packerpy renders, which
        # the raw packer runs then use unchanged.
        first = json.loads(packerpy(["build", "web", "--json"], cwd=root).stdout)["data"]
        run_dir = Path(first["run_dir"])

        def raw_packer() -> None:
            subprocess.run(
                [
                    "packer",
                    "build",
                    "-machine-readable",
                    "-color=false",
                    f"-var-file={run_dir / 'web.pkrvars.hcl'}",
                    str(run_dir / "web.pkr.hcl"),
                ],
                cwd=run_dir,
                capture_output=True,
                check=True,
            )

        def ours() -> None:
            packerpy(["-q", "build", "web", "--json"], cwd=root)

        floor = timed(lambda: subprocess.run([sys.executable, "-c", STACK_FLOOR], check=True), RUNS)
        bare = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), RUNS)
        raw_times: list[float] = []
        our_times: list[float] = []
        paired(
            _recording(endpoint, raw_packer, raw_times), _recording(endpoint, ours, our_times), RUNS
        )
        diffs = [ours_s - raw_s for raw_s, ours_s in zip(raw_times, our_times, strict=True)]
        reset(endpoint)
        timings = json.loads(packerpy(["build", "web", "--json"], cwd=root).stdout)["data"][
            "timings"
        ]
    raw, wall, own = (statistics.median(x) for x in (raw_times, our_times, diffs))
    return [
        (f"raw packer build (median of {RUNS})", f"{raw:.3f} s"),
        (f"packerpy build (median of {RUNS})", f"{wall:.3f} s ({wall / raw:.2f}x raw packer)"),
        (
            "packerpy's own work (paired: packerpy - packer)",
            f"{own:.3f} s (target <= {TARGET_OVERHEAD_S} s: "
            f"{'met' if own <= TARGET_OVERHEAD_S else 'MISSED'})",
        ),
        (
            "the libraries alone (no packerpy code)",
            f"{floor - bare:.3f} s (imports, EC2 + SSM clients, 6 calls; python itself {bare:.3f} s)",
        ),
        ("inside packerpy", ", ".join(f"{k} {v:.3f}s" for k, v in timings.items())),
    ]


def _recording(endpoint: str, fn: Callable[[], object], into: list[float]) -> Callable[[], None]:
    """`fn` from a reset; its own wall time (without the reset) appended to `into`."""

    def run() -> None:
        reset(endpoint)
        start = time.perf_counter()
        fn()
        into.append(time.perf_counter() - start)

    return run


if __name__ == "__main__":
    for key, value in main():
        print(f"{key:40} {value}")
