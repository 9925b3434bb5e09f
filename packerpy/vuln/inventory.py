"""What is installed in an image: the inventory provisioner's JSON, or a CycloneDX SBOM, read
into one typed form, and the OSV ecosystem its distribution's advisories are published under.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from packageurl import PackageURL

from packerpy.errors import PackerpyError

Family = Literal["deb", "rpm"]


@dataclass(frozen=True)
class Distro:
    """A distribution packerpy knows: its package format, purl namespace and OSV ecosystem."""

    family: Family
    # OSV ecosystem prefix ("Debian", "AlmaLinux"); None: OSV publishes no advisories for it.
    osv: str | None
    # How many dot-separated parts of VERSION_ID name the release in OSV ("9.3" -> "9").
    parts: int = 1


# os-release ID -> distro. OSV ecosystem names: https://ossf.github.io/osv-schema/#affectedpackage-field
DISTROS: dict[str, Distro] = {
    "debian": Distro("deb", "Debian"),
    "ubuntu": Distro("deb", "Ubuntu", parts=2),  # "Ubuntu:22.04" (OSV adds ":LTS" / ":Pro")
    "almalinux": Distro("rpm", "AlmaLinux"),
    "rocky": Distro("rpm", "Rocky Linux"),
    "rhel": Distro("rpm", "Red Hat:enterprise_linux"),
    # Amazon Linux and CentOS publish no OSV data: an SBOM yes, a scan is refused with a reason.
    "amzn": Distro("rpm", None),
    "centos": Distro("rpm", None),
    "fedora": Distro("rpm", None),
}


@dataclass(frozen=True)
class Package:
    name: str
    version: str  # verbatim, epoch included ("1:9.0.1378-2")
    arch: str = ""
    # The source package OSV's Debian advisories name (dpkg's Source:, without its version).
    source: str = ""
    license: str = ""  # as the package manager declares it (rpm's License, a DEP-5 License)


@dataclass(frozen=True)
class Inventory:
    os_id: str
    os_version: str
    packages: tuple[Package, ...]
    where: str  # the file it came from, for messages

    @property
    def distro(self) -> Distro | None:
        return DISTROS.get(self.os_id)

    @property
    def family(self) -> Family | None:
        distro = self.distro
        return distro.family if distro else None

    def ecosystem(self) -> str:
        """The OSV ecosystem of this inventory ("Debian:12"), or a one-line error why none."""
        distro = self.distro
        if distro is None or distro.osv is None:
            known = ", ".join(k for k, d in DISTROS.items() if d.osv)
            raise PackerpyError(
                f"{self.where}: os.id {self.os_id or '(empty)'!r} has no OSV advisories "
                f"packerpy can match (supported: {known})"
            )
        release = ".".join(self.os_version.split(".")[: distro.parts])
        if not release:
            raise PackerpyError(f"{self.where}: os.version_id is empty; cannot pick advisories")
        return f"{distro.osv}:{release}"


# DEP-5 short names (Debian copyright-format 1.0, "License short name") and old Fedora
# names ("GPLv2+") -> SPDX ids, so deny_licenses can name SPDX ids for every distribution.
_GNU = re.compile(r"(A|L)?GPL-?v?([0-9])(\.[0-9])?(\+)?", re.IGNORECASE)
_NAMES = {"expat": "MIT", "bsd-3-clause": "BSD-3-Clause", "bsd-2-clause": "BSD-2-Clause"}


def _spdx_token(token: str) -> str:
    if token.lower() in ("and", "or", "with"):
        return token.upper()
    gnu = _GNU.fullmatch(token)
    if gnu:
        kind, major, minor, plus = gnu.groups()
        return f"{(kind or '').upper()}GPL-{major}{minor or '.0'}-{'or-later' if plus else 'only'}"
    return _NAMES.get(token.lower(), token)


def spdx_licence(declared: str) -> str:
    """A declared licence with DEP-5 / old Fedora short names rewritten as SPDX ids."""
    return " ".join(_spdx_token(t) for t in declared.replace(",", " ").split())


def _text(value: object, where: str, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PackerpyError(f"{where}: {field} must be a string, got {type(value).__name__}")
    return value


def _package(entry: object, where: str, index: int) -> Package:
    at = f"packages[{index}]"
    if not isinstance(entry, Mapping):
        raise PackerpyError(f"{where}: {at} must be an object")
    name = _text(entry.get("name"), where, f"{at}.name")
    version = _text(entry.get("version"), where, f"{at}.version")
    if not name or not version:
        raise PackerpyError(f"{where}: {at} needs a name and a version")
    return Package(
        name=name,
        version=version,
        arch=_text(entry.get("arch"), where, f"{at}.arch"),
        source=_text(entry.get("source"), where, f"{at}.source"),
        license=spdx_licence(_text(entry.get("license"), where, f"{at}.license")),
    )


def from_inventory(data: Mapping[str, Any], where: str) -> Inventory:
    """The inventory provisioner's JSON (provisioners/inventory.sh)."""
    os_part = data.get("os")
    packages = data.get("packages")
    if not isinstance(os_part, Mapping) or not isinstance(packages, list):
        raise PackerpyError(f"{where}: not an inventory (needs 'os' and 'packages')")
    return Inventory(
        os_id=_text(os_part.get("id"), where, "os.id"),
        os_version=_text(os_part.get("version_id"), where, "os.version_id"),
        packages=tuple(_package(p, where, i) for i, p in enumerate(packages)),
        where=where,
    )


def _purl_package(component: Mapping[str, Any], where: str) -> tuple[Package, str] | None:
    """A deb/rpm component as a Package and its purl's distro qualifier; None for others."""
    text = component.get("purl")
    if not isinstance(text, str) or not text.startswith(("pkg:deb/", "pkg:rpm/")):
        return None
    try:
        purl = PackageURL.from_string(text)
    except ValueError as exc:
        raise PackerpyError(f"{where}: component {text!r}: not a package URL: {exc}") from None
    q = purl.qualifiers if isinstance(purl.qualifiers, dict) else {}
    version = purl.version or ""
    if q.get("epoch"):  # purl spec: an rpm epoch is a qualifier, packerpy's versions carry it
        version = f"{q['epoch']}:{version}"
    return Package(
        name=purl.name,
        version=version,
        arch=q.get("arch", ""),
        source=q.get("upstream", ""),
        license=_component_license(component),
    ), q.get("distro", "")


def _component_license(component: Mapping[str, Any]) -> str:
    for choice in component.get("licenses") or ():
        if isinstance(choice, Mapping):
            if isinstance(choice.get("expression"), str):
                return str(choice["expression"])
            inner = choice.get("license")
            if isinstance(inner, Mapping):
                return str(inner.get("id") or inner.get("name") or "")
    return ""


def from_cyclonedx(data: Mapping[str, Any], where: str) -> Inventory:
    """A CycloneDX JSON SBOM: its deb/rpm components; the OS from its operating-system
    component, else from the purls' `distro` qualifier ("debian-12")."""
    components = data.get("components") or []
    if not isinstance(components, list):
        raise PackerpyError(f"{where}: components must be a list")
    os_id = os_version = ""
    packages: list[Package] = []
    distros: set[str] = set()
    for component in components:
        if not isinstance(component, Mapping):
            continue
        if component.get("type") == "operating-system":
            os_id = str(component.get("name") or "")
            os_version = str(component.get("version") or "")
            continue
        found = _purl_package(component, where)
        if found:
            packages.append(found[0])
            distros.add(found[1])
    if not os_id and len(distros - {""}) == 1:
        os_id, _, os_version = next(iter(distros - {""})).partition("-")
    return Inventory(os_id, os_version, tuple(packages), where)


def parse(data: object, where: str) -> Inventory:
    """An inventory.json or a CycloneDX SBOM (the one packerpy writes, or another tool's)."""
    if isinstance(data, Mapping) and data.get("bomFormat") == "CycloneDX":
        return from_cyclonedx(data, where)
    if isinstance(data, Mapping):
        return from_inventory(data, where)
    raise PackerpyError(f"{where}: not an inventory or a CycloneDX SBOM (a JSON object)")


def parse_text(text: str, where: str) -> Inventory:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PackerpyError(f"{where}: not JSON: {exc}") from None
    return parse(data, where)


def load(path: Path) -> Inventory:
    """Read an inventory.json or a CycloneDX JSON SBOM; one-line errors naming the file."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise PackerpyError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PackerpyError(f"{path}: not JSON: {exc}") from None
    return parse(data, str(path))
