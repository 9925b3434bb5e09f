"""`packerpy promote`, `channels`, `rollback`, `revoke`: the parameters consumers resolve."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import typer

from packerpy import records
from packerpy.aws.operation import Mode
from packerpy.aws.settings import AwsSettings
from packerpy.channels import common, run
from packerpy.channels import promote as promoting
from packerpy.channels import revoke as revoking
from packerpy.channels import rollback as rolling
from packerpy.cli import output
from packerpy.cli.commands import module_app
from packerpy.cli.invocation import JsonOption, aws_settings, project
from packerpy.config import Project
from packerpy.contract import (
    ChannelData,
    ChannelEntryData,
    ChannelsData,
    Data,
    PromoteData,
    RevokeData,
    RollbackData,
)
from packerpy.estate import channels as reader

app = module_app()

D = TypeVar("D", bound=Data)
DryRun = Annotated[bool, typer.Option("--dry-run", help="Only print the calls it would make.")]


def _recorded(loaded: Project, name: str, command: str, dry_run: bool, make: Callable[[], D]) -> D:
    """Run `make` (the core call, as contract data) inside a run record, unless a dry run."""
    if dry_run:
        return make()
    now = datetime.now(UTC)
    fields = {"command": command, "image": name}
    with records.RunRecord(loaded.runs_dir(), f"{name}-{command}", now, fields) as record:
        data = make()
        record.succeed(data)
    return data


def _invocation(ctx: typer.Context, dry_run: bool) -> tuple[Project, AwsSettings, Mode]:
    loaded = project(ctx)
    return loaded, aws_settings(ctx, loaded), Mode(dry_run=dry_run, progress=output.err.print)


def _ran(result: run.Reported, *, ssm: bool = False) -> dict[str, Any]:
    """The contract fields every channel command reports about its AWS calls."""
    fields: dict[str, Any] = {
        "dry_run": result.dry_run,
        "actions": list(result.actions),
        "calls": result.calls,
        "mutating": list(result.mutating),
    }
    return {**fields, "ssm_calls": result.ssm_calls} if ssm else fields


def _head(dry_run: bool, calls: int, mutating: int) -> str:
    return f"{'dry run: ' if dry_run else ''}{mutating} mutating of {calls} AWS calls"


@app.command("promote")
def promote(  # noqa: PLR0913 - typer: one parameter per command-line option
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image.")],
    version: Annotated[str, typer.Argument(help="Published version to promote.")],
    to: Annotated[str, typer.Option("--to", help="Channel (one the image declares).")],
    force: Annotated[
        bool, typer.Option("--force", help="Promote an unverified version (tagged on the AMI).")
    ] = False,
    skip_order: Annotated[
        bool, typer.Option("--skip-order", help="Skip the channel-order gate (recorded).")
    ] = False,
    dry_run: DryRun = False,
    as_json: JsonOption = False,
) -> None:
    """Point a channel at a verified version in every region of the image."""
    loaded, settings, mode = _invocation(ctx, dry_run)
    options = promoting.PromoteOptions(force=force, skip_order=skip_order)

    def make() -> PromoteData:
        r = promoting.promote(loaded, settings, image, version, to, options, mode)
        return PromoteData(
            image=r.image,
            version=r.version,
            channel=r.channel,
            parameter=r.parameter,
            amis=r.amis,
            previous=r.previous,
            forced=list(r.forced),
            **_ran(r, ssm=True),
        )

    data = _recorded(loaded, image, "promote", dry_run, make)
    lines = [
        f"{data.image} {data.version} -> {data.channel} ({data.parameter}): "
        + _head(data.dry_run, data.calls, len(data.mutating)),
        *(f"  forced past the {gate} gate (recorded)" for gate in data.forced),
        *(f"  {line}" for line in data.actions),
    ]
    if not data.actions:
        lines.append("  already there in every region")
    output.emit(ctx, as_json, data, lines)


def _entry(entry: reader.Entry) -> ChannelEntryData:
    return ChannelEntryData(
        parameter_version=entry.parameter_version,
        ami=entry.ami,
        version=entry.version,
        labels=list(entry.labels),
        modified=entry.modified,
    )


def channels_data(view: reader.ChannelsView) -> ChannelsData:
    """The contract data of a channels view (also the text's source)."""
    return ChannelsData(
        image=view.image,
        channels=[
            ChannelData(
                channel=name,
                version=c.version,
                parameters={region: held.parameter for region, held in c.regions.items()},
                history={r: [_entry(e) for e in held.history] for r, held in c.regions.items()},
            )
            for name, c in view.channels.items()
        ],
    )


def _channel_lines(data: ChannelsData) -> list[str]:
    lines = []
    for c in data.channels:
        lines.append(f"{data.image} {c.channel}: {c.version or 'unset or split across regions'}")
        for region, entries in c.history.items():
            now = entries[-1] if entries else None
            shown = f"{now.version or 'not a published version'} ({now.ami})" if now else "unset"
            earlier = ", ".join(e.version or e.ami for e in entries[-6:-1])
            lines.append(f"  {region}: {shown}" + (f"; before: {earlier}" if earlier else ""))
    return lines


@app.command("channels")
def channels(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image.")],
    as_json: JsonOption = False,
) -> None:
    """Each channel of IMAGE: version and AMI per region, with history."""
    loaded = project(ctx)
    view = common.view(loaded, aws_settings(ctx, loaded), image)
    data = channels_data(view)
    lines = _channel_lines(data) or [f"{image}: no channels declared (images.{image}.channels)"]
    output.emit(ctx, as_json, data, lines)


@app.command("rollback")
def rollback(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image.")],
    channel: Annotated[str, typer.Option("--channel", help="Channel to move back.")],
    dry_run: DryRun = False,
    as_json: JsonOption = False,
) -> None:
    """Move a channel back to its previous value that is not revoked."""
    loaded, settings, mode = _invocation(ctx, dry_run)

    def make() -> RollbackData:
        r = rolling.rollback(loaded, settings, image, channel, mode)
        return RollbackData(
            image=r.image,
            channel=r.channel,
            parameter=r.parameter,
            from_version=r.from_version,
            to_version=r.to_version,
            amis=r.amis,
            completing=r.completing,
            **_ran(r),
        )

    data = _recorded(loaded, image, "rollback", dry_run, make)
    how = "completing the last change: " if data.completing else ""
    lines = [
        f"{data.image} {data.channel}: {how}{data.from_version} -> {data.to_version}: "
        + _head(data.dry_run, data.calls, len(data.mutating)),
        *(f"  {line}" for line in data.actions),
    ]
    output.emit(ctx, as_json, data, lines)


@app.command("revoke")
def revoke(
    ctx: typer.Context,
    image: Annotated[str, typer.Argument(help="Image.")],
    version: Annotated[str, typer.Argument(help="Version to revoke.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (tagged on the AMIs).")],
    dry_run: DryRun = False,
    as_json: JsonOption = False,
) -> None:
    """Take a version off every channel, deprecate it now and tag it revoked."""
    loaded, settings, mode = _invocation(ctx, dry_run)

    def make() -> RevokeData:
        r = revoking.revoke(loaded, settings, image, version, reason, mode)
        return RevokeData(
            image=r.image,
            version=r.version,
            reason=r.reason,
            amis=r.amis,
            moved=[
                {"channel": m.channel, "region": m.region, "to_version": m.to_version}
                for m in r.moved
            ],
            deprecate_at=r.deprecate_at,
            **_ran(r),
        )

    data = _recorded(loaded, image, "revoke", dry_run, make)
    lines = [
        f"revoke {data.image} {data.version} ({data.reason}): "
        + _head(data.dry_run, data.calls, len(data.mutating)),
        *(
            f"  {m['channel']} in {m['region']}: back to {m['to_version']}"
            if m["to_version"]
            else f"  {m['channel']} in {m['region']}: no earlier good version, parameter deleted"
            for m in data.moved
        ),
        *(f"  {line}" for line in data.actions),
    ]
    output.emit(ctx, as_json, data, lines)
