"""Sandbox-only: moto 5.2.5's per-request dispatch lookups, answered without reflection or
disk access. Same answers as moto's own, so every request is routed exactly as before.

Measured on the sandbox server (py-spy, DescribeImageAttribute in a loop): of each request's
CPU, 14% went to `method_names_from_class` (`inspect.getmembers` over the whole response class,
~600 EC2 members, to ask whether one action has a method) and 17% to
`DomainDispatcherApplication.get_backend_for_host`, which lists moto's package directory and
stats each of its ~250 entries (`backends.list_of_moto_modules`), then tries the URL patterns
of every service in turn, under the dispatcher's one lock. Every cleanup test and bench makes
hundreds of such requests.

werkzeug's access log (one line per request, to the sandbox's log) went through colorama, which
werkzeug wraps stderr in whenever colorama is installed: 6% of a request to strip the colour
codes werkzeug had just added. A plain handler on stderr, with werkzeug adding no codes, writes
the same lines.
"""

from __future__ import annotations

import inspect
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import moto.core.responses
import werkzeug.serving
from moto.core.utils import method_names_from_class
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_MOTO_METHOD_NAMES = method_names_from_class
_MOTO_BACKEND_FOR_HOST = DomainDispatcherApplication.get_backend_for_host


class FunctionNames:
    """A class's function names as `method_names_from_class` lists them, asked one at a time.

    moto's only use is `action in method_names_from_class(cls)` (BaseResponse.call_action).
    `inspect.getmembers(cls, inspect.isfunction)` lists the names whose class attribute
    (`getattr(cls, name)`) is a plain function, so asking getattr for the one name gives the
    same answer, and stays right when a method is added or removed later (the sandbox adds some).
    """

    def __init__(self, clazz: object) -> None:
        self._clazz = clazz

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and inspect.isfunction(getattr(self._clazz, name, None))

    def __iter__(self) -> Iterator[str]:
        return iter(_MOTO_METHOD_NAMES(self._clazz))


def function_names(clazz: object) -> FunctionNames:
    return FunctionNames(clazz)


def memoized_backend_for_host() -> Callable[[DomainDispatcherApplication, str | None], Any]:
    """get_backend_for_host, remembered per host once it names a backend.

    Its answer depends only on the host: moto's package directory and URL patterns do not
    change while the server runs. A host with no backend is asked again each time (moto then
    prints a hint for an unknown amazonaws.com host, as before).
    """
    found: dict[str | None, Any] = {}
    lock = threading.Lock()

    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:  # noqa: ANN401 - moto's backends are untyped
        backend = found.get(host)
        if backend is None:
            backend = _MOTO_BACKEND_FOR_HOST(self, host)
            if backend is not None:
                with lock:
                    found[host] = backend
        return backend

    return get_backend_for_host


def plain_access_log() -> None:
    """werkzeug's access log on stderr, as before, without colorama in between.

    werkzeug adds its colorama handler only to a logger with no handler of its own; colorama
    stripped the codes from a log that is no terminal, so werkzeug adding none keeps the text.
    """
    logger = logging.getLogger("werkzeug")
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler(sys.stderr))
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
    werkzeug.serving._log_add_style = False


def install() -> None:
    """Replace the two lookups in this process (idempotent: moto's originals are kept aside)."""
    moto.core.responses.method_names_from_class = function_names  # type: ignore[attr-defined,assignment]
    DomainDispatcherApplication.get_backend_for_host = memoized_backend_for_host()  # type: ignore[method-assign,assignment]
    plain_access_log()
