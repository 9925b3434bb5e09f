"""packer's -machine-readable output as typed events.

Each line is `timestamp,target,type,data...`; packer writes commas inside data as
`%!(PACKER_COMMA)` and newlines as a literal backslash-n.
"""

from __future__ import annotations

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
