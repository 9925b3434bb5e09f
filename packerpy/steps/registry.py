"""Which steps exist: the built-ins, then plugins under the `packerpy.steps` entry-point group.

Third-party steps register under the entry-point group:

    [project.entry-points."packerpy.steps"]
    notify = "mypkg.steps:NotifyStep"
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import entry_points

from packerpy.errors import ConfigError
from packerpy.steps.copy import CopyStep
from packerpy.steps.deprecate import DeprecateStep
from packerpy.steps.protocol import Step
from packerpy.steps.share import ShareStep
from packerpy.steps.tag import TagStep

ENTRY_POINT_GROUP = "packerpy.steps"


def _builtin() -> dict[str, type[Step]]:
    return {step.name: step for step in (CopyStep, ShareStep, TagStep, DeprecateStep)}


def available() -> dict[str, type[Step]]:
    """Built-in steps plus those installed under the entry-point group (built-ins win)."""
    found: dict[str, type[Step]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.load()
    return {**found, **_builtin()}


def resolve(names: Sequence[str], *, where: str) -> list[Step]:
    """Instantiate the configured steps in order; an unknown name is a ConfigError."""
    known = available()
    steps: list[Step] = []
    for index, name in enumerate(names):
        if name not in known:
            raise ConfigError(
                f"{where}[{index}]: {name!r} is not a known step "
                f"(known: {', '.join(sorted(known))})"
            )
        step = known[name]()
        if not isinstance(step, Step):
            raise ConfigError(f"{where}[{index}]: {name!r} does not implement the step protocol")
        steps.append(step)
    return steps
