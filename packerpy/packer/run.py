"""Running packer: init, fmt, validate and build, each failure turned into a typed error.

A missing binary is PackerMissingError, a template packer rejects is PackerTemplateError, a
failed or timed-out build is PackerError, and a cancelled one InterruptedByUser. Secrets reach
packer only as PKR_VAR_* environment and are redacted from everything it prints.
"""

from __future__ import annotations

import os
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
from packerpy.packer.diagnostics import (
    ERROR_TAIL_LINES,
    HUMAN_LOG_NAME,
    BuildLines,
    first_error,
    one_line,
    readable,
)
from packerpy.packer.events import Event
from packerpy.packer.redact import Redactor
from packerpy.support import proc


def _check(done: proc.Completed, what: str, template: Path) -> None:
    if done.returncode == 0:
        return
    first = first_error(done.output) or f"exit {done.returncode}"
    raise PackerTemplateError(
        f"{template.name}: packer {what} failed: {first}",
        command=done.command,
        returncode=done.returncode,
        tail=done.tail(),
    )


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
    raw = raw_log_path(log_path)
    try:
        grace = proc.cleanup_grace(os.environ)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    redactor = Redactor((secrets or {}).values())
    human = human_log_path(log_path)
    with log_path.open("w", encoding="utf-8") as log, human.open("w", encoding="utf-8") as text:
        lines = BuildLines(on_event, text)
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


def human_log_path(log_path: Path) -> Path:
    """Where packer's output is kept as a person reads it: `packer.txt` beside `packer.log`."""
    return log_path.with_name(HUMAN_LOG_NAME)


def raw_log_path(log_path: Path) -> Path:
    """Where packer writes its own output: `packer.raw.log` beside `packer.log`."""
    return log_path.with_name(f"{log_path.stem}.raw{log_path.suffix}")


def _raise_for(
    done: proc.Streamed,
    lines: BuildLines,
    *,
    command: list[str],
    template: Path,
    log_path: Path,
    timeout: float | None,
) -> None:
    """The typed error for a build that did not succeed; nothing when it did.

    Its detail is what the build itself said went wrong (the script's stderr, the failing
    step), else the last lines of packer's output, then where the readable log is.
    """
    shown = tuple(text for line in done.tail if (text := readable(line)))
    said = tuple(lines.said) if done.returncode != 0 and lines.started else ()
    tail = (
        *(said or shown[-ERROR_TAIL_LINES:]),
        f"packer's output: {human_log_path(log_path)}",
    )

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


__all__ = [
    "ERROR_TAIL_LINES",
    "build",
    "fmt_diff",
    "human_log_path",
    "init",
    "one_line",
    "raw_log_path",
    "secret_environment",
    "validate",
]
