"""OSErrors become one-line HostErrors where they happen: the path, the action, what is wrong.

A read-only project, a full disk or a `.packerpy` that is a file are problems of the machine,
not bugs: each is reported as `<path>: cannot <action>: <reason>` with exit code 12, never as
an internal error. Every place packerpy writes (atomic writes, run directories, the sandbox's
state) goes through `translated`, so the next write site gets the same message for free.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from packerpy.errors import HostError

# Paths in messages are cut here: a 1 MB path is a bad config value, not a message.
MAX_SHOWN = 200

_REASONS = {
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.ENAMETOOLONG: "file name too long",
    errno.ELOOP: "too many levels of symbolic links",
    errno.EMFILE: "too many open files",
    errno.EISDIR: "is a directory, not a file",
}


def shown(path: Path | str) -> str:
    """A path as a message shows it: cut to MAX_SHOWN characters, control characters escaped."""
    text = str(path)
    if len(text) > MAX_SHOWN:
        text = f"{text[:MAX_SHOWN]}... ({len(text)} characters)"
    return text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text


def _file_in_the_way(path: Path) -> Path | None:
    """The first existing component of `path` that is not a directory (ENOTDIR, EEXIST)."""
    for ancestor in [*reversed(path.parents), path]:
        try:
            if ancestor.exists() and not ancestor.is_dir():
                return ancestor
        except OSError:
            return None
    return None


def reason(exc: OSError, path: Path) -> str:
    """What is wrong, in words a user acts on."""
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        blocker = _file_in_the_way(path)
        if blocker == path:
            return "exists and is not a directory"
        if blocker is not None:
            return f"{shown(blocker)} is a file, not a directory"
    if exc.errno in _REASONS:
        return _REASONS[exc.errno]
    return exc.strerror or type(exc).__name__


def error(exc: OSError, action: str, path: Path) -> HostError:
    """The HostError for `exc`, raised while trying to `action` (a verb phrase) `path`."""
    return HostError(f"{shown(path)}: cannot {action}: {reason(exc, path)}")


@contextmanager
def translated(action: str, path: Path) -> Iterator[None]:
    """Raise any OSError in the block as a HostError naming `path` and `action`."""
    try:
        yield
    except OSError as exc:
        raise error(exc, action, path) from None
