"""A rollout's inputs, events and result: frozen data, no AWS.

Durations and canary steps are checked here so a bad `--canary` or `--bake-time` is one line
naming the option and its value (exit 2) before any AWS call.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from packerpy.errors import ConfigError

STRATEGIES = ("blue-green", "rolling")
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)?")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def seconds(option: str, value: str) -> float:
    """`90s`, `10m`, `1h`, `500ms` or plain seconds, as a float; ConfigError naming the option."""
    found = _DURATION.fullmatch(value.strip())
    if found is None:
        raise ConfigError(f"{option} {value!r}: not a duration like 60s, 10m or 1h")
    return float(found.group(1)) * _UNIT[found.group(2) or "s"]


def percentages(value: str) -> tuple[int, ...]:
    """`--canary 10,50,100`: whole percentages, strictly increasing, the last one 100."""
    try:
        steps = tuple(int(part) for part in value.split(","))
    except ValueError:
        raise ConfigError(
            f"--canary {value!r}: not a comma-separated list of percentages"
        ) from None
    if any(not 1 <= p <= 100 for p in steps) or list(steps) != sorted(set(steps)):
        raise ConfigError(f"--canary {value!r}: percentages must increase, each from 1 to 100")
    if steps[-1] != 100:
        raise ConfigError(f"--canary {value!r}: the last step must be 100 (every instance)")
    return steps


def green_sizes(desired: int, steps: tuple[int, ...]) -> tuple[int, ...]:
    """Green's desired capacity at each step: the percentage of blue's, rounded up."""
    return tuple(math.ceil(desired * p / 100) for p in steps)


@dataclass(frozen=True)
class Event:
    """What the core reports while it works; the CLI renders it (the core never prints)."""

    kind: str  # plan | claim | step | wait | healthy | bake | shrink | done | rollback | resume
    message: str
    step: int | None = None
    healthy: int | None = None
    wanted: int | None = None


def _silent(_event: Event) -> None:
    """The default event callback: nowhere."""


@dataclass(frozen=True)
class RolloutOptions:
    image: str
    channel: str
    asg: str  # the group's name as users know it (see README "Rollouts": it follows green)
    region: str
    strategy: str = "blue-green"
    steps: tuple[int, ...] = (10, 50, 100)
    bake_time: float = 60.0
    health_timeout: float = 600.0
    alarms: tuple[str, ...] = ()
    keep_blue: bool = False
    min_healthy: int = 90  # rolling: Preferences.MinHealthyPercentage
    poll: float = 5.0  # seconds between health readings
    on_event: Callable[[Event], None] = field(default=_silent, compare=False)


@dataclass(frozen=True)
class Reading:
    """One health reading of green at a step."""

    at: float  # seconds since the rollout started
    in_service: int
    healthy_targets: int
    wanted: int
    alarm: str | None = None


@dataclass(frozen=True)
class StepRecord:
    index: int
    percent: int
    green: int  # green's desired capacity
    blue: int  # blue's desired capacity after the step
    seconds: float  # how long the step took (wait + bake)
    readings: tuple[Reading, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "percent": self.percent,
            "green": self.green,
            "blue": self.blue,
            "seconds": round(self.seconds, 3),
            "readings": [
                {
                    "at": round(r.at, 3),
                    "in_service": r.in_service,
                    "healthy_targets": r.healthy_targets,
                    "wanted": r.wanted,
                    "alarm": r.alarm,
                }
                for r in self.readings
            ],
        }
