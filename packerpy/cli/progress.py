"""A build's progress as a person follows it: a live view on a terminal, timestamped lines in CI.

The core never prints: the bake reports a phase starting (`on_phase`), each packer event
(`on_event`) and each step line (`progress`); this module renders them. On a terminal (not
TERM=dumb) a rich Live view shows per build its phase, the bake's sub-phase derived from
packer's ui lines (launching, waiting, provisioning, creating AMI, copying to region X),
the elapsed time and packer's last lines; it is transient, so what stays in scrollback is the
summary table the command prints. Elsewhere (CI, a pipe, --json) every event is one plain
line on stderr with an ISO timestamp: `2026-11-27T05:30:01Z web bake: launching`. --quiet
shows nothing. (ux review 3.1-3.5: one spinner line, no phase, nothing before the end under
TERM=dumb, and no packer line left in scrollback.)
"""

from __future__ import annotations

import enum
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

from packerpy.packer.events import Event, RawLine, UiEvent, bake_stage

if TYPE_CHECKING:
    from packerpy.bake.pipeline import BuildResult

# packer lines kept under each build in the live view.
TAIL_LINES = 6
# Plain lines start flowing with these phases; the earlier ones (lint, lookup, render, claim:
# a few seconds) are held and printed then, with their own timestamps. A build that fails
# before them, like every config or AWS mistake, still says so in exactly one line.
FLOWING_PHASES = frozenset({"init", "bake", "steps"})


class Mode(enum.Enum):
    LIVE = "live"  # a terminal: the rich live view
    LINES = "lines"  # CI, a pipe, a dumb terminal, --json: one timestamped line per event
    QUIET = "quiet"  # --quiet: nothing until the result


def mode_for(console: Console, *, as_json: bool, quiet: bool) -> Mode:
    """The live view only on a real terminal and never with --json; nothing with --quiet."""
    if quiet:
        return Mode.QUIET
    if as_json or not console.is_terminal or console.is_dumb_terminal:
        return Mode.LINES
    return Mode.LIVE


def _utc_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class BuildView:
    """One build's progress; its methods are the pipeline's three callbacks."""

    def __init__(
        self,
        image: str,
        say: Callable[[str], None] | None,
        warn: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
        stamp: Callable[[], str] = _utc_stamp,
    ) -> None:
        self.image = image
        self.say = say  # where a plain line goes (LINES mode); None: the live view shows it
        self.warn = warn  # warnings are shown in every mode, --quiet included
        self.clock = clock
        self.stamp = stamp
        self.started = clock()
        self.phase_name = "starting"
        self.stage: str | None = None
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.ended: float | None = None
        self.lock = threading.Lock()
        self.held: list[str] | None = []  # plain lines before the first flowing phase

    def _line(self, text: str) -> None:
        if self.say is None:
            return
        line = f"{self.stamp()} {self.image} {text}"
        if self.held is not None:
            self.held.append(line)
            return
        self.say(line)

    def phase(self, name: str) -> None:
        with self.lock:
            self.phase_name, self.stage = name, None
        self._line(f"phase: {name}")
        if name in FLOWING_PHASES and self.held is not None and self.say is not None:
            held, self.held = self.held, None
            for line in held:
                self.say(line)

    def event(self, event: Event) -> None:
        if not isinstance(event, UiEvent | RawLine):
            return
        texts = [line for line in event.text.strip("\n").splitlines() if line.strip()]
        stage = bake_stage(event)
        with self.lock:
            self.tail.extend(texts)
            changed = stage is not None and stage != self.stage
            if changed:
                self.stage = stage
        if changed:
            self._line(f"bake: {stage}")
        for text in texts:
            self._line(f"packer: {text}")

    def step(self, line: str) -> None:
        if line.startswith("packerpy: WARNING"):
            self.warn(line)
            return
        with self.lock:
            self.tail.append(line)
        self._line(line)

    def finish(self, outcome: str) -> None:
        """The live view's last state; no line: the summary or the error line says it next."""
        with self.lock:
            self.phase_name, self.stage, self.ended = outcome, None, self.clock()

    def elapsed(self) -> float:
        return (self.ended if self.ended is not None else self.clock()) - self.started

    def status(self) -> str:
        """`web  bake: copying to region eu-west-1  42s`: what the live view's header says."""
        with self.lock:
            doing = f"{self.phase_name}: {self.stage}" if self.stage else self.phase_name
        return f"{self.image}  {doing}  {self.elapsed():.0f}s"

    def __rich__(self) -> RenderableType:
        with self.lock:
            tail = list(self.tail)
        lines = [Text(self.status(), style="bold")]
        lines += [
            Text(f"  {line}", style="dim", no_wrap=True, overflow="ellipsis") for line in tail
        ]
        return Group(*lines)


class Board:
    """The views of one command's builds: in one live display, or as plain lines."""

    def __init__(self, console: Console, mode: Mode) -> None:
        self.console = console
        self.mode = mode
        self.views: list[BuildView] = []
        self.lock = threading.Lock()

    def view(self, image: str) -> BuildView:
        say = self._say if self.mode is Mode.LINES else None
        made = BuildView(image, say, self._warn)
        with self.lock:
            self.views.append(made)
        return made

    def _say(self, line: str) -> None:
        with self.lock:  # concurrent builds: whole lines, never interleaved characters
            self.console.print(line, markup=False, highlight=False)

    def _warn(self, line: str) -> None:
        # Printed through the live display's console, it lands above the view, in scrollback.
        with self.lock:
            self.console.print(line, markup=False, highlight=False)

    def __rich__(self) -> RenderableType:
        with self.lock:
            return Group(*self.views)

    @contextmanager
    def shown(self) -> Iterator[Board]:
        """The live display for the `with` block (LIVE mode); it leaves no trace behind."""
        if self.mode is not Mode.LIVE:
            yield self
            return
        with Live(self, console=self.console, refresh_per_second=4, transient=True):
            yield self


def summary(result: BuildResult, table: Callable[..., RenderableType]) -> list[RenderableType]:
    """What stays in scrollback after a build: the outcome, a region/AMI table, the steps."""
    total = sum(result.timings.values())
    if result.skipped:
        heading = f"skipped the bake of {result.image}: {result.reason}"
    else:
        heading = (
            f"built {result.image} {result.version} with packer {result.packer_version} "
            f"in {total:.1f}s"
        )
    shown: list[RenderableType] = [heading]
    if result.amis:
        shown.append(table("region", "AMI", rows=sorted(result.amis.items())))
    steps = [
        (step.step, "; ".join(step.actions) if step.actions else "already converged")
        for step in result.steps
    ]
    if steps:
        shown.append(table("step", "did", rows=steps))
    shown.append(f"run record: {result.run_dir}")
    return shown
