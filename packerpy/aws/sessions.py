"""botocore sessions that share what is the same in every one: service models, client classes.

Every `AwsClients` makes its own session (credentials and profile are per session), and a fresh
session parses the EC2 model again (0.29 s) and builds each client's class again: botocore
makes a class with one method per operation for every client, 31 ms for EC2's 600 operations.
A `build` makes clients in three places (the opt-in check, the pre-bake lookups, publishing),
once per region. Both are pure functions of botocore's packaged JSON, so this module makes each
once per process: one data loader for all sessions, and one class per (service, API version).

The models are botocore's packaged JSON, parsed with an OrderedDict per object: 0.09-0.15 s for
EC2's 4 MB model in every process that makes an EC2 client. The loader keeps each large file's
parsed form in the user's cache as marshal data (0.02-0.04 s to read), keyed by the file's path,
size and mtime and by the Python version (marshal's format is per version).

The class cache wraps botocore's `ClientCreator._create_client_class` (not public API) and
applies only to sessions made here: a session from elsewhere (boto3 adds methods to some
classes through events) gets botocore's own behaviour. Should botocore rename the method, the
wrapper is not installed and clients are made as before, only slower.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import marshal
import sys
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from packerpy.errors import PackerpyError
from packerpy.support import atomic, paths

_OURS: weakref.WeakSet[Any] = weakref.WeakSet()  # the event emitters of sessions made here
_CLASSES: dict[tuple[str, str], type] = {}
_INSTALL_LOCK = threading.Lock()
# Smaller files parse faster than a cache file is found and read.
CACHED_MODEL_MIN_BYTES = 64 * 1024
_CACHE_FORMAT = 1


def new_session(profile: str | None) -> Any:  # noqa: ANN401 - botocore.session.Session
    """A botocore session for `profile` that shares this process's models and client classes."""
    import botocore.session  # noqa: PLC0415 - ~0.3 s to import; only AWS commands pay it

    _install_class_cache()
    session = botocore.session.Session(profile=profile)
    session.register_component("data_loader", _shared_loader())
    _OURS.add(session.get_component("event_emitter"))
    return session


@functools.cache
def _shared_loader() -> Any:  # noqa: ANN401 - botocore.loaders.Loader
    """One data loader per process: each service model is read and parsed once.

    It holds only botocore's packaged JSON (two threads racing here make two; one is kept).
    """
    return new_loader()


def new_loader() -> Any:  # noqa: ANN401 - botocore.loaders.Loader
    """botocore's data loader, reading through the user's cache (the module docstring)."""
    from botocore import __version__  # noqa: PLC0415 - lazily, with botocore
    from botocore.loaders import JSONFileLoader, Loader  # noqa: PLC0415

    class CachedFileLoader(JSONFileLoader):
        """botocore's file loader, with large files read from their marshal copy.

        Objects come back as dicts, not botocore's OrderedDicts: both keep insertion order,
        and botocore builds its own OrderedDicts from them (model.py) without type checks.
        """

        def load_file(self, file_path: str) -> Any:  # noqa: ANN401 - JSON data
            found = _model_file(file_path)
            if found is None or found[1] < CACHED_MODEL_MIN_BYTES:
                return super().load_file(file_path)
            path, size, mtime_ns = found
            return _cached(("file", str(path), size, mtime_ns), lambda: _parsed(path))

    class CachedLoader(Loader):
        """botocore's loader, with its service listing kept too: to check a service name it
        lists every service directory holding a file of the type on each search path (about
        1,700 file system calls, 0.03 s per type, two types per client). The listing depends
        only on botocore's version and those directories."""

        def list_available_services(self, type_name: str) -> list[str]:
            places = tuple((p, _mtime_ns(p)) for p in map(str, self.search_paths))
            key = ("services", __version__, type_name, places)
            found: list[str] = _cached(
                key, lambda: super(CachedLoader, self).list_available_services(type_name)
            )
            return found

    return CachedLoader(file_loader=CachedFileLoader())


def _mtime_ns(path: str) -> int | None:
    try:
        return Path(path).stat().st_mtime_ns
    except OSError:
        return None


def _model_file(file_path: str) -> tuple[Path, int, int] | None:
    """The file botocore would read for `file_path` (.json first, then .json.gz), with its
    size and mtime; None when neither exists."""
    for suffix in (".json", ".json.gz"):
        path = Path(file_path + suffix)
        try:
            stat = path.stat()
        except OSError:
            continue
        return path, stat.st_size, stat.st_mtime_ns
    return None


def _parsed(path: Path) -> Any:  # noqa: ANN401 - JSON data
    raw = path.read_bytes()
    if path.suffix == ".gz":
        import gzip  # noqa: PLC0415 - only on a cache miss

        raw = gzip.decompress(raw)
    return json.loads(raw)


def _cached(key: tuple[object, ...], compute: Callable[[], Any]) -> Any:  # noqa: ANN401
    """compute()'s value, from its marshal copy when `key` (plus the format and Python's
    version: marshal's format is per version) was computed before."""
    text = repr((_CACHE_FORMAT, sys.version, marshal.version, *key))
    cached = paths.user_cache("botocore") / f"{hashlib.sha256(text.encode()).hexdigest()}.marshal"
    try:
        return marshal.loads(cached.read_bytes())  # noqa: S302 - the user's own cache, written only here
    except (OSError, EOFError, ValueError, TypeError):
        pass  # not cached yet, or cut short: compute and write it again
    value = compute()
    # A read-only or full cache directory only loses the speed-up.
    with contextlib.suppress(PackerpyError):
        atomic.write_bytes(cached, marshal.dumps(value))
    return value


def _install_class_cache() -> None:
    from botocore.client import ClientCreator  # noqa: PLC0415 - lazily, with botocore

    with _INSTALL_LOCK:
        original = getattr(ClientCreator, "_create_client_class", None)
        if original is None or getattr(original, "packerpy_cached", False):
            return

        def create_client_class(self: Any, *args: Any, **kwargs: Any) -> type:  # noqa: ANN401
            # Anything but botocore's current (service_name, service_model) call, or a session
            # made elsewhere, gets botocore's own method untouched.
            ours = getattr(self, "_event_emitter", None) in _OURS
            if not ours or len(args) != 2 or kwargs:
                return original(self, *args, **kwargs)  # type: ignore[no-any-return]
            service_name, service_model = args
            # Our sessions share one loader and register the same built-in handlers, so the
            # class depends only on the service and its API version.
            key = (str(service_name), str(getattr(service_model, "api_version", "")))
            cls = _CLASSES.get(key)
            if cls is None:
                cls = _CLASSES.setdefault(key, original(self, *args))
            return cls

        create_client_class.packerpy_cached = True  # type: ignore[attr-defined]
        ClientCreator._create_client_class = create_client_class  # type: ignore[attr-defined]
