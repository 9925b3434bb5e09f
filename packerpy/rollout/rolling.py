"""The rolling strategy: AWS's own instance refresh with the new launch template version.

StartInstanceRefresh with DesiredConfiguration.LaunchTemplate (AWS updates the group's template
once the refresh succeeds), MinHealthyPercentage, CheckpointPercentages = the canary steps and
CheckpointDelay = the bake time; then DescribeInstanceRefreshes until it ends. An alarm in ALARM,
the timeout, or an abort cancels it (CancelInstanceRefresh): instances already replaced keep the
new AMI and the group keeps its old template, so later launches use the old one. (AWS's
RollbackInstanceRefresh would also replace those back; it needs the refresh to have been started
with a DesiredConfiguration, as ours is, and is the next step if users ask for it.)
"""

from __future__ import annotations

import threading
import time

from packerpy.aws.clients import translated
from packerpy.aws.operation import Action
from packerpy.errors import Cancelled
from packerpy.rollout import state as tags
from packerpy.rollout.bluegreen import Run, claim_action, template_action
from packerpy.rollout.health import Unhealthy
from packerpy.rollout.model import Event

ENDED = {
    "Successful": True,
    "Failed": False,
    "Cancelled": False,
    "RollbackSuccessful": False,
    "RollbackFailed": False,
}


def request(run: Run) -> dict[str, object]:
    """StartInstanceRefresh's parameters, as the AutoScaling API reference names them."""
    options = run.options
    return {
        "AutoScalingGroupName": run.target.blue.name,
        "Strategy": "Rolling",
        "DesiredConfiguration": {
            "LaunchTemplate": {
                "LaunchTemplateId": run.target.blue.template_id,
                "Version": run.state.new_version or "<new version>",
            }
        },
        "Preferences": {
            "MinHealthyPercentage": options.min_healthy,
            "CheckpointPercentages": list(run.state.steps),
            "CheckpointDelay": int(options.bake_time),
        },
    }


def _start(run: Run) -> Action:
    name = run.target.blue.name

    def execute(_cancel: threading.Event) -> object:
        with translated(f"start an instance refresh of {name}", run.groups.region):
            started = run.groups.asg.start_instance_refresh(**request(run))
        run.save(refresh=started["InstanceRefreshId"])
        return started["InstanceRefreshId"]

    detail = (
        f"to template version <new>, min healthy {run.options.min_healthy}%, checkpoints "
        f"{','.join(map(str, run.state.steps))}, checkpoint delay {run.options.bake_time:g} s"
    )
    return Action(
        run.options.region,
        "start-instance-refresh",
        (name,),
        detail,
        payload=request(run),
        execute=execute,
    )


def _describe(run: Run) -> dict[str, object]:
    name = run.target.blue.name
    with translated(f"describe the instance refresh of {name}", run.groups.region):
        found = run.groups.asg.describe_instance_refreshes(
            AutoScalingGroupName=name, InstanceRefreshIds=[run.state.refresh]
        )["InstanceRefreshes"]
    return dict(found[0]) if found else {"Status": "Cancelled"}


def _watch(run: Run) -> Action:
    options, name = run.options, run.target.blue.name
    limit = (options.health_timeout + options.bake_time) * len(run.state.steps)

    def execute(cancel: threading.Event) -> object:
        deadline = time.monotonic() + limit
        while True:
            run.health.check_abort(name)
            found = _describe(run)
            status = str(found.get("Status"))
            options.on_event(
                Event(
                    "wait",
                    f"{name}: refresh {status}, {found.get('PercentageComplete', 0)}% complete",
                )
            )
            if status in ENDED:
                if not ENDED[status]:
                    raise Unhealthy(
                        f"instance refresh {run.state.refresh} ended {status}: "
                        f"{found.get('StatusReason', '')}"
                    )
                return status
            alarm = run.health.alarm()
            if alarm is not None:
                raise Unhealthy(f"alarm {alarm} is in ALARM")
            if time.monotonic() > deadline:
                raise Unhealthy(f"instance refresh of {name} not done in {limit:g} s")
            if cancel.wait(options.poll):
                raise Cancelled(f"interrupted while watching the refresh of {name}")

    return Action(
        options.region,
        "watch-instance-refresh",
        (name,),
        f"until it ends (at most {limit:g} s), cancelling it on an alarm",
        mutating=False,
        execute=execute,
    )


def _finish(run: Run) -> Action:
    name = run.target.blue.name

    def execute(_cancel: threading.Event) -> object:
        run.groups.untag(name, tags.STATE_KEYS)
        run.options.on_event(Event("done", f"{name} runs {run.state.ami}"))
        return None

    return Action(run.options.region, "finish", (name,), "clear the rollout state", execute=execute)


def plan(run: Run) -> tuple[Action, ...]:
    actions: list[Action] = [claim_action(run)]
    if not run.state.new_version:
        actions.append(template_action(run))
    if not run.state.refresh:
        actions.append(_start(run))
    return (*actions, _watch(run), _finish(run))
