"""packer's -machine-readable output as typed events.

Each line is `timestamp,target,type,data...`; packer writes commas inside data as
`%!(PACKER_COMMA)` and newlines as a literal backslash-n.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_COMMA = "%!(PACKER_COMMA)"


@dataclass(frozen=True, slots=True)
class UiEvent:
    """Human output: level is say, message or error."""

    target: str
    level: str
    text: str


@dataclass(frozen=True, slots=True)
class ArtifactEvent:
    target: str
    index: int
    key: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    target: str
    text: str


@dataclass(frozen=True, slots=True)
class OtherEvent:
    target: str
    type: str
    data: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RawLine:
    """A line that is not machine-readable (packer prints a few of those, e.g. on panics)."""

    text: str


Event = UiEvent | ArtifactEvent | ErrorEvent | OtherEvent | RawLine


def unescape(field: str) -> str:
    if "%" in field:
        field = field.replace(_COMMA, ",")
    if "\\" in field:
        field = field.replace("\\n", "\n").replace("\\r", "\r")
    return field


def parse_line(line: str) -> Event:
    parts = line.split(",")
    if len(parts) < 3 or not parts[0].isdigit():
        return RawLine(line)
    target, kind = parts[1], parts[2]
    data = tuple(unescape(field) for field in parts[3:])
    if kind == "ui" and len(data) >= 2:
        return UiEvent(target, data[0], data[1])
    if kind == "artifact" and len(data) >= 2 and data[0].isdigit():
        return ArtifactEvent(target, int(data[0]), data[1], data[2:])
    if kind == "error" and data:
        return ErrorEvent(target, data[0])
    return OtherEvent(target, kind, data)


def error_text(event: Event) -> str | None:
    """The message of an error-level event, else None."""
    if isinstance(event, UiEvent) and event.level == "error":
        return event.text
    if isinstance(event, ErrorEvent):
        return event.text
    return None


# packer prefixes every ui line of a build with `==> NAME: ` (say, error) or `    NAME: `
# (message): packer/ui.go TargetedUI; measured with packer 1.6.6.
_PREFIX = re.compile(r"^\s*(?:==>|-->)?\s*[\w.-]+: ")

# A bake's sub-phases, from the amazon builder's own ui lines (packer 1.6.6 builder/amazon and
# the hashicorp/packer-plugin-amazon sources: step_run_source_instance, step_create_ami,
# step_ami_region_copy; "Provisioning with" is packer core's provisioner hook). First match
# wins; the region of "Copying to: R" (ui.Message in 1.6.6, ui.Sayf in newer plugins) is kept.
_STAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), stage)
    for pattern, stage in (
        (r"^Launching a source AWS instance", "launching"),
        (r"^Waiting for instance .*to become ready", "waiting for the instance"),
        (r"^Waiting for SSH", "waiting for SSH"),
        (r"^(Provisioning with|Running local shell script)", "provisioning"),
        (r"^Stopping the source instance", "stopping the instance"),
        (r"^Creating AMI tags", "tagging"),  # before "creating AMI", which it would match
        (r"^Creating (unencrypted |encrypted )?AMI ", "creating AMI"),
        (r"^Copying to: (?P<region>[\w-]+)", "copying to region {region}"),
        (r"^Copying/Encrypting AMI", "copying to other regions"),
        (r"^Modifying attributes on AMI", "sharing"),
        (r"^Adding tags to AMI", "tagging"),
        (r"^Terminating the source AWS instance", "cleaning up"),
        (r"^Running post-processor", "post-processing"),
    )
)


def bake_stage(event: Event) -> str | None:
    """The bake sub-phase a packer ui line starts (`launching`, `copying to region X`...)."""
    if not isinstance(event, UiEvent):
        return None
    text = _PREFIX.sub("", event.text.strip(), count=1)
    for pattern, stage in _STAGES:
        if found := pattern.match(text):
            return stage.format(**found.groupdict())
    return None


def human_text(event: Event) -> str | None:
    """The line as packer prints it without -machine-readable (packer.txt); None: not shown."""
    if isinstance(event, UiEvent | RawLine):
        return event.text
    return None
