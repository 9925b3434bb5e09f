"""Reading packer's output for a person: the first diagnostic, the lines a failure shows.

packer 1.6 has no JSON diagnostics, so this follows its wording (measured with 1.6.6): a
template error is `Error: summary` plus `on FILE line N:`; a failed build prints its steps'
error lines, then `Build 'NAME' errored ...` and a summary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TextIO

from packerpy.packer.events import (
    ErrorEvent,
    Event,
    RawLine,
    UiEvent,
    error_text,
    human_text,
    parse_line,
)

# Lines of packer's output shown under a failure; the full log is named in the message.
ERROR_TAIL_LINES = 6
# Error lines a build printed before packer's own "Build 'x' errored" summary: the provisioner
# script's stderr (`==> web.amazon-ebs.web: oops`) and the failing step's error. The review
# saw a 6-line tail of packer boilerplate that left the script's own error out (ux review 3.3).
ERROR_DETAIL_LINES = 10
# The human-readable copy of packer's output beside packer.log: the ui lines as packer prints
# them without -machine-readable (packer.log stays the machine-readable stream).
HUMAN_LOG_NAME = "packer.txt"
_ERRORED = re.compile(r"^Build '[^']+' errored")
# packer's first `==> BUILD: ...` line: a build step is running, so the template was accepted.
# In machine-readable mode every `ui` line has an empty target and carries the build's name in
# this prefix (packer/ui.go TargetedUI; measured with packer 1.6.6: 66 of 66 ui lines); only
# `artifact*` and `error` lines name a target.
_BUILD_SPEAKS = re.compile(r"==> [\w.-]+: ")


def first_error(output: str) -> str | None:
    """packer's first diagnostic as one line: `summary (line N): detail`.

    packer prints `Error: summary`, an indented `on FILE line N:` with a source excerpt, then
    an unindented detail sentence; or `Error: N error(s) occurred:` followed by `* ...` bullets.
    """
    lines = output.splitlines()
    for index, raw in enumerate(lines):
        if not raw.startswith("Error:"):
            continue
        summary = raw.removeprefix("Error:").strip()
        following = lines[index + 1 :]
        if summary.endswith("error(s) occurred:"):
            bullets = [line.strip() for line in following if line.strip().startswith("* ")]
            return bullets[0].removeprefix("* ") if bullets else summary
        location = detail = None
        for line in following:
            text = line.strip()
            if line.startswith("Error:"):
                break
            if not text:
                continue
            if location is None and (found := re.match(r"on .+ line (\d+)", text)):
                location = f"line {found.group(1)}"
            elif not line.startswith((" ", "\t")):
                detail = text
                break
        where = f" ({location})" if location else ""
        return f"{summary}{where}: {detail}" if detail else f"{summary}{where}"
    return None


class BuildLines:
    """What packer's output said as it streamed: errors, and whether a build had started."""

    def __init__(self, on_event: Callable[[Event], None], human: TextIO | None = None) -> None:
        self.on_event = on_event
        self.human = human  # packer.txt: what packer would have printed to a person
        self.errors: list[str] = []
        self.build_errors: list[str] = []  # `error` lines: one clean message per failed build
        self.said: list[str] = []  # error lines before packer's "Build ... errored" summary
        self.summarised = False  # packer printed its "Build ... errored" summary
        self.started = False  # a build step ran: packer had accepted the template

    def __call__(self, line: str) -> None:
        event = parse_line(line)
        if (text := error_text(event)) is not None:
            if isinstance(event, ErrorEvent):
                self.build_errors.append(one_line(text))
            else:
                self.errors.append(first_error(text) or one_line(text))
                self._said(text)
        if self.human is not None and (shown := human_text(event)) is not None:
            self.human.write(shown.rstrip("\n") + "\n")
        if not self.started:
            self.started = has_started(event)
        self.on_event(event)

    def _said(self, text: str) -> None:
        self.summarised = self.summarised or _ERRORED.match(text.strip()) is not None
        if not self.summarised and (flat := one_line(text)):
            self.said = [*self.said, flat][-ERROR_DETAIL_LINES:]


def has_started(event: Event) -> bool:
    """A build step speaking (`==> web.amazon-ebs.web: ...`), or a line about a build's result
    (`artifact`, `error`: only those carry a target)."""
    if isinstance(event, UiEvent):
        return _BUILD_SPEAKS.match(event.text) is not None
    return not isinstance(event, RawLine) and bool(event.target)


def one_line(text: str, limit: int = 300) -> str:
    """A multi-line packer message as one line, without the `==> build.name:` prefixes."""
    parts = [re.sub(r"^(==>|-->)\s*[\w.-]+:\s?", "", line.strip()) for line in text.splitlines()]
    flat = " ".join(" ".join(parts).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def readable(line: str) -> str | None:
    """A machine-readable line as a person would read it (for error tails); None to drop it."""
    event = parse_line(line)
    if isinstance(event, UiEvent | ErrorEvent | RawLine):
        return one_line(event.text) or None
    return None
