"""`packerpy build`'s options that pass through to packer, and the several-images summary.

Each pass-through option is packer's own, spelled with two dashes (`--var` is `-var`); README
"Packer's own options" has the table.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from packerpy.bake import many
from packerpy.packer.binary import ON_ERROR_CHOICES


def _on_error(value: str | None) -> str | None:
    if value is not None and value not in ON_ERROR_CHOICES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(ON_ERROR_CHOICES)}")
    return value


ImagesArgument = Annotated[
    list[str] | None,
    typer.Argument(help="Image(s) to bake (or --all).", show_default=False, metavar="IMAGE"),
]
TimeoutOption = Annotated[
    float | None,
    typer.Option("--timeout", metavar="SECONDS", help="Cancel packer after this many seconds."),
]
ForceBakeOption = Annotated[
    bool, typer.Option("--force-bake", help="Bake even when an AMI with identical inputs exists.")
]
SkipLintOption = Annotated[
    bool, typer.Option("--skip-lint", help="Bake despite lint errors (recorded in the run record).")
]
VarOption = Annotated[
    list[str] | None,
    typer.Option(
        "--var",
        metavar="NAME=VALUE",
        help="packer -var NAME=VALUE (repeatable; fingerprinted).",
        show_default=False,
    ),
]
VarFileOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--var-file",
        metavar="FILE",
        help="packer -var-file, after packerpy's own so yours wins (repeatable; fingerprinted).",
        show_default=False,
    ),
]
OnlyOption = Annotated[
    list[str] | None,
    typer.Option(
        "--only", metavar="BUILD", help="packer -only: build only these builds.", show_default=False
    ),
]
ExceptOption = Annotated[
    list[str] | None,
    typer.Option(
        "--except", metavar="BUILD", help="packer -except: skip these builds.", show_default=False
    ),
]
OnErrorOption = Annotated[
    str | None,
    typer.Option(
        "--on-error",
        metavar="cleanup|abort|ask",
        help="packer -on-error: cleanup, abort (leaves the instance) or ask (interactive).",
        callback=_on_error,
        show_default=False,
    ),
]
DebugOption = Annotated[
    bool, typer.Option("--debug", help="packer -debug: step by step at the terminal.")
]
ParallelOption = Annotated[
    int | None,
    typer.Option(
        "--parallel-builds", min=0, metavar="N", help="packer -parallel-builds (0: no limit)."
    ),
]
TimestampOption = Annotated[
    bool, typer.Option("--timestamp-ui", help="packer -timestamp-ui: timestamps on its lines.")
]
AllowOlderOption = Annotated[
    bool,
    typer.Option("--allow-older", help="Build a version below the latest published (hotfix)."),
]
AllOption = Annotated[bool, typer.Option("--all", help="Bake every configured image.")]
JobsOption = Annotated[
    int,
    typer.Option("-j", "--jobs", min=1, metavar="N", help="Images baked at once (several images)."),
]


def summary_lines(done: many.ManyResult) -> list[str]:
    """One table row per image, then the counts and the exit code."""
    table = Table(box=None, pad_edge=False)
    for column in ("image", "version", "status", "exit", "run record / error"):
        table.add_column(column)
    for o in done.outcomes:
        detail = o.run_dir or ""
        if o.error:
            where = f" in {o.phase}" if o.phase else ""
            detail = f"{o.error}{where}" + (f" ({o.run_dir})" if o.run_dir else "")
        table.add_row(o.image, o.version, o.status, str(o.exit_code), detail)
    buffer = io.StringIO()
    Console(file=buffer, width=240, color_system=None, highlight=False).print(table)
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    lines.append(
        f"{done.count('built')} built, {done.count('skipped')} skipped, "
        f"{done.count('failed')} failed; exit {done.exit_code}"
    )
    return lines
