"""Claim: a build whose inputs did not change is skipped in well under 2 s.

Bakes web 0.1.0, bumps to 0.1.1 without changing anything else, then times `packerpy build web`
(which finds the 0.1.0 AMI by fingerprint, skips packer and runs the idempotent steps).
"""

from __future__ import annotations

import json
import time

from common import local_aws, packerpy, project

RUNS = 5
TARGET_S = 2.0


def main() -> list[tuple[str, str]]:
    with local_aws():
        root = project()
        packerpy(["build", "web"], cwd=root)
        packerpy(["version", "bump", "web", "patch"], cwd=root)
        samples = []
        for _ in range(RUNS):
            start = time.perf_counter()
            data = json.loads(packerpy(["build", "web", "--json"], cwd=root).stdout)["data"]
            samples.append(time.perf_counter() - start)
            assert data["skipped"], data
    samples.sort()
    median = samples[len(samples) // 2]
    return [
        (
            f"skipped build (median of {RUNS})",
            f"{median:.3f} s (target < {TARGET_S} s: {'met' if median < TARGET_S else 'MISSED'})",
        ),
        ("fastest / slowest", f"{samples[0]:.3f} s / {samples[-1]:.3f} s"),
        (
            "inside packerpy (last run)",
            ", ".join(f"{k} {v:.3f}s" for k, v in data["timings"].items()),
        ),
    ]


if __name__ == "__main__":
    for key, value in main():
        print(f"{key:40} {value}")
