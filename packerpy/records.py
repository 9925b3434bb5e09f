"""Run records: every build leaves .packerpy/runs/<UTC timestamp>-<image>/ behind.

A record holds the rendered template, the var file, packer's log, the manifest and result.json,
so a bake can be understood (and reproduced) after the fact. `RunRecord` writes result.json on
every way out of a run (success, a PackerpyError, a bug, Ctrl-C or SIGTERM), naming the phase
that was running and the phases that finished; `list_runs` and `read` give them back.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from pydantic import BaseModel

from packerpy.contract import SCHEMA_VERSION
from packerpy.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, HostError, PackerpyError
from packerpy.support import atomic, oserrors, signals

RESULT_NAME = "result.json"
LOG_NAME = "packer.log"


def create(runs_dir: Path, image: str, now: datetime) -> Path:
    """A fresh, unique directory; two builds in the same second get -2, -3 ... suffixes.

    A name taken by anything (a directory or a file) is skipped; a runs directory that cannot
    be made (read-only, a file in its place) is a HostError naming it.
    """
    with oserrors.translated("create the runs directory", runs_dir):
        runs_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{now:%Y%m%dT%H%M%SZ}-{image}"
    for attempt in range(1, 1000):
        candidate = runs_dir / (stem if attempt == 1 else f"{stem}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:  # taken, by a run or by a file: the next suffix
            continue
        except OSError as exc:
            raise oserrors.error(exc, "create the run directory", candidate) from None
        return candidate
    raise HostError(
        f"{oserrors.shown(runs_dir)}: cannot create a run directory: "
        f"{stem} to {stem}-999 are all taken"
    )


def write_result(run_dir: Path, payload: Mapping[str, Any]) -> Path:
    path = run_dir / RESULT_NAME
    atomic.write_text(path, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
    return path


def outcome_of(exc: BaseException | None) -> tuple[int, str | None]:
    """(exit code, error message) for how a run ended, as the CLI's error boundary maps them."""
    if exc is None:
        return EXIT_OK, None
    if isinstance(exc, PackerpyError):
        return exc.exit_code, exc.message
    if isinstance(exc, KeyboardInterrupt):  # Ctrl-C, or SIGTERM via support.signals
        return EXIT_INTERRUPTED, "interrupted"
    return EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {exc}"


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while result.json is written: a second Ctrl-C must not lose it.

    A held signal is handed to the handler that was in place when the block ends, so it still
    stops the process after the write (or is absorbed once the result is final, see
    support.signals). Handlers, not a signal mask: pthread_sigmask blocks only the calling
    thread, and with worker threads alive (preflight, region pools) the kernel delivers the
    signal to one of them, whose Python handler then interrupts the main thread mid-write.
    Python runs handlers in the main thread only, so elsewhere there is nothing to hold.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def hold(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {signum: signal.signal(signum, hold) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    for held in dict.fromkeys(received):
        handler = previous[signal.Signals(held)]
        if callable(handler):
            handler(held, None)
        elif handler == signal.SIG_DFL:
            raise KeyboardInterrupt


class RunRecord:
    """A run directory and its result.json, written however the `with` block ends.

    `fields` (image, version, packer version, ...) go into result.json as given; `note()` adds
    more as they become known; `succeed()` sets the command's public data (contract models).
    The exception, if any, is re-raised after the write.
    """

    def __init__(
        self, runs_dir: Path, image: str, started: datetime, fields: Mapping[str, Any]
    ) -> None:
        self.dir = create(runs_dir, image, started)
        self._fields: dict[str, Any] = {"started_at": started.isoformat(), **fields}
        self._data: dict[str, Any] = {}
        self._phases: list[tuple[str, float]] = []
        self._running: str | None = None

    def __enter__(self) -> RunRecord:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            # The run succeeded and result.json is about to say so: a signal from here on must
            # not turn it into an exit 130 that contradicts the record (review 4.7).
            signals.reporting()
        with _signals_held():
            write_result(self.dir, self.payload(exc))

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase; it counts as finished only when its block ends without an exception."""
        self._running = name
        start = time.perf_counter()
        yield
        self._phases.append((name, round(time.perf_counter() - start, 4)))
        self._running = None

    @property
    def timings(self) -> dict[str, float]:
        """Finished phases -> seconds, in the order they ran."""
        return dict(self._phases)

    def note(self, **fields: Any) -> None:  # noqa: ANN401 - JSON values
        self._fields.update(fields)

    def succeed(self, data: BaseModel) -> None:
        self._data = data.model_dump(mode="json")

    def payload(self, exc: BaseException | None) -> dict[str, Any]:
        """What result.json holds if the run ended now with `exc` (None: success)."""
        code, error = outcome_of(exc)
        return {
            **self._fields,
            **(self._data if exc is None else {}),
            "schema": SCHEMA_VERSION,
            "ok": exc is None,
            "exit_code": code,
            "error": error,
            "phase": self._running,
            "phases": [{"name": name, "seconds": secs} for name, secs in self._phases],
            "finished_at": datetime.now(UTC).isoformat(),
        }


@dataclass(frozen=True)
class Run:
    """One run directory as a later command sees it."""

    dir: Path
    # result.json as written; empty when there is none (the run is still going, or the process
    # was killed by a signal that cannot be caught, SIGKILL).
    result: Mapping[str, Any] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        return bool(self.result)

    @property
    def ok(self) -> bool:
        return bool(self.result.get("ok", False))

    @property
    def exit_code(self) -> int | None:
        code = self.result.get("exit_code")
        return code if isinstance(code, int) else None

    @property
    def image(self) -> str | None:
        image = self.result.get("image")
        return image if isinstance(image, str) else None


def read(run_dir: Path) -> Run:
    """The run in `run_dir`; a missing result.json is an unfinished run, a corrupt one an error."""
    path = run_dir / RESULT_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Run(dir=run_dir)
    try:
        result = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PackerpyError(f"{path}: not a run record: {exc}") from None
    if not isinstance(result, dict):
        raise PackerpyError(f"{path}: not a run record: a JSON object was expected")
    return Run(dir=run_dir, result=result)


def list_runs(runs_dir: Path) -> list[Run]:
    """Every run under runs_dir, oldest first (directory names start with the UTC start time)."""
    if not runs_dir.is_dir():
        return []
    return [read(path) for path in sorted(runs_dir.iterdir()) if path.is_dir()]
