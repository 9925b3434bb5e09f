"""Paths: built-in data (a source checkout or an installed wheel) and how errors name files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def builtin(kind: str) -> Path:
    """hcl_templates/ or provisioners/: package data in a wheel, top level in a checkout."""
    shipped = _PACKAGE / "_data" / kind
    return shipped if shipped.is_dir() else _PACKAGE.parent / kind


def user_cache(kind: str) -> Path:
    """packerpy's cache of `kind` for this user: $XDG_CACHE_HOME/packerpy/KIND (~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "packerpy" / kind


def find(dirs: Iterable[Path], filename: str) -> Path | None:
    """The first `filename` along the search path (a project's own files shadow the built-ins)."""
    for directory in dirs:
        candidate = directory / filename
        if candidate.is_file():
            return candidate
    return None


def names(dirs: Iterable[Path], suffix: str) -> list[str]:
    found = {
        path.name.removesuffix(suffix)
        for directory in dirs
        if directory.is_dir()
        for path in directory.iterdir()
        if path.name.endswith(suffix)
    }
    return sorted(found)


def display_path(path: Path) -> str:
    """A file as error messages name it: relative to the cwd when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
