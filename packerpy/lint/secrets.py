"""PPS001: detect-secrets over the project's repository, minus a reviewed baseline.

What is scanned is what would be committed and pushed, as `detect-secrets scan` does for a
repository, not only what the config references (reliability review class 9: a key in an
unreferenced `provisioners/leaky.sh` passed): every file `git ls-files` lists (tracked, and
untracked but not ignored), or outside git every file under the project root; plus the files
a bake reads (packerpy.toml, templates, the scripts images use, var files even when ignored).
packerpy's state, environments and build output (SKIP_DIRS, the runs dir) are skipped unless
git tracks them, and so are binary files.

Findings carry the detect-secrets type, file and line; the value found is dropped at once.
"""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, cast

from packerpy.config import Project
from packerpy.errors import ConfigError
from packerpy.lint.model import Finding, finding, relative
from packerpy.render import jinja as render
from packerpy.support import proc

if TYPE_CHECKING:
    from detect_secrets.types import NamedIO

BASELINE = ".secrets.baseline"
VAR_FILE_SUFFIXES = (".pkrvars.hcl", ".pkrvars.json")
# Never searched unless git tracks them: state, environments, VCS data and render output.
SKIP_DIRS = frozenset({".packerpy", ".venv", ".git", "build"})
# git's own test for a binary file: a NUL byte in the first 8000 bytes (xdiff-interface.c).
BINARY_SNIFF_BYTES = 8000

# (line, detect-secrets type, hashed secret): never the secret itself.
Detection = tuple[int, str, str]


def files(project: Project) -> list[Path]:
    """The repository's text files and the files a bake reads, without the baseline itself."""
    found: dict[Path, None] = {project.path.resolve(): None}
    templates = project.root / project.config.project.templates_dir
    if templates.is_dir():
        found.update((p.resolve(), None) for p in sorted(templates.rglob("*")) if p.is_file())
    for name, image in project.config.images.items():
        found.update((p, None) for p in render.provisioner_assets(project, name, image).values())
    tree = [p for p in _tree(project) if not p.is_symlink()]
    found.update((p.resolve(), None) for p in tree if p.name.endswith(VAR_FILE_SUFFIXES))
    # A symlink's target is not what git commits (it stores the link), and may be anywhere.
    found.update((p.resolve(), None) for p in _repository(project, tree) if not p.is_symlink())
    baseline = (project.root / BASELINE).resolve()
    return [p for p in found if p != baseline and p.is_file() and not _binary(p)]


def _repository(project: Project, tree: Iterable[Path]) -> list[Path]:
    """Files git lists under the project root; outside git (or without git), the whole tree."""
    listed = _git_files(project.root, "--cached")
    if listed is None:
        return list(tree)
    untracked = _git_files(project.root, "--others", "--exclude-standard") or []
    runs = project.runs_dir().resolve()
    return listed + [p for p in untracked if not _skipped(project.root, p, runs)]


def _git_files(root: Path, *which: str) -> list[Path] | None:
    """`git ls-files` under `root`; None when `root` is not in a work tree or git is missing."""
    try:
        done = proc.run(["git", "ls-files", "-z", *which], cwd=root, timeout=60)
    except proc.ToolMissing:
        return None
    if done.returncode != 0:
        return None
    return [root / name for name in done.output.split("\0") if name]


def _skipped(root: Path, path: Path, runs: Path) -> bool:
    parts = path.relative_to(root).parts[:-1]
    return any(part in SKIP_DIRS for part in parts) or path.resolve().is_relative_to(runs)


def _tree(project: Project) -> Iterator[Path]:
    """Every file under the project root, minus SKIP_DIRS and the runs dir."""
    runs = project.runs_dir().resolve()
    for dirpath, dirnames, filenames in os.walk(project.root):
        here = Path(dirpath)
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and (here / d).resolve() != runs
        )
        yield from (here / n for n in sorted(filenames))


def _binary(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return b"\0" in handle.read(BINARY_SNIFF_BYTES)
    except OSError:
        return False  # detect() reports what it can of an unreadable file


def detect(path: Path) -> set[Detection]:
    """Every possible secret detect-secrets' default plugins and filters find in `path`."""
    # detect-secrets costs ~0.3 s to import (more on a busy machine): only a lint that is not
    # answered from lint/cache.py pays it.
    from detect_secrets.core import scan as ds_scan  # noqa: PLC0415 - see above
    from detect_secrets.settings import default_settings  # noqa: PLC0415 - see above

    found: set[Detection] = set()
    with default_settings():
        # What `detect-secrets scan` reports (so a baseline it wrote matches these hashes).
        found.update((s.line_number, s.type, s.secret_hash) for s in ds_scan.scan_file(str(path)))
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return found  # unreadable or binary: scan_file skips those as well
        # scan_file reads an INI-like file (packerpy.toml) through a config parser that drops
        # comment lines; the same per-line scan over the file as written sees those too. Any
        # other file scan_file already read as written: a second pass would only double the
        # time (the line plugins take ~1 ms a line, measured).
        if not _transformed(path):
            return found
        numbered = list(enumerate(lines, start=1))
        found.update(
            (s.line_number, s.type, s.secret_hash)
            for s in ds_scan._process_line_based_plugins(numbered, str(path))
        )
    return found


def _transformed(path: Path) -> bool:
    """Whether detect-secrets' first pass reads `path` through a parser, not line by line."""
    from detect_secrets.transformers import get_transformed_file  # noqa: PLC0415 - see detect

    with path.open(encoding="utf-8") as handle:
        return bool(get_transformed_file(cast("NamedIO", handle)))


def load_baseline(project: Project) -> dict[str, frozenset[str]]:
    """Reviewed hashes per file in .secrets.baseline, minus those audited as real secrets."""
    path = project.root / BASELINE
    if not path.is_file():
        return {}
    label = relative(project, path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{label}: cannot read the detect-secrets baseline: {exc}") from None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict):
        raise ConfigError(f"{label}: not a detect-secrets baseline (no 'results' object)")
    allowed: dict[str, set[str]] = defaultdict(set)
    for filename, entries in results.items():
        key = str(filename).replace("\\", "/").removeprefix("./")
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, dict) or not isinstance(entry.get("hashed_secret"), str):
                continue
            # `detect-secrets audit` marked it a real secret: listing it is no permission.
            if entry.get("is_secret") is True:
                continue
            allowed[key].add(entry["hashed_secret"])
    return {key: frozenset(hashes) for key, hashes in allowed.items()}


# packerpy.toml fields whose values are file paths by schema (ssh_private_key_file = "keys/id"):
# detect-secrets' keyword plugin reads "private_key" and flags the path as a secret.
_PATH_FIELD = re.compile(r"\s*(ssh_private_key_file)\s*=")


def _without_path_fields(detections: set[Detection], path: Path) -> set[Detection]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {
        d
        for d in detections
        if not (
            d[1] == "Secret Keyword"
            and 0 < d[0] <= len(lines)
            and _PATH_FIELD.match(lines[d[0] - 1])
        )
    }


def scan(
    project: Project, detections_of: Callable[[Path], set[Detection]] | None = None
) -> tuple[list[Finding], list[str]]:
    """PPS001 findings (one per line, naming each type found there) and the files scanned.

    `detections_of` replaces `detect` (lint/cache.py reuses unchanged files' detections)."""
    detections_of = detections_of or detect
    allowed = load_baseline(project)
    findings: list[Finding] = []
    scanned: list[str] = []
    for path in files(project):
        label = relative(project, path)
        scanned.append(label)
        reviewed = allowed.get(label, frozenset())
        detections = detections_of(path)
        if path == project.path:
            detections = _without_path_fields(detections, path)
        # A line holding a reviewed secret is allowed whole: the config parser and the raw pass
        # can hash one value differently (quotes, inline tables), yet it is the same value.
        allowed_lines = {line for line, _, hashed in detections if hashed in reviewed}
        types: dict[int, set[str]] = defaultdict(set)
        for line, kind, _ in detections:
            if line not in allowed_lines:
                types[line].add(kind)
        findings.extend(
            finding(
                "PPS001",
                label,
                line,
                f"possible secret ({', '.join(sorted(types[line]))}) in {label}:{line}",
            )
            for line in sorted(types)
        )
    return findings, scanned
