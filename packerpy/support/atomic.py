"""Writes that are all or nothing: a crash leaves the old file or the new one, never half.

An OSError (read-only or full file system, a parent that is a file, ...) is raised as a
HostError naming the target path, never the temporary file beside it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from packerpy.support import oserrors


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    with oserrors.translated("write", path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if mode is not None:
                Path(tmp).chmod(mode)
            Path(tmp).replace(path)
        except BaseException:
            # ENOSPC mid-write must not leave a half temporary file behind either.
            with contextlib.suppress(OSError):
                Path(tmp).unlink()
            raise
