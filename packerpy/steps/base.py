"""The step protocol and registry.

A step receives what was baked (image, version, region -> AMI) and the AWS client factory,
converges AWS to the config, and reports what it changed, or in a dry run what it would change.
Steps must be idempotent: run twice, the second run changes nothing and makes no mutating call.

Third-party steps register under the entry-point group `packerpy.steps`:

    [project.entry-points."packerpy.steps"]
    notify = "mypkg.steps:NotifyStep"
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, ClassVar, Protocol, runtime_checkable

from packerpy.aws import AwsClients
from packerpy.config import ImageConfig
from packerpy.errors import ConfigError

ENTRY_POINT_GROUP = "packerpy.steps"


@dataclass(frozen=True)
class BuiltImage:
    """What a bake produced (or, for later runs, what already exists): the input to every step."""

    image: str
    version: str
    amis: Mapping[str, str]  # region -> AMI id
    config: ImageConfig
    # packerpy:* tags recording how it was built (git, base AMI, fingerprint, packer, time).
    provenance: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StepContext:
    built: BuiltImage
    aws: AwsClients
    dry_run: bool = False


@dataclass(frozen=True)
class StepResult:
    step: str
    changed: bool
    # One line per change made (or, in a dry run, planned), e.g. "us-east-1: tag ami-1, snap-2".
    actions: tuple[str, ...] = ()
    dry_run: bool = False
    data: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Step(Protocol):
    name: ClassVar[str]

    def run(self, ctx: StepContext) -> StepResult: ...


def _builtin() -> dict[str, type[Step]]:
    from packerpy.steps.tag import TagStep  # noqa: PLC0415 - avoid a cycle at import

    return {TagStep.name: TagStep}


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
