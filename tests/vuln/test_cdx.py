"""SBOM documents: CycloneDX valid against its schema, purls, the round trip, SPDX."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from cyclonedx.schema import SchemaVersion

from packerpy.vuln import cdx, inventory, osv
from packerpy.vuln.scan import scan
from tests.vuln.conftest import OSV

SUBJECT = cdx.Subject(
    "acme",
    "web",
    "1.5.0",
    {"us-east-1": "ami-1", "eu-west-1": "ami-2"},
    datetime(2026, 11, 27, tzinfo=UTC),
)


def test_cyclonedx_validates_against_the_schema(
    debian_inventory: Path, alma_inventory: Path
) -> None:
    # Imported here, not at the top: jsonschema's format checkers load rfc3987_syntax, whose
    # grammar takes 3.1 s to build, and every xdist worker paid that while collecting.
    from cyclonedx.validation.json import JsonStrictValidator

    for source in (debian_inventory, alma_inventory):
        text = cdx.cyclonedx(inventory.load(source), SUBJECT)
        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None


def test_components_purls_os_and_metadata(debian_inventory: Path) -> None:
    document = json.loads(cdx.cyclonedx(inventory.load(debian_inventory), SUBJECT))
    assert document["specVersion"] == "1.6"
    by_name = {c["name"]: c for c in document["components"]}
    assert by_name["debian"]["type"] == "operating-system"
    assert by_name["debian"]["version"] == "12"
    assert by_name["libssl3"]["purl"] == (
        "pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl"
    )
    assert by_name["libc6"]["licenses"] == [{"license": {"id": "LGPL-2.1-or-later"}}]
    assert cdx.metadata(document) == {
        "project": "acme",
        "image": "web",
        "version": "1.5.0",
        "ami:eu-west-1": "ami-2",
        "ami:us-east-1": "ami-1",
    }


def test_rpm_epoch_is_a_purl_qualifier(alma_inventory: Path) -> None:
    document = json.loads(cdx.cyclonedx(inventory.load(alma_inventory), SUBJECT))
    by_name = {c["name"]: c for c in document["components"]}
    assert by_name["openssl-libs"]["purl"] == (
        "pkg:rpm/almalinux/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=almalinux-9.2&epoch=1"
    )
    # a licence that is no SPDX id stays a name
    assert by_name["openssl-libs"]["licenses"] == [{"license": {"name": "ASL 2.0"}}]


def test_the_sbom_scans_as_its_inventory_does(debian_inventory: Path, tmp_path: Path) -> None:
    source = inventory.load(debian_inventory)
    sbom = tmp_path / "web.cdx.json"
    sbom.write_text(cdx.cyclonedx(source, SUBJECT))
    again = inventory.load(sbom)
    assert (again.os_id, again.os_version) == ("debian", "12")
    assert {(p.name, p.version, p.source, p.license) for p in again.packages} == {
        (p.name, p.version, p.source, p.license) for p in source.packages
    }
    index = osv.load(OSV)
    assert scan(again, index).findings == scan(source, index).findings


def test_spdx_lists_the_same_packages(alma_inventory: Path) -> None:
    document = json.loads(cdx.spdx(inventory.load(alma_inventory), SUBJECT))
    assert document["spdxVersion"] == "SPDX-2.3"
    assert [(p["name"], p["versionInfo"], p["licenseDeclared"]) for p in document["packages"]] == [
        ("glibc", "2.34-60.el9_2.2", "LGPL-2.0-or-later AND GPL-2.0-or-later"),
        ("glibc-common", "2.34-60.el9_2.7", "LGPL-2.0-or-later"),
        ("openssl-libs", "1:3.0.7-27.el9", "ASL 2.0"),
    ]
