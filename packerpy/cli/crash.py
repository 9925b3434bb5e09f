"""Crash logs: a bug's traceback, in a file only its user can read, never someone else's file.

Before, the log was `<tmp>/packerpy-crash-<UTC second>.log`: a predictable name in a shared
directory, 0644, written through symlinks (a `nobody` symlink made root's packerpy overwrite a
root-owned file), and shared by two crashes in the same second. Now it goes to the project's
`.packerpy/crash/` (created 0700, checked to be a real directory we own), else to a private
`tempfile.mkdtemp()` directory, as a new 0600 file with a random suffix opened with
O_CREAT|O_EXCL|O_NOFOLLOW relative to the checked directory.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path

DIRNAME = "crash"
_ATTEMPTS = 5


def _open_private_dir(path: Path) -> int:
    """An fd of `path`: made 0700 if missing; a symlink, not a directory or not ours is refused."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    info = os.fstat(fd)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        os.close(fd)
        raise PermissionError(f"{path}: not a directory owned by this user")
    if stat.S_IMODE(info.st_mode) & 0o077:
        os.fchmod(fd, 0o700)  # ours, but readable by others: close it before writing
    return fd


def _write_in(directory: Path, text: str) -> Path:
    dir_fd = _open_private_dir(directory)
    try:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        for _ in range(_ATTEMPTS):
            name = f"crash-{stamp}-{secrets.token_hex(4)}.log"
            try:
                fd = os.open(name, flags, 0o600, dir_fd=dir_fd)
            except FileExistsError:
                continue
            with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as handle:
                handle.write(text)
            return directory / name
        raise FileExistsError(f"{directory}: no free crash log name")
    finally:
        os.close(dir_fd)


def write(text: str, state_dir: Path | None) -> Path | None:
    """Write `text` to a new crash log; its path, or None if no directory would take it."""
    if state_dir is not None:
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            return _write_in(state_dir / DIRNAME, text)
        except OSError:
            pass  # a read-only or odd project: the private temporary directory instead
    try:
        return _write_in(Path(tempfile.mkdtemp(prefix="packerpy-crash-")), text)
    except OSError:
        return None
