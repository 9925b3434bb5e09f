"""The packer binary: version detection, command lines, and running them through proc.

Command builders are pure functions returning lists (tests compare them by equality); the
runners turn a missing binary, a rejected template and a failed build into distinct errors.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from packerpy.errors import (
    InterruptedByUser,
    PackerError,
    PackerMissingError,
    PackerTemplateError,
)
from packerpy.packer.events import ErrorEvent, Event, RawLine, UiEvent, error_text, parse_line
from packerpy.support import proc

INSTALL_HINT = (
    "install Packer >= 1.6 (Debian/Ubuntu: apt-get install packer; "
    "others: https://developer.hashicorp.com/packer/install) or set PACKERPY_PACKER"
)
# From 1.7 packer loads the amazon builder as a plugin declared in required_plugins.
PLUGINS_SINCE = (1, 7, 0)
AMAZON_PLUGIN_SOURCE = "github.com/hashicorp/amazon"
AMAZON_PLUGIN_VERSION = ">= 1.2.0"  # imds_support arrived in the amazon plugin 1.2
# Lines of packer's output shown under a failure; the full log is named in the message.
ERROR_TAIL_LINES = 6


@dataclass(frozen=True)
class PackerInfo:
    binary: str
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def uses_plugins(self) -> bool:
        """`packer { required_plugins }` and `packer init` exist (1.6 rejects both)."""
        return self.version >= PLUGINS_SINCE

    @property
    def amazon_plugin_options(self) -> bool:
        """Options only the external amazon plugin knows: org/OU sharing, IMDS, deprecate_at."""
        return self.version >= PLUGINS_SINCE


def environment(
    base: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """packer's environment: ours, minus HashiCorp's update check (a network call per run)."""
    env = {**(os.environ if base is None else base), **(extra or {})}
    env["CHECKPOINT_DISABLE"] = "1"
    return env


def _binary() -> str:
    return os.environ.get("PACKERPY_PACKER", "packer")


def detect(binary: str | None = None) -> PackerInfo:
    """Find packer and read its version; cached per binary for the life of the process."""
    return _detect(binary or _binary())


@cache
def _detect(binary: str) -> PackerInfo:
    path = shutil.which(binary)
    if path is None:
        raise PackerMissingError(f"packer: {binary!r} not found on PATH; {INSTALL_HINT}")
    try:
        done = proc.run([path, "version"], env=environment(), timeout=30)
    except proc.ToolMissing:
        raise PackerMissingError(f"packer: {path} cannot be run; {INSTALL_HINT}") from None
    match = re.search(r"Packer v(\d+)\.(\d+)\.(\d+)", done.output)
    if done.returncode != 0 or match is None:
        raise PackerMissingError(
            f"packer: {path} did not report a version (exit {done.returncode}); {INSTALL_HINT}",
        )
    major, minor, patch = (int(part) for part in match.groups())
    return PackerInfo(binary=path, version=(major, minor, patch))


def init_command(info: PackerInfo, template: Path) -> list[str]:
    return [info.binary, "init", str(template)]


def fmt_check_command(info: PackerInfo, template: Path) -> list[str]:
    return [info.binary, "fmt", "-check", "-diff", str(template)]


def validate_command(
    info: PackerInfo, template: Path, var_file: Path, *, syntax_only: bool = False
) -> list[str]:
    flags = ["-syntax-only"] if syntax_only else [f"-var-file={var_file}"]
    return [info.binary, "validate", *flags, str(template)]


def build_command(
    info: PackerInfo, template: Path, var_file: Path, *, only: Sequence[str] = ()
) -> list[str]:
    return [
        info.binary,
        "build",
        "-machine-readable",
        "-color=false",
        f"-var-file={var_file}",
        *(f"-only={name}" for name in only),
        str(template),
    ]


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
    info: PackerInfo, template: Path, var_file: Path, *, secrets: Mapping[str, str] | None = None
) -> None:
    done = _run(
        validate_command(info, template, var_file),
        cwd=template.parent,
        timeout=60,
        extra=secret_environment(secrets or {}),
    )
    _check(done, "validate", template)


@dataclass(frozen=True)
class BuildOutcome:
    command: tuple[str, ...]
    errors: tuple[str, ...]


def build(
    info: PackerInfo,
    template: Path,
    var_file: Path,
    *,
    log_path: Path,
    on_event: Callable[[Event], None] = lambda _event: None,
    timeout: float | None = None,
    secrets: Mapping[str, str] | None = None,
) -> BuildOutcome:
    """Run `packer build`, streaming typed events; packer's full output goes to `log_path`.

    Runs in the template's directory, so relative outputs (the manifest) land beside it.
    `secrets` (variable name -> value) go to packer as PKR_VAR_* and are redacted from every
    line of its output before packerpy logs, shows or keeps it.
    """
    command = build_command(info, template, var_file)
    errors: list[str] = []
    build_errors: list[str] = []  # `error` lines: one clean message per failed build
    started = False  # a line naming a build target: packer got past reading the template

    def on_line(line: str) -> None:
        nonlocal started
        event = parse_line(line)
        if (text := error_text(event)) is not None:
            if isinstance(event, ErrorEvent):
                build_errors.append(one_line(text))
            else:
                errors.append(_first_error(text) or one_line(text))
        if not isinstance(event, RawLine) and event.target:
            started = True
        on_event(event)

    with log_path.open("w", encoding="utf-8") as log:
        try:
            done = proc.stream(
                command,
                on_line=on_line,
                cwd=template.parent,
                env=environment(extra=secret_environment(secrets or {})),
                log=log,
                timeout=timeout,
                redact=list((secrets or {}).values()),
            )
        except proc.ToolMissing:
            raise PackerMissingError(
                f"packer: {info.binary} cannot be run; {INSTALL_HINT}"
            ) from None
    tail = tuple(text for line in done.tail if (text := _readable(line)))[-ERROR_TAIL_LINES:]
    if done.signal is not None:
        name = signal.Signals(done.signal).name
        raise InterruptedByUser(
            f"interrupted ({name}): packer was cancelled and cleaned up (exit {done.returncode}); "
            f"log: {log_path}",
            command=command,
            returncode=done.returncode,
            tail=tail,
        )
    if done.timed_out:
        raise PackerError(
            f"packer build timed out after {timeout:g}s and was cancelled; log: {log_path}",
            command=command,
            returncode=done.returncode,
            tail=tail,
        )
    if done.returncode != 0 and not started:
        # packer reads and validates the whole template before it launches anything; a failure
        # before any build target spoke is the template's, as `packer validate` would report.
        first = errors[0] if errors else f"exit {done.returncode}"
        raise PackerTemplateError(
            f"{template.name}: packer rejected the template: {first}",
            command=command,
            returncode=done.returncode,
            tail=tail,
        )
    if done.returncode != 0:
        found = build_errors or errors
        first = found[0] if found else f"exit {done.returncode}"
        raise PackerError(
            f"packer build failed (exit {done.returncode}): {first}; log: {log_path}",
            command=command,
            returncode=done.returncode,
            tail=tail,
        )
    return BuildOutcome(command=tuple(command), errors=tuple(build_errors or errors))


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
