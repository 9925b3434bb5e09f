"""`packerpy rollout`: roll a channel's AMI out to an Auto Scaling group; `status`, `abort`.

`packerpy rollout IMAGE ...` is the group's default command (`rollout start IMAGE ...` too):
RolloutGroup routes any first word that is not a subcommand to `start`.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from packerpy import config
from packerpy.aws.clients import AwsClients
from packerpy.aws.operation import Mode
from packerpy.cli import output
from packerpy.cli.commands import COMMAND_KEY, CommandGroup, group_app, module_app
from packerpy.cli.invocation import JsonOption, aws_settings, cli_context, project
from packerpy.contract import RolloutAbortData, RolloutData, RolloutStatusData
from packerpy.errors import ConfigError
from packerpy.rollout import apply, control, model

HELP = "Roll a channel's AMI out to an Auto Scaling group (blue-green or rolling), or abort it."


class RolloutGroup(CommandGroup):
    """`rollout IMAGE ...` means `rollout start IMAGE ...`."""

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:  # noqa: ANN401 - click's context
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            name, command, rest = super().resolve_command(ctx, ["start", *args])
            ctx.meta[COMMAND_KEY] = "rollout"
            return name, command, rest
        return super().resolve_command(ctx, args)


app = module_app()
rollout_app = group_app(HELP)
rollout_app.info.cls = RolloutGroup  # the group's default command (see RolloutGroup)
app.add_typer(rollout_app, name="rollout")

Image = Annotated[str, typer.Argument(help="Image.")]
Asg = Annotated[str, typer.Option("--asg", help="The Auto Scaling group, by the name users know.")]


def _where(ctx: typer.Context, image: str) -> tuple[config.Project, AwsClients, str]:
    """The project, clients, and the region: --region, else the image's first region."""
    loaded = project(ctx)
    settings = aws_settings(ctx, loaded)
    region = (
        cli_context(ctx).region or config.image_regions(loaded.image(image), settings.region)[0]
    )
    return loaded, AwsClients(settings), region


def _event(event: model.Event) -> None:
    """Progress on a terminal only: each step, the healthy counts, a return to blue."""
    if output.err.is_terminal:
        output.err.print(f"rollout: {event.message}")


def _lines(result: apply.RolloutResult) -> list[str]:
    dry = result.outcome.dry_run
    head = "dry run: would roll out" if dry else "rolled out"
    lines = [
        f"{head} {result.options.image} {result.version} ({result.ami}, was "
        f"{result.from_ami}) to {result.blue} in {result.options.region}: "
        f"{len(result.plan)} action(s)"
    ]
    lines += [f"  {action.line()}" for action in result.plan]
    lines += [
        f"  step {s.index + 1} ({s.percent}%): green {s.green}, blue {s.blue}, {s.seconds:.1f} s"
        for s in result.steps
    ]
    if dry:
        lines.append("  carry it out: add --apply")
    return lines


def _data(result: apply.RolloutResult) -> RolloutData:
    options = result.options
    return RolloutData.model_validate(
        {
            "image": options.image,
            "channel": options.channel,
            "asg": options.asg,
            "region": options.region,
            "strategy": options.strategy,
            "dry_run": result.outcome.dry_run,
            "ami": result.ami,
            "from_ami": result.from_ami,
            "version": result.version,
            "blue": result.blue,
            "green": result.green,
            "resumed_from": result.resumed_from,
            "actions": [action.line() for action in result.plan],
            "steps": [step.to_json() for step in result.steps],
            "seconds": round(result.seconds, 3),
            "calls": result.calls,
            "mutating": list(result.mutating),
        }
    )


@rollout_app.command("start")
def start(  # noqa: PLR0913 - one parameter per documented option
    ctx: typer.Context,
    image: Image,
    channel: Annotated[str, typer.Option("--channel", help="The channel whose AMI rolls out.")],
    asg: Asg,
    strategy: Annotated[
        str, typer.Option("--strategy", help="blue-green or rolling.")
    ] = "blue-green",
    canary: Annotated[str, typer.Option("--canary", help="Steps, % of capacity.")] = "10,50,100",
    bake_time: Annotated[str, typer.Option("--bake-time", help="Hold at each step.")] = "60s",
    health_timeout: Annotated[
        str, typer.Option("--health-timeout", help="Wait for health at most.")
    ] = "10m",
    alarm: Annotated[
        list[str] | None, typer.Option("--alarm", help="CloudWatch alarm; ALARM rolls back.")
    ] = None,
    keep_blue: Annotated[
        bool, typer.Option("--keep-blue", help="Keep blue at 0 instead of deleting it.")
    ] = False,
    min_healthy: Annotated[
        int, typer.Option("--min-healthy", min=0, max=100, help="Rolling: MinHealthyPercentage.")
    ] = 90,
    poll: Annotated[str, typer.Option("--poll", help="Between health readings.")] = "5s",
    apply_: Annotated[
        bool, typer.Option("--apply", help="Carry it out (default: print the plan).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print the plan (the default).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Roll a channel's AMI out to an Auto Scaling group. Without --apply, print the plan."""
    if apply_ and dry_run:
        raise ConfigError("--apply and --dry-run: choose one")
    if strategy not in model.STRATEGIES:
        raise ConfigError(f"--strategy {strategy!r}: choose blue-green or rolling")
    loaded, aws, region = _where(ctx, image)
    options = model.RolloutOptions(
        image=image,
        channel=channel,
        asg=asg,
        region=region,
        strategy=strategy,
        steps=model.percentages(canary),
        bake_time=model.seconds("--bake-time", bake_time),
        health_timeout=model.seconds("--health-timeout", health_timeout),
        alarms=tuple(alarm or ()),
        keep_blue=keep_blue,
        min_healthy=min_healthy,
        poll=model.seconds("--poll", poll),
        on_event=_event,
    )
    where = apply.Channel(loaded.config.project.ssm_prefix, loaded.config.project.name)
    result = apply.rollout(aws, where, options, Mode(dry_run=not apply_))
    output.emit(ctx, as_json, _data(result), _lines(result))


@rollout_app.command("status")
def status(ctx: typer.Context, image: Image, asg: Asg, as_json: JsonOption = False) -> None:
    """Where a rollout of the group stands (from any shell)."""
    _, aws, region = _where(ctx, image)
    found = control.status(aws, region, asg)
    data = RolloutStatusData.model_validate(found.to_json())
    if found.state is None:
        lines = [f"{asg}: {found.group} at {found.desired}, no rollout in progress"]
    else:
        s = found.state
        lines = [
            f"{asg}: {s.strategy} rollout of {s.image} {s.version} ({s.ami}) by {s.by}",
            f"  steps {','.join(map(str, s.steps))}: {s.done} done; green {s.green or '-'} "
            f"at {found.green.desired if found.green else '-'}; heartbeat {s.heartbeat}",
        ]
    output.emit(ctx, as_json, data, lines)


@rollout_app.command("abort")
def abort(
    ctx: typer.Context,
    image: Image,
    asg: Asg,
    health_timeout: Annotated[
        str, typer.Option("--health-timeout", help="Wait for blue at most.")
    ] = "10m",
    as_json: JsonOption = False,
) -> None:
    """Stop a rollout and return to blue (from any shell or CI re-run)."""
    _, aws, region = _where(ctx, image)
    how = control.Restore(
        model.seconds("--health-timeout", health_timeout), 1.0, Mode().cancel, _event
    )
    group, done = control.abort(aws, region, asg, how)
    data = RolloutAbortData(asg=asg, region=region, group=group, done=done)
    output.emit(ctx, as_json, data, [f"{asg}: back to blue ({group})", *(f"  {d}" for d in done)])
