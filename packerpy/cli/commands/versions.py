"""`packerpy version show|bump`, `images list`, `outdated`: configured and published versions."""

from __future__ import annotations

from typing import Annotated

import typer

from packerpy.cli import output
from packerpy.cli.commands import group_app, module_app
from packerpy.cli.invocation import JsonOption, aws_settings, project
from packerpy.config import edit
from packerpy.contract import (
    BumpData,
    ImagesListData,
    OutdatedData,
    OutdatedImageData,
    PublishedData,
    VersionShowData,
)
from packerpy.errors import EXIT_OK, EXIT_OUTDATED
from packerpy.estate import queries

app = module_app()
version_app = group_app("Show and bump an image's semantic version.")
app.add_typer(version_app, name="version")
images_app = group_app("Published versions of an image.")
app.add_typer(images_app, name="images")


@version_app.command("show")
def version_show(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image.")],
    as_json: JsonOption = False,
) -> None:
    """Configured version, latest published version, and what each bump would give."""
    loaded = project(ctx)
    shown = queries.show(loaded, aws_settings(ctx, loaded), image)
    data = VersionShowData(
        image=shown.image,
        configured=shown.configured,
        latest_published=shown.latest_published,
        configured_is_published=shown.configured_is_published,
        next=dict(shown.next),
    )
    state = "published" if shown.configured_is_published else "not published yet"
    heading = (
        f"{image}: configured {shown.configured} ({state}); "
        f"latest published {shown.latest_published or 'none'}"
    )
    bumps = output.table("bump", "gives", rows=list(shown.next.items()))
    output.emit(ctx, as_json, data, [heading, bumps])


@version_app.command("bump")
def version_bump(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image.")],
    part: Annotated[str, typer.Argument(help="major, minor, patch, prerelease or release.")],
    as_json: JsonOption = False,
) -> None:
    """Bump IMAGE's version in packerpy.toml (comments and layout are kept)."""
    done = edit.bump(project(ctx), image, part)
    data = BumpData(image=done.image, old=done.old, new=done.new, config=done.config)
    output.emit(ctx, as_json, data, [f"{image}: {done.old} -> {done.new} ({done.config})"])


@images_app.command("list")
def images_list(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image.")],
    as_json: JsonOption = False,
) -> None:
    """Published versions of IMAGE in SemVer order, with their regions and AMIs."""
    loaded = project(ctx)
    listed = queries.list_images(loaded, aws_settings(ctx, loaded), image)
    data = ImagesListData(
        image=listed.image,
        versions=[
            PublishedData(
                version=v.version,
                amis=dict(v.amis),
                tags=dict(v.tags),
                created=v.created,
                duplicates={r: list(ids) for r, ids in v.duplicates.items()},
            )
            for v in listed.versions
        ],
    )
    rows = [
        (v.version, region, ami, ", ".join(v.duplicates.get(region, ())))
        for v in listed.versions
        for region, ami in v.amis.items()
    ]
    if not rows:
        output.emit(ctx, as_json, data, [f"{image}: no published versions"])
        return
    shown = output.table("version", "region", "AMI", "duplicates", rows=rows)
    output.emit(ctx, as_json, data, [shown])


@app.command()
def outdated(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Images whose base filter now selects a newer AMI than their latest version was built on.

    Exits 0 when none is outdated and 10 when some are (for CI gates).
    """
    loaded = project(ctx)
    found = queries.outdated(loaded, aws_settings(ctx, loaded))
    data = OutdatedData(
        outdated=[
            OutdatedImageData(
                image=o.image,
                version=o.version,
                built_on=o.built_on,
                current_base=o.current_base,
                current_base_name=o.current_base_name,
                base_revoked=o.base_revoked,
            )
            for o in found.outdated
        ],
        up_to_date=list(found.up_to_date),
        not_checked=dict(found.not_checked),
    )
    lines = [
        f"{o.image} {o.version}: built on {o.built_on}, base now selects {o.current_base} "
        f"({o.current_base_name})" + (f"; base revoked: {o.base_revoked}" if o.base_revoked else "")
        for o in found.outdated
    ]
    lines += [f"{name}: up to date" for name in found.up_to_date]
    lines += [f"{name}: not checked ({why})" for name, why in found.not_checked.items()]
    code = EXIT_OUTDATED if found.outdated else EXIT_OK
    output.emit(ctx, as_json, data, lines, code=code)
    if code:
        raise typer.Exit(code)
