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
import os
import pickle
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from packerpy.errors import PackerpyError
from packerpy.support import atomic
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
    versions: frozenset[str]  # the `versions` list


@dataclass
class Index:
    source: str
    advisories: list[Advisory] = field(default_factory=list)
    by_package: dict[tuple[str, str], list[Affects]] = field(default_factory=dict)
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
            for info in archive.infolist():
                if info.filename.endswith(".json"):
                    yield f"{path}:{info.filename}", archive.read(info)
    except zipfile.BadZipFile as exc:
        raise PackerpyError(f"{path}: not a readable zip file ({exc})") from None
    except (zipfile.LargeZipFile, EOFError, OSError) as exc:  # a truncated member, a bad CRC
        raise PackerpyError(f"{path}: corrupt zip file ({exc})") from None


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
        if not isinstance(entry, Mapping) or not isinstance(entry.get("events"), list):
            raise PackerpyError(f"{where}: not a valid OSV advisory: a range without events")
        if entry.get("type") != "ECOSYSTEM":  # GIT/SEMVER ranges name commits, not packages
            continue
        events = []
        for event in entry["events"]:
            if not isinstance(event, Mapping) or len(event) != 1:
                raise PackerpyError(f"{where}: not a valid OSV advisory: event {event!r}")
            ((kind, version),) = event.items()
            if kind in ("introduced", "fixed", "last_affected", "limit"):
                events.append((str(kind), str(version)))
        ranges.append(tuple(events))
    return tuple(ranges)


def _add(index: Index, where: str, data: object) -> None:
    if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
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
    index.advisories.append(Advisory(data["id"], _aliases(data), label, score, summary))
    for entry in affected:
        package = entry.get("package") if isinstance(entry, Mapping) else None
        if not isinstance(package, Mapping) or not isinstance(package.get("name"), str):
            raise PackerpyError(f"{where}: not a valid OSV advisory: affected without a package")
        ecosystem = str(package.get("ecosystem") or "")
        index.ecosystems[ecosystem] += 1
        versions = entry.get("versions") or []
        if not isinstance(versions, list):
            raise PackerpyError(f"{where}: not a valid OSV advisory: 'versions' is not a list")
        affects = Affects(number, _events(entry, where), frozenset(map(str, versions)))
        index.by_package.setdefault((ecosystem, package["name"]), []).append(affects)


def build(path: Path) -> Index:
    """Parse every advisory under `path` into an index (no cache)."""
    if not path.exists():
        raise PackerpyError(f"{path}: advisories not found (a directory of OSV JSON or all.zip)")
    index = Index(source=str(path))
    for where, raw in _entries(path):
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PackerpyError(f"{where}: not JSON: {exc}") from None
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
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "packerpy" / "osv"


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
