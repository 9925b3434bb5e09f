"""Real OSV Debian and AlmaLinux advisories (tests/data/osv) against inventories the real
inventory.sh made from fake roots; the OSV range rules; licences; unknown ecosystems."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packerpy.errors import PackerpyError
from packerpy.vuln import inventory, osv
from packerpy.vuln.gate import evaluate
from packerpy.vuln.scan import scan
from tests.vuln.conftest import OSV


def found(result: object) -> set[tuple[str, str, str]]:
    return {(f.advisory, f.package, f.fixed) for f in result.findings}  # type: ignore[attr-defined]


def test_debian_inventory_records_source_packages_and_dep5_licences(
    debian_inventory: Path,
) -> None:
    packages = {p.name: p for p in inventory.load(debian_inventory).packages}
    assert (packages["libc6"].source, packages["libssl3"].source) == ("glibc", "openssl")
    assert packages["openssh-server"].version == "1:9.2p1-2+deb12u2"
    # DEP-5 short names become SPDX ids
    assert packages["libc6"].license == "LGPL-2.1-or-later"
    assert packages["mongodb-tools"].license == "AGPL-3.0-only"


def test_debian_findings_from_real_advisories(debian_inventory: Path) -> None:
    result = scan(inventory.load(debian_inventory), osv.load(OSV))
    assert result.ecosystem == "Debian:12"
    assert found(result) == {
        ("DSA-5724-1", "openssh-server", "1:9.2p1-2+deb12u3"),  # via source openssh, epoch 1
        ("DSA-5532-1", "libssl3", "3.0.11-1~deb12u2"),  # tilde: deb12u1 < deb12u2
        ("DEBIAN-CVE-2024-58382", "php-league-commonmark", ""),  # listed in `versions`
    }
    # libc6 2.36-9+deb12u4 is past DSA-5514-1's 2.36-9+deb12u3; Debian:11's range is not used
    first = result.findings[0]
    assert (first.advisory, first.aliases, first.severity, first.score) == (
        "DSA-5724-1",
        ("CVE-2024-6387",),
        "high",
        8.1,
    )
    assert result.counts == {"unknown": 1, "low": 0, "medium": 0, "high": 2, "critical": 0}


def test_alma_findings_from_real_advisory(alma_inventory: Path) -> None:
    loaded = inventory.load(alma_inventory)
    assert loaded.ecosystem() == "AlmaLinux:9"  # VERSION_ID 9.2 -> the major release
    result = scan(loaded, osv.load(OSV))
    assert found(result) == {("ALSA-2023:5455", "glibc", "2.34-60.el9_2.7")}
    assert (result.findings[0].severity, result.findings[0].aliases) == ("high", ("CVE-2023-4911",))


def test_gate_threshold_and_licences(debian_inventory: Path) -> None:
    result = scan(inventory.load(debian_inventory), osv.load(OSV), ["AGPL-3.0-only"])
    assert [(f.package, f.denied) for f in result.licences] == [("mongodb-tools", "AGPL-3.0-only")]
    assert evaluate(result, "critical") == (
        False,
        "scan: 1 package(s) under denied licences (mongodb-tools AGPL-3.0-only)",
    )
    ok, reason = evaluate(result, "high", deny_licenses=False)
    assert not ok
    assert reason.startswith("scan: 2 finding(s) at or above high (DSA-5724-1 openssh-server")
    clean = scan(inventory.load(debian_inventory), osv.load(OSV))
    assert evaluate(clean, "critical") == (True, "scan: no findings at or above critical (3 below)")


def write_advisory(where: Path, name: str, affected: list[dict[str, object]]) -> None:
    where.mkdir(exist_ok=True)
    (where / f"{name}.json").write_text(json.dumps({"id": name, "affected": affected}))


def one(ecosystem: str, package: str, **fields: object) -> dict[str, object]:
    return {"package": {"ecosystem": ecosystem, "name": package}, **fields}


def rng(*events: tuple[str, str]) -> list[dict[str, object]]:
    return [{"type": "ECOSYSTEM", "events": [{k: v} for k, v in events]}]


@pytest.mark.parametrize(
    ("events", "affected"),
    [
        ((("introduced", "0"), ("fixed", "1:9.2p1-2+deb12u3")), True),
        ((("introduced", "1:9.2p1-2+deb12u3"),), False),  # introduced later
        ((("introduced", "0"), ("last_affected", "1:9.2p1-2+deb12u2")), True),  # inclusive
        ((("introduced", "0"), ("last_affected", "1:9.2p1-2+deb12u1")), False),
        ((("introduced", "0"), ("fixed", "1:9.2p1-2+deb12u2")), False),  # fixed: exclusive
        # two ranges in one: affected again after a regression
        ((("introduced", "0"), ("fixed", "1:9.0"), ("introduced", "1:9.1")), True),
        ((("introduced", "0"), ("fixed", "9.9")), False),  # epoch 1 is past any epoch-0 fix
    ],
)
def test_osv_range_evaluation(
    tmp_path: Path, debian_inventory: Path, events: tuple[tuple[str, str], ...], affected: bool
) -> None:
    write_advisory(tmp_path / "osv", "X-1", [one("Debian:12", "openssh", ranges=rng(*events))])
    result = scan(inventory.load(debian_inventory), osv.load(tmp_path / "osv"))
    assert bool(result.findings) is affected


def test_unknown_ecosystems_are_reported(tmp_path: Path, debian_inventory: Path) -> None:
    write_advisory(
        tmp_path / "osv", "GHSA-1", [one("npm", "left-pad", ranges=rng(("introduced", "0")))]
    )
    write_advisory(tmp_path / "osv", "ALSA-1", [one("AlmaLinux:9", "glibc", versions=["1"])])
    result = scan(inventory.load(debian_inventory), osv.load(tmp_path / "osv"))
    source = tmp_path / "osv"
    assert result.notes == (
        f"{source}: no advisories for Debian:12 (ecosystems present: AlmaLinux:9, npm); "
        "nothing was checked",
        f"{source}: ecosystems packerpy does not scan were skipped: npm (1)",
    )
    assert not result.checked
    assert evaluate(result, "high") == (False, "scan: nothing checked: no advisories for Debian:12")


def test_unknown_distribution_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "inventory.json"
    path.write_text('{"os": {"id": "amzn", "version_id": "2023"}, "packages": []}')
    with pytest.raises(PackerpyError) as caught:
        scan(inventory.load(path), osv.load(OSV))
    assert caught.value.message == (
        f"{path}: os.id 'amzn' has no OSV advisories packerpy can match "
        "(supported: debian, ubuntu, almalinux, rocky, rhel)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1]", "not an inventory or a CycloneDX SBOM (a JSON object)"),
        ('{"os": {}}', "not an inventory (needs 'os' and 'packages')"),
        ('{"os": {}, "packages": [{"name": "x"}]}', "packages[0] needs a name and a version"),
        (
            "{",
            "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
    ],
)
def test_bad_inventory_is_a_one_line_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "inventory.json"
    path.write_text(text)
    with pytest.raises(PackerpyError) as caught:
        inventory.load(path)
    assert caught.value.message == f"{path}: {message}"


def test_ubuntu_matches_osv_lts_ecosystems(tmp_path: Path) -> None:
    path = tmp_path / "inventory.json"
    path.write_text(
        '{"os": {"id": "ubuntu", "version_id": "22.04"}, "packages": '
        '[{"name": "openssl", "version": "3.0.2-0ubuntu1.9", "arch": "amd64"}]}'
    )
    fixed = rng(("introduced", "0"), ("fixed", "3.0.2-0ubuntu1.15"))  # numbers, not text
    write_advisory(tmp_path / "osv", "USN-1", [one("Ubuntu:22.04:LTS", "openssl", ranges=fixed)])
    write_advisory(
        tmp_path / "osv",
        "USN-2",
        [one("Ubuntu:20.04:LTS", "openssl", versions=["3.0.2-0ubuntu1.9"])],
    )
    result = scan(inventory.load(path), osv.load(tmp_path / "osv"))
    assert result.ecosystem == "Ubuntu:22.04"
    assert found(result) == {("USN-1", "openssl", "3.0.2-0ubuntu1.15")}
