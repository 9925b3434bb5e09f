"""Which rendered templates packer has already accepted: a content-hash cache for `validate`.

`packer fmt -check` plus `packer validate` cost 0.2-0.3 s per template (two packer processes);
a 50-image project took 15 s to validate, every time. A template whose rendered text, var
file, assets and secret names hash to a key that the same packer binary (path, size, mtime,
version) already accepted is not checked again. Best effort: an unreadable or read-only cache
only means checking again.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from pathlib import Path

from packerpy.packer.binary import PackerInfo


def binary_identity(info: PackerInfo) -> str | None:
    """The packer binary as a cache key part (a new packer checks everything again)."""
    try:
        found = Path(info.binary).stat()
    except OSError:
        return None
    return f"{info.binary}\0{found.st_size}\0{found.st_mtime_ns}\0{info.version_text}"


def key(info: PackerInfo, parts: Iterable[str | bytes]) -> str | None:
    """sha256 over the binary's identity and `parts` (length-prefixed, so never ambiguous)."""
    identity = binary_identity(info)
    if identity is None:
        return None
    digest = hashlib.sha256()
    for part in (identity, *parts):
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


class Validated:
    """A directory of empty files named by the keys packer accepted."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def seen(self, found: str | None) -> bool:
        return found is not None and (self.directory / found).is_file()

    def remember(self, found: str | None) -> None:
        if found is None:
            return
        # An empty marker needs no atomic write or fsync: a torn one is still just a name.
        with contextlib.suppress(OSError):  # read-only checkout: the next validate checks again
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / found).touch()
