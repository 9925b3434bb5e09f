"""packer's version per binary file, kept between runs: `packer version` is a process of
0.14 s on the way to every bake, and a binary's version never changes while the file does not.

Keyed by the file itself (device, inode, size, mtime, ctime): an upgrade, even in place, or a
symlink pointed elsewhere is another key. Plugins are not kept: `packer init` adds them.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from pathlib import Path

from packerpy.errors import PackerpyError
from packerpy.support import atomic, constraints, paths
from packerpy.support.constraints import Triple


def version_of(path: str, ask: Callable[[str], Triple]) -> Triple:
    """The version of the binary at `path`: the one kept, else ask(path)'s (then kept)."""
    kept = _kept(path)
    found = _read(kept)
    if found is None:
        found = ask(path)
        if kept is not None:
            with contextlib.suppress(PackerpyError):  # a read-only cache loses the speed-up only
                atomic.write_text(kept, constraints.text(found))
    return found


def _kept(path: str) -> Path | None:
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    key = "\0".join(
        map(str, (path, stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns))
    )
    return paths.user_cache("packer-version") / hashlib.sha256(key.encode()).hexdigest()


def _read(kept: Path | None) -> Triple | None:
    if kept is None:
        return None
    try:
        return constraints.parse_version(kept.read_text())
    except (OSError, UnicodeDecodeError):
        return None
