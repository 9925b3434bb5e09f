"""OSV advisories (https://ossf.github.io/osv-schema/) read offline and indexed once.

The data is a directory of JSON files or an ecosystem's all.zip, as a CI job downloads and
caches it; packerpy never downloads anything. Advisories are indexed by (ecosystem, package)
so a scan looks up each installed package once; the index is pickled in the user's cache
directory under the advisory data's hash, so a second scan of the same data skips the parse.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from packerpy.errors import PackerpyError
from packerpy.support import atomic, paths
from packerpy.vuln import severity

# Bump when Index's shape changes: an old cache file is then ignored.
INDEX_FORMAT = 1


class Advisory(NamedTuple):
    id: str
    aliases: tuple[str, ...]  # CVE ids first
    severity: str  # low | medium | high | critical | unknown
    score: float | None  # CVSS base score when the advisory gives a vector
    summary: str


class Affects(NamedTuple):
    """One `affected` entry: which versions of one package one advisory covers."""

    advisory: int  # index into Index.advisories
    events: tuple[tuple[tuple[str, str], ...], ...]  # ECOSYSTEM ranges: (kind, version) events
    versions: tuple[str, ...]  # the `versions` list


# The index holds plain tuples: unpickling 50,000 NamedTuples took 2.5x as long as tuples
# (bench/scan.py, warm); Advisory._make / Affects._make give them their names back.
AdvisoryRow = tuple[str, tuple[str, ...], str, float | None, str]
AffectsRow = tuple[int, tuple[tuple[tuple[str, str], ...], ...], tuple[str, ...]]


@dataclass
class Index:
    source: str
    advisories: list[AdvisoryRow] = field(default_factory=list)
    by_package: dict[tuple[str, str], list[AffectsRow]] = field(default_factory=dict)
    ecosystems: Counter[str] = field(default_factory=Counter)  # affected entries per ecosystem
    files: int = 0
    cached: bool = False


def _entries(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every .json advisory in a directory tree or a zip file."""
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            yield str(file), file.read_bytes()
        return
    try:
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if i.filename.endswith(".json")]
            blob = path.read_bytes()
            for info in members:
                yield f"{path}:{info.filename}", _member(blob, info)
    except zipfile.BadZipFile as exc:
        raise PackerpyError(f"{path}: not a readable zip file ({exc})") from None
    except (zipfile.LargeZipFile, EOFError, OSError) as exc:  # a truncated member, a bad CRC
        raise PackerpyError(f"{path}: corrupt zip file ({exc})") from None


def _member(blob: bytes, info: zipfile.ZipInfo) -> bytes:
    """One member's bytes, sliced from the whole file: ZipFile.read's per-member file object
    cost 2.3x this on 50,000 advisories (bench/scan.py). Stored or deflated, CRC checked."""
    start = info.header_offset
    if blob[start : start + 4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"{info.filename}: bad local header")
    name_len, extra_len = struct.unpack("<HH", blob[start + 26 : start + 30])
    begin = start + 30 + name_len + extra_len
    raw = blob[begin : begin + info.compress_size]
    if info.compress_type == zipfile.ZIP_DEFLATED:
        try:
            raw = zlib.decompress(raw, -15)
        except zlib.error as exc:
            raise zipfile.BadZipFile(f"{info.filename}: {exc}") from None
    elif info.compress_type != zipfile.ZIP_STORED:
        raise zipfile.BadZipFile(f"{info.filename}: compression {info.compress_type} unsupported")
    if zlib.crc32(raw) != info.CRC:
        raise zipfile.BadZipFile(f"{info.filename}: CRC mismatch")
    return raw


def _aliases(data: Mapping[str, Any]) -> tuple[str, ...]:
    names: list[str] = []
    for key in ("aliases", "upstream", "related"):  # Debian puts CVEs in upstream
        for name in data.get(key) or ():
            if isinstance(name, str) and name not in names and name != data.get("id"):
                names.append(name)
    return tuple(sorted(names, key=lambda n: (not n.startswith("CVE-"), n)))


def _events(affected: Mapping[str, Any], where: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    ranges = []
    for entry in affected.get("ranges") or ():
        if not isinstance(entry, dict) or not isinstance(entry.get("events"), list):
            raise PackerpyError(f"{where}: not a valid OSV advisory: a range without events")
        if entry.get("type") != "ECOSYSTEM":  # GIT/SEMVER ranges name commits, not packages
            continue
        events = []
        for event in entry["events"]:
            if not isinstance(event, dict) or len(event) != 1:
                raise PackerpyError(f"{where}: not a valid OSV advisory: event {event!r}")
            ((kind, version),) = event.items()
            if kind in ("introduced", "fixed", "last_affected", "limit"):
                events.append((str(kind), str(version)))
        ranges.append(tuple(events))
    return tuple(ranges)


def _add(index: Index, where: str, data: object) -> None:
    # json gives dicts: `isinstance(x, dict)`, as an ABC check (Mapping) was a tenth of a cold
    # index (830,000 calls on 50,000 advisories, bench/scan.py).
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise PackerpyError(f"{where}: not a valid OSV advisory: no 'id'")
    affected = data.get("affected")
    affected = [] if affected is None else affected
    if not isinstance(affected, list):
        raise PackerpyError(f"{where}: not a valid OSV advisory: 'affected' is not a list")
    if data.get("withdrawn"):
        return
    number = len(index.advisories)
    label, score = severity.of_advisory(data)
    summary = str(data.get("summary") or "")[:200]
    index.advisories.append((data["id"], _aliases(data), label, score, summary))
    for entry in affected:
        package = entry.get("package") if isinstance(entry, dict) else None
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            raise PackerpyError(f"{where}: not a valid OSV advisory: affected without a package")
        ecosystem = str(package.get("ecosystem") or "")
        index.ecosystems[ecosystem] += 1
        versions = entry.get("versions") or []
        if not isinstance(versions, list):
            raise PackerpyError(f"{where}: not a valid OSV advisory: 'versions' is not a list")
        affects = (number, _events(entry, where), tuple(map(str, versions)))
        index.by_package.setdefault((ecosystem, package["name"]), []).append(affects)


def _parsed(entries: list[tuple[str, bytes]]) -> list[object]:
    """Every entry's JSON. One json.loads over all of them joined into an array costs less
    than one call per file; when that fails, per file, to name the entry that is not JSON."""
    try:
        joined = json.loads(b"[" + b",".join(raw for _where, raw in entries) + b"]")
        if isinstance(joined, list) and len(joined) == len(entries):
            return joined
    except (ValueError, UnicodeDecodeError):
        pass
    parsed = []
    for where, raw in entries:
        try:
            parsed.append(json.loads(raw))
        except (ValueError, UnicodeDecodeError) as exc:
            raise PackerpyError(f"{where}: not JSON: {exc}") from None
    return parsed


def build(path: Path) -> Index:
    """Parse every advisory under `path` into an index (no cache)."""
    if not path.exists():
        raise PackerpyError(f"{path}: advisories not found (a directory of OSV JSON or all.zip)")
    index = Index(source=str(path))
    entries = list(_entries(path))
    for (where, _raw), data in zip(entries, _parsed(entries), strict=True):
        _add(index, where, data)
        index.files += 1
    return index


def fingerprint(path: Path) -> str:
    """A zip file's SHA-256; for a directory, of its files' names, sizes and mtimes (reading
    every file would cost what the parse costs)."""
    digest = hashlib.sha256(f"packerpy-osv-{INDEX_FORMAT}\0".encode())
    if path.is_dir():
        for file in sorted(path.rglob("*.json")):
            stat = file.stat()
            digest.update(
                f"{file.relative_to(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode()
            )
    else:
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def cache_dir() -> Path:
    return paths.user_cache("osv")


def load(path: Path, *, use_cache: bool = True) -> Index:
    """The index of the advisories at `path`, from the cache when the data has not changed."""
    if not path.exists():
        raise PackerpyError(f"{path}: advisories not found (a directory of OSV JSON or all.zip)")
    if not use_cache:
        return build(path)
    try:
        cached = cache_dir() / f"{fingerprint(path)}.pickle"
    except OSError as exc:
        raise PackerpyError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        # The cache is the user's own directory, written only by this function.
        index = pickle.loads(cached.read_bytes())  # noqa: S301
        if isinstance(index, Index):
            index.cached = True
            index.source = str(path)
            return index
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
        pass  # no cache yet, or one from another packerpy: rebuild it
    index = build(path)
    # A read-only home still scans, only without the speed-up (atomic raises HostError).
    with contextlib.suppress(PackerpyError):
        atomic.write_bytes(cached, pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL))
    return index
