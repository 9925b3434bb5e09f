"""How to build, apart from what: callbacks, limits, packer's own options and overrides."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypedDict

from packerpy.bake.plan import Choice
from packerpy.packer.binary import BuildFlags
from packerpy.packer.events import Event


def _ignore(_value: object) -> None:
    """The default callback: progress goes nowhere."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class BuildOptions:
    """How to build, apart from what: callbacks, limits and overrides of the defaults."""

    on_event: Callable[[Event], None] = _ignore  # packer's progress
    progress: Callable[[str], None] = _ignore  # the steps' progress lines
    on_phase: Callable[[str], None] = _ignore  # progress hook: a phase (lint, bake...) starts
    timeout: float | None = None  # cancel packer after this many seconds
    force_bake: bool = False  # bake even when an AMI with identical inputs exists
    skip_lint: bool = False  # bake despite lint errors (the run record says so)
    now: Callable[[], datetime] = _utc_now
    environ: Mapping[str, str] | None = None  # where secrets are read; None: os.environ
    # --var, --var-file, --allow-older (what the fingerprint and the version rules see)
    choice: Choice = field(default_factory=Choice)
    flags: BuildFlags = field(default_factory=BuildFlags)  # packer's own options, passed through


class BuildOverrides(TypedDict, total=False):
    """BuildOptions' fields as keyword arguments of build(), as callers have always passed them."""

    on_event: Callable[[Event], None]
    progress: Callable[[str], None]
    on_phase: Callable[[str], None]
    timeout: float | None
    force_bake: bool
    skip_lint: bool
    now: Callable[[], datetime]
    environ: Mapping[str, str] | None
    choice: Choice
    flags: BuildFlags
