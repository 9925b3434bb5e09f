"""Reading OSV data: a directory or an all.zip, one-line errors, the index cache."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from packerpy.errors import PackerpyError
from packerpy.vuln import osv
from tests.vuln.conftest import OSV


def zipped(tmp_path: Path) -> Path:
    path = tmp_path / "all.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(OSV.glob("*.json")):
            archive.write(file, file.name)
    return path


def test_zip_and_directory_index_the_same(tmp_path: Path) -> None:
    a, b = osv.build(OSV), osv.build(zipped(tmp_path))
    assert (a.files, b.files) == (5, 5)
    assert a.by_package == b.by_package
    assert a.advisories == b.advisories
    assert sorted(a.by_package) == [
        ("AlmaLinux:9", "glibc"),
        ("AlmaLinux:9", "glibc-common"),
        ("AlmaLinux:9", "glibc-minimal-langpack"),
        ("Debian:11", "glibc"),
        ("Debian:12", "glibc"),
        ("Debian:12", "openssh"),
        ("Debian:12", "openssl"),
        ("Debian:12", "php-league-commonmark"),
        ("Debian:13", "php-league-commonmark"),
    ]


def test_severity_from_vector_and_from_the_distribution() -> None:
    index = osv.build(OSV)
    by_id = {a.id: a for a in map(osv.Advisory._make, index.advisories)}
    assert (by_id["DSA-5514-1"].severity, by_id["DSA-5514-1"].score) == ("high", 7.8)
    assert (by_id["DSA-5532-1"].severity, by_id["DSA-5532-1"].score) == ("high", 7.5)
    # no vector: AlmaLinux's "Important" is high
    assert (by_id["ALSA-2023:5455"].severity, by_id["ALSA-2023:5455"].score) == ("high", None)
    assert by_id["DSA-5514-1"].aliases == ("CVE-2023-4911", "DEBIAN-CVE-2023-4911")


def test_the_cache_is_keyed_by_the_data(tmp_path: Path, own_cache: Path) -> None:
    data = zipped(tmp_path)
    assert osv.load(data).cached is False
    assert len(list((own_cache / "packerpy" / "osv").glob("*.pickle"))) == 1
    again = osv.load(data)
    assert again.cached is True
    assert again.by_package == osv.build(data).by_package
    with zipfile.ZipFile(data, "a") as archive:  # new data: a new key, a fresh parse
        archive.writestr("X-1.json", '{"id": "X-1", "affected": []}')
    fresh = osv.load(data)
    assert (fresh.cached, fresh.files) == (False, 6)


def test_corrupt_zip(tmp_path: Path) -> None:
    path = tmp_path / "all.zip"
    path.write_bytes(zipped(tmp_path).read_bytes()[:300])
    with pytest.raises(PackerpyError) as caught:
        osv.load(path)
    assert caught.value.message.startswith(f"{path}: ")
    assert "zip file" in caught.value.message
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (
            "{",
            "not JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        ),
        ("[]", "not a valid OSV advisory: no 'id'"),
        ('{"id": "A", "affected": {}}', "not a valid OSV advisory: 'affected' is not a list"),
        (
            '{"id": "A", "affected": [{"package": 1}]}',
            "not a valid OSV advisory: affected without a package",
        ),
        (
            '{"id": "A", "affected": [{"package": {"name": "x"}, "ranges": [{"type": "ECOSYSTEM"}]}]}',
            "not a valid OSV advisory: a range without events",
        ),
    ],
)
def test_invalid_osv_names_the_entry(tmp_path: Path, text: str, why: str) -> None:
    path = tmp_path / "bad.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("A-1.json", text)
    with pytest.raises(PackerpyError) as caught:
        osv.load(path)
    assert caught.value.message == f"{path}:A-1.json: {why}"


def test_missing_data(tmp_path: Path) -> None:
    with pytest.raises(PackerpyError) as caught:
        osv.load(tmp_path / "nope")
    assert caught.value.message == (
        f"{tmp_path / 'nope'}: advisories not found (a directory of OSV JSON or all.zip)"
    )


def test_withdrawn_advisories_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "W-1.json").write_text(
        '{"id": "W-1", "withdrawn": "2024-01-01T00:00:00Z", "affected": '
        '[{"package": {"ecosystem": "Debian:12", "name": "curl"}}]}'
    )
    assert osv.build(tmp_path).by_package == {}


def test_a_damaged_member_is_named(tmp_path: Path) -> None:
    path = tmp_path / "all.zip"
    with zipfile.ZipFile(path, "w") as archive:  # stored: the member's bytes are in the file
        archive.writestr("A-1.json", '{"id": "A-1", "affected": []}')
    blob = path.read_bytes()
    path.write_bytes(blob.replace(b'"A-1", "affected"', b'"A-2", "affected"', 1))
    with pytest.raises(PackerpyError) as caught:
        osv.load(path)
    assert caught.value.message == f"{path}: not a readable zip file (A-1.json: CRC mismatch)"
