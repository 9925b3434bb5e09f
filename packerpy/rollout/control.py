"""Return to blue (a failed gate, or `rollout abort` from any shell) and `rollout status`.

The order is the issue's: blue back to its recorded capacity first, and only once blue's
instances are InService again is green scaled away and deleted, so capacity never dips below
what blue served before the rollout. Every call here is safe to repeat: an abort racing the
rolling process, or a second abort, converges to the same end state.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from packerpy.aws.clients import AwsClients, translated
from packerpy.errors import AwsError, Cancelled, Refused
from packerpy.rollout import state
from packerpy.rollout.groups import Group, Groups
from packerpy.rollout.model import Event


@dataclass(frozen=True)
class Status:
    """What `rollout status` reports: the live group, and its rollout's state if one runs."""

    asg: str
    region: str
    group: str
    desired: int
    state: state.State | None
    owner_alive: bool | None
    green: Group | None

    def to_json(self) -> dict[str, Any]:
        return {
            "asg": self.asg,
            "region": self.region,
            "group": self.group,
            "desired": self.desired,
            "in_progress": self.state is not None,
            "state": self.state.to_json() if self.state else None,
            "owner_alive": self.owner_alive,
            "green_desired": self.green.desired if self.green else None,
            "green_in_service": _in_service(self.green) if self.green else None,
        }


def _in_service(group: Group) -> int:
    return sum(1 for i in group.instances if i.get("LifecycleState") == "InService")


def status(aws: AwsClients, region: str, asg: str) -> Status:
    groups = Groups(aws, region)
    blue = groups.live(asg)
    found = blue.state
    green = groups.find(found.green) if found and found.green else None
    alive = state.owner_alive(found.owner) if found else None
    return Status(asg, region, blue.name, blue.desired, found, alive, green)


def wait_in_service(
    groups: Groups, name: str, wanted: int, timeout: float, cancel: threading.Event, poll: float
) -> None:
    """Until `wanted` of the group's instances are InService (restoring blue)."""
    deadline = time.monotonic() + timeout
    while True:
        group = groups.find(name)
        if group is None or _in_service(group) >= wanted:
            return
        if time.monotonic() > deadline:
            raise AwsError(f"aws {groups.region}: {name} did not return to {wanted} in service")
        if cancel.wait(poll):
            raise Cancelled(f"interrupted while restoring {name}")


@dataclass(frozen=True)
class Restore:
    """How a return to blue waits: the health timeout and poll, the cancel token, events."""

    timeout: float
    poll: float
    cancel: threading.Event
    report: Callable[[Event], None]


def restore_blue(aws: AwsClients, groups: Groups, blue: Group, how: Restore) -> list[str]:
    """Blue to its recorded capacity, then green to zero and deleted, then the state cleared."""
    blue = groups.find(blue.name) or blue  # the state as tagged now, not as first read
    found = blue.state
    if found is None:
        return []
    done: list[str] = []
    low, high, desired = found.blue_capacity
    how.report(Event("rollback", f"{blue.name}: back to {desired} (min {low}, max {high})"))
    groups.resize(blue.name, desired=desired, low=low, high=high)
    done.append(f"resize {blue.name} to {desired}")
    wait_in_service(groups, blue.name, desired, how.timeout, how.cancel, how.poll)
    if found.strategy == "rolling" and found.refresh:
        _cancel_refresh(groups, blue.name)
        done.append(f"cancel instance refresh {found.refresh}")
    if found.green and groups.find(found.green) is not None:
        how.report(Event("rollback", f"{found.green}: to 0 and deleted"))
        groups.resize(found.green, desired=0, low=0, high=0)
        groups.delete(found.green)
        done.append(f"delete {found.green}")
    groups.untag(blue.name, tuple(k for k in state.STATE_KEYS if k in blue.tags))
    done.append(f"clear the rollout state on {blue.name}")
    return done


def _cancel_refresh(groups: Groups, name: str) -> None:
    try:
        with translated(f"cancel the instance refresh of {name}", groups.region):
            groups.asg.cancel_instance_refresh(AutoScalingGroupName=name)
    except AwsError as exc:  # already finished or cancelled: nothing to stop
        if "ActiveInstanceRefreshNotFound" not in str(exc):
            raise


def abort(aws: AwsClients, region: str, asg: str, how: Restore) -> tuple[str, list[str]]:
    """Ask the rolling process to stop (the abort tag), then restore blue ourselves."""
    groups = Groups(aws, region)
    blue = groups.live(asg)
    if blue.state is None:
        raise Refused(f"--asg {asg}: no rollout in progress on {blue.name} in {region}")
    groups.tag(blue.name, {state.ABORT: f"{state.me()} at {state.now()}"})
    # Let the rolling process see the abort before blue is touched: it reads the tag at least
    # every health.ABORT_CHECK seconds plus one poll, and makes no change once it has.
    how.cancel.wait(min(how.poll + 2.0, 5.0))
    done = restore_blue(aws, groups, blue, how)
    return blue.name, done
