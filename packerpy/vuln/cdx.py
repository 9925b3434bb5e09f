"""SBOM documents from an inventory: CycloneDX 1.6 JSON (cyclonedx-python-lib) and SPDX 2.3
JSON (written directly: its package list is a few fields, not worth spdx-tools' weight).

Each deb/rpm package is a component with a package URL (packageurl-python): Debian's
`pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12`; an rpm epoch goes into
the `epoch` qualifier, as the purl spec's rpm type says. The OS is a component of type
operating-system; image, version and AMIs are metadata properties.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from packerpy.vuln.inventory import Inventory, Package

PROPERTY_PREFIX = "packerpy:"


@dataclass(frozen=True)
class Subject:
    """What the SBOM describes: which version of which image, and its AMIs."""

    project: str
    image: str
    version: str
    amis: Mapping[str, str]  # region -> AMI id
    created: datetime


def purl(inventory: Inventory, package: Package) -> PackageURL:
    family = inventory.family or "generic"
    qualifiers = {"arch": package.arch} if package.arch else {}
    version = package.version
    if family == "rpm" and ":" in version:
        epoch, _, version = version.partition(":")
        qualifiers["epoch"] = epoch
    if package.source and package.source != package.name:
        qualifiers["upstream"] = package.source  # the source package, as syft writes it
    if inventory.os_id:
        qualifiers["distro"] = f"{inventory.os_id}-{inventory.os_version}".rstrip("-")
    return PackageURL(
        type=family,
        namespace=inventory.os_id or None,
        name=package.name,
        version=version,
        qualifiers=qualifiers,
    )


def _os(inventory: Inventory) -> Component:
    return Component(
        name=inventory.os_id or "unknown",
        version=inventory.os_version or None,
        type=ComponentType.OPERATING_SYSTEM,
        bom_ref=f"os:{inventory.os_id}-{inventory.os_version}",
    )


def cyclonedx(inventory: Inventory, subject: Subject) -> str:
    """The CycloneDX 1.6 JSON text of an inventory."""
    # A serial number derived from what the SBOM describes: the same build, the same document.
    name = f"packerpy:{subject.project}/{subject.image}/{subject.version}@{subject.created}"
    bom = Bom(serial_number=uuid.uuid5(uuid.NAMESPACE_URL, name))
    bom.metadata.timestamp = subject.created
    properties = {
        "project": subject.project,
        "image": subject.image,
        "version": subject.version,
        **{f"ami:{region}": ami for region, ami in sorted(subject.amis.items())},
    }
    for key, value in properties.items():
        bom.metadata.properties.add(Property(name=f"{PROPERTY_PREFIX}{key}", value=value))
    bom.components.add(_os(inventory))
    licences = LicenseFactory()
    for package in inventory.packages:
        ref = purl(inventory, package)
        bom.components.add(
            Component(
                name=package.name,
                version=package.version,
                type=ComponentType.LIBRARY,
                purl=ref,
                bom_ref=ref.to_string(),
                licenses=[licences.make_from_string(package.license)] if package.license else [],
            )
        )
    return JsonV1Dot6(bom).output_as_string(indent=2) + "\n"


def metadata(document: Mapping[str, object]) -> dict[str, str]:
    """packerpy's metadata properties of a CycloneDX document, without the prefix."""
    meta = document.get("metadata")
    found: dict[str, str] = {}
    if isinstance(meta, Mapping):
        for entry in meta.get("properties") or ():
            name = entry.get("name") if isinstance(entry, Mapping) else None
            if isinstance(name, str) and name.startswith(PROPERTY_PREFIX):
                found[name.removeprefix(PROPERTY_PREFIX)] = str(entry.get("value", ""))
    return found


def spdx(inventory: Inventory, subject: Subject) -> str:
    """The same package list as SPDX 2.3 JSON."""
    name = f"{subject.project}-{subject.image}-{subject.version}"
    packages = [
        {
            "SPDXID": f"SPDXRef-Package-{number}",
            "name": package.name,
            "versionInfo": package.version,
            "downloadLocation": "NOASSERTION",
            "licenseDeclared": package.license or "NOASSERTION",
            "externalRefs": [
                {
                    "referenceCategory": "PACKAGE-MANAGER",
                    "referenceType": "purl",
                    "referenceLocator": purl(inventory, package).to_string(),
                }
            ],
        }
        for number, package in enumerate(inventory.packages, start=1)
    ]
    document = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": f"https://packerpy.invalid/spdx/{name}",
        "creationInfo": {
            "created": subject.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "creators": ["Tool: packerpy"],
        },
        "packages": packages,
    }
    return json.dumps(document, indent=2) + "\n"
