"""Lint results kept by the hash of everything lint reads, so an unchanged project is not
scanned again before every build.

The lint gate took 0.5-3.5 s of each build (importing detect-secrets alone ~0.3 s, then the
scan and shellcheck). The key covers each file lint reads (path and bytes, the file list
itself comes from git as in secrets.files), .secrets.baseline, the packer and shellcheck
binaries (path, size, mtime), detect-secrets' installation and lint's own source: any change
to one of them lints again. Best effort: an unreadable or read-only cache lints as before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable
from importlib.util import find_spec
from pathlib import Path

from packerpy.config import Project
from packerpy.lint import secrets
from packerpy.lint.model import Finding, LintResult
from packerpy.packer.binary import PackerInfo
from packerpy.tools import shellcheck_binary

CACHE_DIRNAME = "lint"
_FORMAT = 1  # bump when the stored form changes


def _stat(path: str | Path | None) -> str:
    if path is None:
        return "-"
    try:
        found = Path(path).stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{found.st_size}:{found.st_mtime_ns}"


def _tools(packer: PackerInfo | None) -> Iterable[str]:
    yield f"format {_FORMAT}"
    yield "packer " + ("-" if packer is None else f"{_stat(packer.binary)} {packer.version_text}")
    yield "shellcheck " + _stat(shellcheck_binary())
    spec = find_spec("detect_secrets")
    yield "detect-secrets " + _stat(spec.origin if spec else None)
    for source in sorted(Path(__file__).parent.glob("*.py")):  # lint's own rules
        yield source.read_text(encoding="utf-8")


def key(project: Project, packer: PackerInfo | None) -> str | None:
    """The hash of what lint would read; None when a file cannot be read (then just lint)."""
    digest = hashlib.sha256()
    try:
        paths = sorted({*secrets.files(project), (project.root / secrets.BASELINE).resolve()})
        parts: list[bytes] = [text.encode() for text in _tools(packer)]
        for path in paths:
            parts += [str(path).encode(), path.read_bytes() if path.is_file() else b"-"]
    except OSError:
        return None
    for part in parts:  # length-prefixed: never ambiguous
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def load(project: Project, found: str | None) -> LintResult | None:
    if found is None:
        return None
    try:
        stored = json.loads((_directory(project) / f"{found}.json").read_text(encoding="utf-8"))
        return LintResult(
            findings=tuple(Finding(**item) for item in stored["findings"]),
            scanned=tuple(stored["scanned"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent or unreadable: lint again


def store(project: Project, found: str | None, result: LintResult) -> None:
    if found is None:
        return
    stored = {
        "findings": [dataclasses.asdict(item) for item in result.findings],
        "scanned": list(result.scanned),
    }
    with contextlib.suppress(OSError):  # read-only checkout: the next run lints again
        directory = _directory(project)
        directory.mkdir(parents=True, exist_ok=True)
        temporary = directory / f".{found}.tmp"
        temporary.write_text(json.dumps(stored), encoding="utf-8")
        temporary.replace(directory / f"{found}.json")


def _directory(project: Project) -> Path:
    return project.state_dir() / "cache" / CACHE_DIRNAME


class Detections:
    """detect-secrets' findings per file content, for a lint whose whole result missed.

    After `version bump` only packerpy.toml changed: the other files' detections are reused
    (keyed by detect-secrets' installation and the file's path and bytes) and detect-secrets
    scans one file instead of every one.
    """

    def __init__(self, project: Project) -> None:
        self.path = _directory(project) / "detections.json"
        spec = find_spec("detect_secrets")
        self.salt = _stat(spec.origin if spec else None).encode()
        try:
            self.known: dict[str, list[list[int | str]]] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.known = {}
        self.used: dict[str, list[list[int | str]]] = {}

    def detect(
        self, path: Path, scan: Callable[[Path], set[secrets.Detection]]
    ) -> set[secrets.Detection]:
        try:
            digest = hashlib.sha256(self.salt + str(path).encode() + b"\0" + path.read_bytes())
        except OSError:
            return scan(path)  # unreadable: detect-secrets reports what it can
        name = digest.hexdigest()
        if name not in self.known:
            self.known[name] = [list(item) for item in sorted(scan(path))]
        self.used[name] = self.known[name]
        return {(int(line), str(kind), str(hashed)) for line, kind, hashed in self.used[name]}

    def save(self) -> None:
        """Keep this run's files only, so the cache never grows past the project's size."""
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.tmp")
            temporary.write_text(json.dumps(self.used), encoding="utf-8")
            temporary.replace(self.path)
