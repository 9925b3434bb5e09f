"""botocore sessions that share what is the same in every one: service models, client classes.

Every `AwsClients` makes its own session (credentials and profile are per session), and a fresh
session parses the EC2 model again (0.29 s) and builds each client's class again: botocore
makes a class with one method per operation for every client, 31 ms for EC2's 600 operations.
A `build` makes clients in three places (the opt-in check, the pre-bake lookups, publishing),
once per region. Both are pure functions of botocore's packaged JSON, so this module makes each
once per process: one data loader for all sessions, and one class per (service, API version).

The class cache wraps botocore's `ClientCreator._create_client_class` (not public API) and
applies only to sessions made here: a session from elsewhere (boto3 adds methods to some
classes through events) gets botocore's own behaviour. Should botocore rename the method, the
wrapper is not installed and clients are made as before, only slower.
"""

from __future__ import annotations

import functools
import threading
import weakref
from typing import Any

_OURS: weakref.WeakSet[Any] = weakref.WeakSet()  # the event emitters of sessions made here
_CLASSES: dict[tuple[str, str], type] = {}
_INSTALL_LOCK = threading.Lock()


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
    from botocore.loaders import create_loader  # noqa: PLC0415 - lazily, with botocore

    return create_loader()


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
