"""Claim: the harden library raises every SSG profile's score on a Debian 11 minbase root.

Scans the root `make compliance` caches (~/.cache/packerpy-tests/bullseye-minbase.tar.gz) with
each profile of ssg-debian11-ds.xml, runs packages, harden, logging and timesync on it (apt
needs Debian's archive), and scans again. Skipped without the root, OpenSCAP, or root rights.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from packerpy.compliance.scan import scan_root

TARBALL = Path.home() / ".cache" / "packerpy-tests" / "bullseye-minbase.tar.gz"
PROVISIONERS = Path(__file__).resolve().parent.parent / "provisioners"
PROFILES = (
    "standard",
    "anssi_np_nt28_minimal",
    "anssi_np_nt28_average",
    "anssi_np_nt28_high",
    "anssi_np_nt28_restrictive",
)


def _scores(root: Path, out: Path) -> dict[str, str]:
    found = {}
    for profile in PROFILES:
        summary = scan_root(root, profile, out / profile).summary
        found[profile] = f"{summary.passed} pass / {summary.failed} fail ({summary.score:.1f})"
    return found


def main() -> list[tuple[str, str]]:
    if not TARBALL.is_file() or shutil.which("oscap-chroot") is None or os.geteuid() != 0:
        return [("skipped", "needs `make compliance` (its cached root), OpenSCAP and root")]
    with tempfile.TemporaryDirectory(prefix="packerpy-bench-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        subprocess.run(["tar", "-C", str(root), "-xzf", str(TARBALL)], check=True)
        before = _scores(root, Path(tmp) / "before")
        for script in ("packages", "harden", "logging", "timesync"):
            subprocess.run(
                ["sh", "-eu", str(PROVISIONERS / f"{script}.sh")],
                env={**os.environ, "ROOT": str(root)},
                check=True,
                capture_output=True,
            )
        after = _scores(root, Path(tmp) / "after")
    return [(profile, f"{before[profile]} -> {after[profile]}") for profile in PROFILES]


if __name__ == "__main__":
    for key, value in main():
        print(f"{key:28} {value}")
