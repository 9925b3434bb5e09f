"""Running packer: init, fmt, validate and build, each failure turned into a typed error.

A missing binary is PackerMissingError, a template packer rejects is PackerTemplateError, a
failed or timed-out build is PackerError, and a cancelled one InterruptedByUser. Secrets reach
packer only as PKR_VAR_* environment and are redacted from everything it prints.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Callable, Mapping
from pathlib import Path

from packerpy.errors import (
    ConfigError,
    InterruptedByUser,
    PackerError,
    PackerMissingError,
    PackerTemplateError,
)
from packerpy.packer.binary import (
    INSTALL_HINT,
    BuildFlags,
    PackerInfo,
    build_command,
    environment,
    fmt_check_command,
    init_command,
    validate_command,
)
from packerpy.packer.events import ErrorEvent, Event, RawLine, UiEvent, error_text, parse_line
from packerpy.packer.redact import Redactor
from packerpy.support import proc

# Lines of packer's output shown under a failure; the full log is named in the message.
ERROR_TAIL_LINES = 6
# packer's first `==> BUILD: ...` line: a build step is running, so the template was accepted.
# In machine-readable mode every `ui` line has an empty target and carries the build's name in
# this prefix (packer/ui.go TargetedUI; measured with packer 1.6.6: 66 of 66 ui lines); only
# `artifact*` and `error` lines name a target.
_BUILD_SPEAKS = re.compile(r"==> [\w.-]+: ")


def _check(done: proc.Completed, what: str, template: Path) -> None:
    if done.returncode == 0:
        return
    first = _first_error(done.output) or f"exit {done.returncode}"
    raise PackerTemplateError(
        f"{template.name}: packer {what} failed: {first}",
        command=done.command,
        returncode=done.returncode,
        tail=done.tail(),
    )


def _first_error(output: str) -> str | None:
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


def secret_environment(secrets: Mapping[str, str]) -> dict[str, str]:
    """Sensitive variables reach packer only as PKR_VAR_* environment, never in a file."""
    return {f"PKR_VAR_{name}": value for name, value in secrets.items()}


def _run(
    command: list[str], *, cwd: Path, timeout: float, extra: Mapping[str, str] | None = None
) -> proc.Completed:
    try:
        return proc.run(command, cwd=cwd, env=environment(extra=extra), timeout=timeout)
    except proc.ToolMissing:
        raise PackerMissingError(f"packer: {command[0]} cannot be run; {INSTALL_HINT}") from None


def init(info: PackerInfo, template: Path) -> None:
    """Install the plugins the template declares (packer >= 1.7 only)."""
    if info.uses_plugins:
        _check(
            _run(init_command(info, template), cwd=template.parent, timeout=300), "init", template
        )


def fmt_diff(info: PackerInfo, template: Path) -> str | None:
    """None when the file is in packer's canonical format, else the diff packer would apply."""
    done = _run(fmt_check_command(info, template), cwd=template.parent, timeout=60)
    if done.returncode == 0:
        return None
    if done.returncode == 3 or "---" in done.output:  # 3: the file needs formatting
        return done.output
    _check(done, "fmt", template)
    return None


def validate(
    info: PackerInfo,
    template: Path,
    var_file: Path,
    *,
    secrets: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> None:
    done = _run(
        validate_command(info, template, var_file),
        cwd=cwd or template.parent,
        timeout=60,
        extra=secret_environment(secrets or {}),
    )
    _check(done, "validate", template)


class _BuildLines:
    """What packer's output said as it streamed: errors, and whether a build had started."""

    def __init__(self, on_event: Callable[[Event], None]) -> None:
        self.on_event = on_event
        self.errors: list[str] = []
        self.build_errors: list[str] = []  # `error` lines: one clean message per failed build
        self.started = False  # a build step ran: packer had accepted the template

    def __call__(self, line: str) -> None:
        event = parse_line(line)
        if (text := error_text(event)) is not None:
            if isinstance(event, ErrorEvent):
                self.build_errors.append(one_line(text))
            else:
                self.errors.append(_first_error(text) or one_line(text))
        if not self.started:
            self.started = _has_started(event)
        self.on_event(event)


def _has_started(event: Event) -> bool:
    """A build step speaking (`==> web.amazon-ebs.web: ...`), or a line about a build's result
    (`artifact`, `error`: only those carry a target)."""
    if isinstance(event, UiEvent):
        return _BUILD_SPEAKS.match(event.text) is not None
    return not isinstance(event, RawLine) and bool(event.target)


def build(  # noqa: PLR0913 - keyword-only, each an independent input of one packer run
    info: PackerInfo,
    template: Path,
    var_file: Path,
    *,
    log_path: Path,
    on_event: Callable[[Event], None] = lambda _event: None,
    timeout: float | None = None,
    secrets: Mapping[str, str] | None = None,
    on_start: Callable[[int], None] | None = None,
    flags: BuildFlags | None = None,
    cwd: Path | None = None,
    endpoint: str | None = None,
) -> None:
    """Run `packer build`, streaming typed events; packer's full output goes to `log_path`.
    Runs in the template's directory (or `cwd`): relative outputs (the manifest) land there.
    `secrets` (variable name -> value) go to packer as PKR_VAR_* and are redacted from every
    line of its output before packerpy logs, shows or keeps it. packer itself writes to
    raw_log_path(log_path) (0600, unredacted), which packerpy follows and removes once packer
    has exited: if packerpy is killed, packer finishes or cleans up by itself and the raw log
    keeps what it said. `on_start` receives packer's pid; `endpoint` confines packer to it."""
    command = build_command(info, template, var_file, flags=flags)
    lines = _BuildLines(on_event)
    raw = raw_log_path(log_path)
    try:
        grace = proc.cleanup_grace(os.environ)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    redactor = Redactor((secrets or {}).values())
    with log_path.open("w", encoding="utf-8") as log:
        try:
            done = proc.stream(
                command,
                on_line=lines,
                output=raw,
                cwd=cwd or template.parent,  # adopted: inside it (relative script paths)
                env=environment(extra=secret_environment(secrets or {}), confine_to=endpoint),
                log=log,
                timeout=timeout,
                grace=grace,
                redact=redactor.line,
                on_start=on_start,
            )
        except proc.ToolMissing:
            raise PackerMissingError(
                f"packer: {info.binary} cannot be run; {INSTALL_HINT}"
            ) from None
        finally:
            # stream() returns or raises only once packer has exited and its lines are in
            # log_path, redacted; only a packerpy killed outright leaves the raw log behind.
            raw.unlink(missing_ok=True)
    try:
        _raise_for(
            done, lines, command=command, template=template, log_path=log_path, timeout=timeout
        )
    except PackerError as exc:
        # Messages and tails come from redacted lines; joining lines (one_line) can rebuild a
        # multi-line value's collapsed form, so the error is redacted once more as a whole.
        raise redactor.error(exc) from None


def raw_log_path(log_path: Path) -> Path:
    """Where packer writes its own output: `packer.raw.log` beside `packer.log`."""
    return log_path.with_name(f"{log_path.stem}.raw{log_path.suffix}")


def _raise_for(
    done: proc.Streamed,
    lines: _BuildLines,
    *,
    command: list[str],
    template: Path,
    log_path: Path,
    timeout: float | None,
) -> None:
    """The typed error for a build that did not succeed; nothing when it did."""
    tail = tuple(text for line in done.tail if (text := _readable(line)))[-ERROR_TAIL_LINES:]

    def error(kind: type[PackerError], message: str) -> PackerError:
        return kind(message, command=command, returncode=done.returncode, tail=tail)

    if done.signal is not None:
        name = signal.Signals(done.signal).name
        raise error(
            InterruptedByUser,
            f"interrupted ({name}): packer was cancelled and cleaned up (exit {done.returncode}); "
            f"log: {log_path}",
        )
    if done.timed_out:
        raise error(
            PackerError,
            f"packer build timed out after {timeout:g}s and was cancelled; log: {log_path}",
        )
    if done.returncode != 0 and not lines.started:
        # packer reads and validates the whole template before it runs a build step; a failure
        # before the first `==> BUILD:` line is the template's, as `packer validate` reports.
        first = lines.errors[0] if lines.errors else f"exit {done.returncode}"
        raise error(PackerTemplateError, f"{template.name}: packer rejected the template: {first}")
    if done.returncode != 0:
        found = lines.build_errors or lines.errors
        first = found[0] if found else f"exit {done.returncode}"
        raise error(
            PackerError, f"packer build failed (exit {done.returncode}): {first}; log: {log_path}"
        )


def one_line(text: str, limit: int = 300) -> str:
    """A multi-line packer message as one line, without the `==> build.name:` prefixes."""
    parts = [re.sub(r"^(==>|-->)\s*[\w.-]+:\s?", "", line.strip()) for line in text.splitlines()]
    flat = " ".join(" ".join(parts).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _readable(line: str) -> str | None:
    """A machine-readable line as a person would read it (for error tails); None to drop it."""
    event = parse_line(line)
    if isinstance(event, UiEvent | ErrorEvent | RawLine):
        return one_line(event.text) or None
    return None
