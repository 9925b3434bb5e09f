"""Run records: every build leaves .packerpy/runs/<UTC timestamp>-<image>/ behind.

A record holds the rendered template, the var file, packer's log, the manifest and result.json,
so a bake can be understood (and reproduced) after the fact. `RunRecord` writes result.json on
every way out of a run (success, a PackerpyError, a bug, Ctrl-C or SIGTERM), naming the phase
that was running and the phases that finished; `list_runs` and `read` give them back.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import BaseModel

from packerpy.contract import SCHEMA_VERSION
from packerpy.errors import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, HostError, PackerpyError
from packerpy.support import atomic, liveness, oserrors, signals

RESULT_NAME = "result.json"
LOG_NAME = "packer.log"
# Who runs this record: packerpy's pid and create time, packer's once it starts, the host. The
# reaper reads it to tell a live run from one that was killed (SIGKILL leaves no result.json);
# it is removed when result.json is written.
LIVE_NAME = "live.json"
# A run of another host (or project) counts as dead once its builder is this old: packer's
# default waits alone can take hours on large multi-region AMIs, 6 h covers a long bake.
MAX_BAKE = timedelta(hours=6)


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


class RunRecord:
    """A run directory and its result.json, written however the `with` block ends.

    `fields` (image, version, packer version, ...) go into result.json as given; `note()` adds
    more as they become known; `succeed()` sets the command's public data (contract models).
    The exception, if any, is re-raised after the write.
    """

    def __init__(
        self,
        runs_dir: Path,
        image: str,
        started: datetime,
        fields: Mapping[str, Any],
        on_phase: Callable[[str], None] | None = None,  # told when each phase starts (progress)
    ) -> None:
        self.dir = create(runs_dir, image, started)
        self._on_phase = on_phase
        self._fields: dict[str, Any] = {"started_at": started.isoformat(), **fields}
        self._data: dict[str, Any] = {}
        self._phases: list[tuple[str, float]] = []
        self._running: str | None = None
        self.run_id = run_id(self.dir.name, liveness.host())
        self._live: dict[str, Any] = {
            "run_id": self.run_id,
            "host": liveness.host(),
            "started": started.isoformat(),
            **_process_fields(liveness.this_process()),
        }
        atomic.write_text(self.dir / LIVE_NAME, json.dumps(self._live, indent=2) + "\n")

    def child_started(self, pid: int) -> None:
        """Record packer's process in live.json: it outlives packerpy by design (proc.stream)."""
        found = liveness.identify(pid)
        if found is not None:
            self._live["child"] = _process_fields(found)
            atomic.write_text(self.dir / LIVE_NAME, json.dumps(self._live, indent=2) + "\n")

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
        with signals.held():
            write_result(self.dir, self.payload(exc))
            # packer has exited too (proc.stream waits for it): nothing of this run is live.
            (self.dir / LIVE_NAME).unlink(missing_ok=True)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase; it counts as finished only when its block ends without an exception."""
        self._running = name
        if self._on_phase is not None:
            self._on_phase(name)
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


def run_id(dir_name: str, host: str) -> str:
    """The id packer's builder resources are tagged with (naming.RUN_TAG): `<run dir>@<host>`."""
    return f"{dir_name}@{host}"


def _process_fields(found: liveness.ProcessId) -> dict[str, Any]:
    return {"pid": found.pid, "create_time": found.create_time}


@dataclass(frozen=True)
class Live:
    """live.json as written: the processes of a run on `host`."""

    run_id: str
    host: str
    started: str
    processes: tuple[liveness.ProcessId, ...]

    def alive(self) -> bool:
        """Whether packerpy or packer of this run still runs (on this host: psutil)."""
        return any(liveness.is_running(process) for process in self.processes)


def read_live(run_dir: Path) -> Live | None:
    """The run's live.json; None when missing or unreadable (then age decides, see reap)."""
    try:
        data = json.loads((run_dir / LIVE_NAME).read_text(encoding="utf-8"))
        processes = [data, *([data["child"]] if "child" in data else [])]
        return Live(
            run_id=str(data["run_id"]),
            host=str(data["host"]),
            started=str(data["started"]),
            processes=tuple(
                liveness.ProcessId(int(p["pid"]), float(p["create_time"])) for p in processes
            ),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_alive(
    runs_dir: Path, run: str, *, launched: datetime, now: datetime, max_bake: timedelta
) -> tuple[bool, str]:
    """Whether the run `run` (a run id) may still be using its builder, and why.

    A run of this host with its record in `runs_dir` is alive while packerpy or packer runs
    (pid and create time, live.json). Any other run (another host, another project, no id) is
    presumed alive until its builder is older than `max_bake`.
    """
    name, _, host = run.rpartition("@")
    if name and host == liveness.host() and "/" not in name and name not in {".", ".."}:
        if (runs_dir / name / RESULT_NAME).is_file():
            return False, f"run {run} has finished"
        live = read_live(runs_dir / name)
        if live is not None and live.run_id == run:
            if live.alive():
                return True, f"run {run} is running"
            return False, f"run {run} is no longer running (no live packerpy or packer process)"
    age = now - launched
    hours = age.total_seconds() / 3600
    if age > max_bake:
        return (
            False,
            f"run {run or '(untagged)'}: launched {hours:.1f} h ago, over the max bake time",
        )
    return True, f"run {run or '(untagged)'}: launched {hours:.1f} h ago, within the max bake time"


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
