"""`packerpy report`: the estate as one self-contained HTML page, or as JSON."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from packerpy.cli import output
from packerpy.cli.commands import module_app
from packerpy.cli.invocation import JsonOption, aws_settings, project
from packerpy.contract import ReportData
from packerpy.report import gather, html
from packerpy.support import atomic

app = module_app()


@app.command("report")
def report(
    ctx: typer.Context,
    images: Annotated[
        list[str] | None, typer.Argument(help="Images to show (default: all).", show_default=False)
    ] = None,
    html_file: Annotated[
        Path | None,
        typer.Option("--html", help="Write the page here (one file: inline CSS and SVG)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Every image's versions, regions, channels, verdicts, sizes and ages, and a timeline.

    Read-only. With --html FILE, writes one self-contained page (no network assets) a person
    can open from disk or keep as a CI artifact; --json prints the same data.
    """
    loaded = project(ctx)
    names = tuple(images or ())
    for name in names:
        loaded.image(name)  # an unknown name fails here, with the config's one-line error
    estate = gather.gather(loaded, aws_settings(ctx, loaded), names)
    if html_file is not None:
        atomic.write_text(html_file, html.render(estate))
    data = ReportData.model_validate(
        {**dataclasses.asdict(estate), "html": str(html_file) if html_file else None}
    )
    versions = sum(len(i.versions) for i in estate.images)
    lines = [
        f"{image.name}: {len(image.versions)} version(s)"
        + "".join(
            f"; {ch} -> {image.current.get(image.regions[0], {}).get(ch, '-')}"
            for ch in image.channels
        )
        for image in estate.images
    ]
    if html_file is not None:
        lines.append(f"wrote {html_file} ({len(estate.images)} image(s), {versions} version(s))")
    output.emit(ctx, as_json, data, lines)
