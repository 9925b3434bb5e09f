"""What the command line prints: a command's text lines, or exactly one JSON envelope.

Results go to stdout; progress, warnings and errors go to stderr. With --json, stdout holds one
`contract.Envelope` and nothing else, success or failure. Printing is plain (no rich markup or
emoji), so text from AWS, packer or a config file is shown exactly as it is.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console

from packerpy.cli.commands import command_of
from packerpy.errors import EXIT_OK

if TYPE_CHECKING:
    import typer

    from packerpy.contract import Data

out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)


def envelope(
    command: str,
    *,
    ok: bool,
    data: Data | Mapping[str, Any],
    messages: Sequence[str],
    code: int,
) -> None:
    """Print one versioned envelope on stdout."""
    # pydantic (about 250 ms) loads only when an envelope is printed, never for --help.
    from packerpy import contract  # noqa: PLC0415 - see above

    dumped = data.model_dump(mode="json") if isinstance(data, contract.Data) else dict(data)
    shown = contract.Envelope(
        ok=ok, command=command, data=dumped, messages=list(messages), exit_code=code
    ).to_json()
    out.print_json(json.dumps(shown), highlight=False)


def emit(
    ctx: typer.Context,
    as_json: bool,
    data: Data | Mapping[str, Any],
    lines: Sequence[str],
    *,
    messages: Sequence[str] = (),
    code: int = EXIT_OK,
) -> None:
    """Print a command's result: its lines (and messages on stderr), or its envelope."""
    if as_json:
        envelope(command_of(ctx), ok=True, data=data, messages=messages, code=code)
        return
    for message in messages:
        err.print(message)
    for line in lines:
        out.print(line)


def fail(command: str, as_json: bool, message: str, detail: Sequence[str], code: int) -> int:
    """Report a failure: one line (and its detail) on stderr, and an envelope under --json."""
    err.print(f"packerpy: error: {message}")
    for line in detail:
        err.print(f"  {line}")
    if as_json:
        envelope(command, ok=False, data={}, messages=[message, *detail], code=code)
    return code


def reader_gone() -> None:
    """After a broken pipe (`| head`), send what is left to /dev/null so exit itself is quiet."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
