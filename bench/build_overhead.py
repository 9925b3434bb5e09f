"""Claim: packerpy's own work per build (start-up, AWS lookup, render, steps) stays near 0.6 s.

Compares `packerpy build` with a raw `packer build` of the very template packerpy rendered,
against the same moto server, median of several runs each.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import boto3
from common import local_aws, packerpy, project

RUNS = 5
TARGET_OVERHEAD_S = 0.6


def reset(endpoint: str) -> None:
    """Same starting state for every run: the AMI name is free again, and moto's lazily built
    region backend (about 1 s on its first call after a reset) is warm, as real AWS would be."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    ec2 = boto3.client("ec2", region_name="us-east-1", endpoint_url=endpoint)
    ec2.describe_regions()
    ec2.describe_images(ImageIds=["ami-03cf127a"])


def timed_from_reset(endpoint: str, fn: Callable[[], object]) -> tuple[float, list[object]]:
    samples, results = [], []
    for _ in range(RUNS):
        reset(endpoint)
        start = time.perf_counter()
        results.append(fn())
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), results


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

        def ours() -> float:
            start = time.perf_counter()
            done = packerpy(["build", "web", "--json"], cwd=root)
            wall = time.perf_counter() - start
            return wall - float(json.loads(done.stdout)["data"]["timings"]["bake"])

        raw, _ = timed_from_reset(endpoint, raw_packer)
        wall, own = timed_from_reset(endpoint, ours)
        reset(endpoint)
        timings = json.loads(packerpy(["build", "web", "--json"], cwd=root).stdout)["data"][
            "timings"
        ]
    own_work = statistics.median(float(x) for x in own)  # type: ignore[arg-type]
    return [
        (f"raw packer build (median of {RUNS})", f"{raw:.3f} s"),
        (f"packerpy build (median of {RUNS})", f"{wall:.3f} s ({wall / raw:.2f}x raw packer)"),
        ("wall overhead vs raw packer", f"{wall - raw:.3f} s"),
        (
            "packerpy's own work (wall - its bake)",
            f"{own_work:.3f} s (target < {TARGET_OVERHEAD_S} s: "
            f"{'met' if own_work < TARGET_OVERHEAD_S else 'MISSED'})",
        ),
        ("inside packerpy", ", ".join(f"{k} {v:.3f}s" for k, v in timings.items())),
    ]


if __name__ == "__main__":
    for key, value in main():
        print(f"{key:40} {value}")
