"""What the command line prints: a command's text lines, or exactly one JSON envelope.

Results go to stdout; progress, warnings and errors go to stderr. With --json, stdout holds one
`contract.Envelope` and nothing else, success or failure. Printing is plain: rich markup and
emoji codes are never interpreted, so a path like `[/oops]` or text from AWS, packer or a config
file is shown exactly as it is.

Terminals that cannot encode a character (PYTHONIOENCODING=ascii, a C locale without
coercion) get a replacement character in text and ASCII-escaped JSON, never an exception:
before, a UnicodeEncodeError while printing the result was raised again while printing the
error, and left a traceback and an empty stdout under --json.
"""

from __future__ import annotations

import codecs
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from typing import IO, TYPE_CHECKING, Any

from packerpy.cli.commands import command_of
from packerpy.errors import EXIT_OK
from packerpy.support import signals

if TYPE_CHECKING:
    import typer
    from rich.console import Console, RenderableType
    from rich.table import Table

    from packerpy.contract import Data

# `out` (stdout) and `err` (stderr) are made on first use (module __getattr__): rich.console
# was about a third of `packerpy --help`'s imports, and --help prints through click, not rich
# (issue 11 point 10: --help <= 8x a bare interpreter).
_CONSOLES: dict[str, Console] = {}


def console(name: str) -> Console:
    """The `out` or `err` console, made once per process."""
    made = _CONSOLES.get(name)
    if made is None:
        from rich.console import Console  # noqa: PLC0415 - see _CONSOLES

        made = Console(
            stderr=name == "err", highlight=False, soft_wrap=True, markup=False, emoji=False
        )
        made = _CONSOLES.setdefault(name, made)
    return made


def __getattr__(name: str) -> Console:
    if name in ("out", "err"):
        return console(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Error handlers under which an unencodable character raises; both become "replace".
_RAISING = ("strict", "surrogateescape")


def tolerant_streams() -> None:
    """Make stdout and stderr replace what their encoding cannot show, instead of raising."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure) and getattr(stream, "errors", None) in _RAISING:
            with suppress(ValueError, OSError):  # a closed or detached stream stays as it is
                reconfigure(errors="replace")


def _utf(stream: IO[str]) -> bool:
    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "utf-8").name.startswith("utf")
    except LookupError:
        return False


def print_json(value: object) -> None:
    """Indented JSON on stdout, ASCII-escaped when stdout's encoding is not a UTF one."""
    import json  # noqa: PLC0415 - only results print JSON; --help's start-up skips it

    console("out").print_json(
        json.dumps(value), highlight=False, ensure_ascii=not _utf(console("out").file)
    )


def envelope(
    command: str,
    *,
    ok: bool,
    data: Data | Mapping[str, Any],
    messages: Sequence[str],
    code: int,
) -> None:
    """Print one versioned envelope on stdout."""
    signals.reporting()
    # pydantic (about 250 ms) loads only when an envelope is printed, never for --help.
    from packerpy import contract  # noqa: PLC0415 - see above

    dumped = data.model_dump(mode="json") if isinstance(data, contract.Data) else dict(data)
    shown = contract.Envelope(
        ok=ok, command=command, data=dumped, messages=list(messages), exit_code=code
    ).to_json()
    print_json(shown)


def table(*columns: str, rows: Sequence[Sequence[str]]) -> Table:
    """Aligned columns under a header row, no borders (as `ps` or `kubectl get`): readable on a
    terminal and with grep/awk in a pipe.

    Cells fold rather than truncate: an AMI id or a path in a cell is what the user acts on.
    (Before, f-string padding like `{version:<20}` misaligned regions and broke on long values.)
    """
    from rich.table import Table  # noqa: PLC0415 - see _CONSOLES

    shown = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        shown.add_column(column, overflow="fold")
    for row in rows:
        shown.add_row(*row)
    return shown


def emit(
    ctx: typer.Context,
    as_json: bool,
    data: Data | Mapping[str, Any],
    lines: Sequence[RenderableType],
    *,
    messages: Sequence[str] = (),
    code: int = EXIT_OK,
) -> None:
    """Print a command's result: its lines (and messages on stderr), or its envelope.

    From here on the result stands: a signal no longer changes it (support.signals).
    """
    signals.reporting()
    if as_json:
        envelope(command_of(ctx), ok=True, data=data, messages=messages, code=code)
        return
    for message in messages:
        console("err").print(message)
    for line in lines:
        console("out").print(line)


def last_resort(text: str) -> None:
    """Write straight to fd 2 when the console itself failed; if even that fails, give up."""
    with suppress(OSError):
        os.write(2, (text + "\n").encode("ascii", "backslashreplace"))


def best_effort(action: Callable[[], object]) -> None:
    """Run a printing `action` of the error boundary; if printing fails, say so on fd 2."""
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - the boundary reports; it must not raise
        last_resort(f"packerpy: error: could not print ({type(exc).__name__})")


def fail(
    command: str,
    as_json: bool,
    message: str,
    detail: Sequence[str],
    code: int,
    data: Mapping[str, Any] | None = None,
) -> int:
    """Report a failure: one line (and its detail) on stderr, and an envelope under --json.

    Never raises: it runs in the error boundary, after something already went wrong (a closed
    stderr, an encoding error or a broken pipe must not turn a failure into a traceback).
    """
    signals.reporting()
    lines = [f"packerpy: error: {message}", *(f"  {line}" for line in detail)]
    try:
        for line in lines:
            console("err").print(line)
    except Exception:  # noqa: BLE001 - see the docstring
        last_resort("\n".join(lines))
    if as_json:
        best_effort(
            lambda: envelope(
                command, ok=False, data=data or {}, messages=[message, *detail], code=code
            )
        )
    return code


def reader_gone() -> None:
    """After a broken pipe (`| head`), send what is left to /dev/null so exit itself is quiet."""
    with suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
