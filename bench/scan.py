"""Claim: an offline scan of a 2,000-package inventory against 50,000 advisories takes <= 2 s,
cold (advisory zip parsed and indexed) and warm (the index read from the cache).

Generated data: Debian 12 packages with versions like 1:2.3-4+deb12u5, and 50,000 OSV
advisories (an all.zip) spread over 10,000 package names, 2,000 of them installed, each with
an ECOSYSTEM range introduced/fixed; a tenth of the advisories list `versions` instead.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
import zipfile
from pathlib import Path

from packerpy.vuln import inventory, osv
from packerpy.vuln.scan import scan

PACKAGES = 2_000
ADVISORIES = 50_000
NAMES = 10_000


def _version(rng: random.Random) -> str:
    epoch = rng.choice(["", "", "1:"])
    return f"{epoch}{rng.randint(0, 9)}.{rng.randint(0, 20)}-{rng.randint(1, 5)}+deb12u{rng.randint(1, 9)}"


def _data(where: Path) -> tuple[Path, Path]:
    rng = random.Random(13)  # noqa: S311 - reproducible generated data, not a secret
    packages = [
        {"name": f"pkg{n}", "version": _version(rng), "arch": "amd64"} for n in range(PACKAGES)
    ]
    inv = where / "inventory.json"
    inv.write_text(json.dumps({"os": {"id": "debian", "version_id": "12"}, "packages": packages}))
    data = where / "all.zip"
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(ADVISORIES):
            affected: dict[str, object] = {
                "package": {"ecosystem": "Debian:12", "name": f"pkg{rng.randrange(NAMES)}"}
            }
            if n % 10:
                events = [{"introduced": "0"}, {"fixed": _version(rng)}]
                affected["ranges"] = [{"type": "ECOSYSTEM", "events": events}]
            else:
                affected["versions"] = [_version(rng) for _ in range(3)]
            advisory = {
                "id": f"DSA-{n}-1",
                "upstream": [f"CVE-2026-{n}"],
                "severity": [
                    {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}
                ],
                "affected": [affected],
            }
            archive.writestr(f"DSA-{n}-1.json", json.dumps(advisory))
    return inv, data


def main() -> list[tuple[str, str]]:
    where = Path(tempfile.mkdtemp(prefix="packerpy-bench-scan-"))
    os.environ["XDG_CACHE_HOME"] = str(where / "cache")
    inv, data = _data(where)
    times = []
    for _ in ("cold", "warm"):
        start, cpu = time.perf_counter(), time.process_time()
        result = scan(inventory.load(inv), osv.load(data))
        times.append((time.perf_counter() - start, time.process_time() - cpu))
    (cold, cold_cpu), (warm, warm_cpu) = times
    # CPU time too: on the shared 2-core machine wall time was 4x CPU time (load average 12).
    return [
        (f"{PACKAGES} packages x {ADVISORIES} advisories", f"{len(result.findings)} findings"),
        ("cold: parse + index the zip, scan", f"{cold:.2f} s wall, {cold_cpu:.2f} s CPU"),
        ("warm: index from the cache, scan", f"{warm:.2f} s wall, {warm_cpu:.2f} s CPU"),
        ("claim (<= 2 s each, wall)", "met" if max(cold, warm) <= 2 else "NOT met"),
    ]


if __name__ == "__main__":
    for key, value in main():
        print(f"{key:40} {value}")
