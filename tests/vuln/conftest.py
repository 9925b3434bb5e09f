"""Fake Debian 12 and AlmaLinux 9 roots, inventoried by the real provisioners/inventory.sh,
with packages planted at versions real advisories (tests/data/osv) cover."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from packerpy.support import paths

OSV = Path(__file__).parent.parent / "data" / "osv"
DEP5 = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"

# name, source, version: openssh-server and libssl3 are vulnerable (DSA-5724-1, DSA-5532-1);
# libc6 is past DSA-5514-1's fix (2.36-9+deb12u3); php-league-commonmark is listed by version.
DEBIAN = [
    ("libc6", "glibc", "2.36-9+deb12u4", "LGPL-2.1+"),
    ("libssl3", "openssl (3.0.11-1~deb12u1)", "3.0.11-1~deb12u1", "Apache-2.0"),
    ("openssh-server", "openssh", "1:9.2p1-2+deb12u2", "BSD-2-clause"),
    ("php-league-commonmark", "", "2.3.9-1", "BSD-3-clause"),
    ("mongodb-tools", "", "1.0-1", "AGPL-3"),
]
# AlmaLinux 9: glibc before ALSA-2023:5455's fix, glibc-common at it.
ALMA = [
    ("glibc", "2.34-60.el9_2.2", "x86_64", "LGPLv2+ and GPLv2+"),
    ("glibc-common", "2.34-60.el9_2.7", "x86_64", "LGPLv2+"),
    ("openssl-libs", "1:3.0.7-27.el9", "x86_64", "ASL 2.0"),
]


def _status(packages: list[tuple[str, str, str, str]]) -> str:
    blocks = []
    for name, source, version, _licence in packages:
        src = f"Source: {source}\n" if source else ""
        blocks.append(
            f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\n{src}"
            f"Version: {version}\nDescription: {name}\n"
        )
    return "\n".join(blocks)


def inventory_of(root: Path, **env: str) -> Path:
    out = root / "inventory.json"
    subprocess.run(
        ["sh", str(paths.builtin("provisioners") / "inventory.sh")],
        env={**os.environ, "ROOT": str(root), "INVENTORY_OUT": str(out), **env},
        check=True,
        capture_output=True,
    )
    return out


def debian_root(where: Path) -> Path:
    """A Debian 12 root: dpkg status with DEBIAN's packages, DEP-5 copyright files."""
    root = where / "debian"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text(_status(DEBIAN))
    for name, _source, _version, licence in DEBIAN:
        doc = root / "usr/share/doc" / name
        doc.mkdir(parents=True)
        (doc / "copyright").write_text(f"{DEP5}\nFiles: *\nCopyright: x\nLicense: {licence}\n")
    return root


@pytest.fixture
def debian_inventory(tmp_path: Path) -> Path:
    return inventory_of(debian_root(tmp_path))


@pytest.fixture
def alma_inventory(tmp_path: Path) -> Path:
    root = tmp_path / "alma"
    (root / "etc").mkdir(parents=True)
    (root / "etc/os-release").write_text(
        'ID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.2"\n'
    )
    rpm = tmp_path / "fake-rpm"  # prints what `rpm -qa --qf ...` prints for these packages
    rows = "".join(
        f"printf '%s\\t%s\\t%s\\t\\t%s\\n' '{n}' '{v}' '{a}' '{lic}'\n" for n, v, a, lic in ALMA
    )
    rpm.write_text(f"#!/bin/sh\n{rows}")
    rpm.chmod(0o755)
    return inventory_of(root, RPM=str(rpm))


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test its own index cache (osv.cache_dir follows XDG_CACHE_HOME)."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache
