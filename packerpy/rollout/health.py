"""Health at a step: green's instances InService, healthy in every target group, no alarm.

A reading is taken every `poll` seconds until the wanted count is healthy (then the bake time is
held, reading on), a target reports `unhealthy`, an alarm is in ALARM, the health timeout passes,
or someone asks to abort (the blue group's abort tag, written by `rollout abort`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from packerpy.aws.clients import AwsClients, translated
from packerpy.errors import Cancelled, PackerpyError
from packerpy.rollout import state
from packerpy.rollout.groups import Groups
from packerpy.rollout.model import Event, Reading, RolloutOptions

# An abort is looked for at every reading; the blue group's tags are read at most this often
# (seconds) so a long bake does not multiply DescribeAutoScalingGroups calls.
ABORT_CHECK = 2.0
# While a step waits, the claim's heartbeat is rewritten this often (seconds), so a rollout from
# another host is taken over only when it has really stopped (prepare.STALE is 30 minutes).
HEARTBEAT = 60.0


class Unhealthy(PackerpyError):
    """A step failed its health gate; the rollout returns to blue (then RolledBack)."""


class AbortRequested(PackerpyError):
    """`rollout abort` asked to stop; the aborting process restores blue."""


@dataclass(frozen=True)
class Gate:
    """What a step waits on: green's group and size, where to look, what stops it."""

    green: str
    wanted: int
    target_groups: tuple[str, ...]
    blue: str


class Health:
    def __init__(
        self, aws: AwsClients, groups: Groups, options: RolloutOptions, started: float
    ) -> None:
        self.aws = aws
        self.groups = groups
        self.options = options
        self.started = started
        self._abort_read = 0.0
        self._beat = time.monotonic()

    def clock(self) -> float:
        return time.monotonic()

    def read(self, gate: Gate) -> Reading:
        """One reading; raises Unhealthy on a target reported unhealthy or an alarm in ALARM."""
        group = self.groups.find(gate.green)
        instances = group.instances if group else ()
        ready = {
            i["InstanceId"]
            for i in instances
            if i.get("LifecycleState") == "InService" and i.get("HealthStatus") == "Healthy"
        }
        healthy = self._targets(gate, ready)
        alarm = self.alarm()
        reading = Reading(time.monotonic() - self.started, len(ready), healthy, gate.wanted, alarm)
        if alarm is not None:
            raise Unhealthy(f"alarm {alarm} is in ALARM")
        return reading

    def _targets(self, gate: Gate, ready: set[str]) -> int:
        """How many ready instances every target group reports healthy (all, with none)."""
        if not gate.target_groups:
            return len(ready)
        elb = self.aws.client("elbv2", self.groups.region)
        healthy = set(ready)
        for arn in gate.target_groups:
            with translated(f"describe target health of {arn}", self.groups.region):
                found = elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]
            states = {t["Target"]["Id"]: t["TargetHealth"] for t in found}
            for instance in ready:
                health = states.get(instance, {})
                if health.get("State") == "unhealthy":
                    reason = health.get("Reason", "unhealthy")
                    raise Unhealthy(f"{instance} is unhealthy in {arn} ({reason})")
                if health.get("State") != "healthy":
                    healthy.discard(instance)
        return len(healthy)

    def alarm(self) -> str | None:
        if not self.options.alarms:
            return None
        cloudwatch = self.aws.client("cloudwatch", self.groups.region)
        with translated("describe alarms", self.groups.region):
            found = cloudwatch.describe_alarms(AlarmNames=list(self.options.alarms))
        firing = [a["AlarmName"] for a in found["MetricAlarms"] if a["StateValue"] == "ALARM"]
        return firing[0] if firing else None

    def beat(self, blue: str) -> None:
        """Rewrite the claim's heartbeat once HEARTBEAT seconds have passed since the last."""
        if time.monotonic() - self._beat < HEARTBEAT:
            return
        self._beat = time.monotonic()
        self.groups.tag(blue, {f"{state.P}heartbeat": state.now()})

    def check_abort(self, blue: str, *, force: bool = False) -> None:
        self.beat(blue)
        if not force and time.monotonic() - self._abort_read < ABORT_CHECK:
            return
        self._abort_read = time.monotonic()
        group = self.groups.find(blue)
        if group is None or state.ABORT in group.tags or state.OWNER not in group.tags:
            raise AbortRequested(f"rollout of {blue} aborted from another process")

    def wait(
        self, gate: Gate, cancel: threading.Event, report: Callable[[Event], None]
    ) -> tuple[Reading, ...]:
        """Readings until `wanted` instances are healthy, then through the bake time."""
        options = self.options
        readings: list[Reading] = []
        deadline = time.monotonic() + options.health_timeout
        baked_at: float | None = None
        while True:
            self.check_abort(gate.blue)
            reading = self.read(gate)
            readings.append(reading)
            ok = reading.in_service >= gate.wanted and reading.healthy_targets >= gate.wanted
            if ok and baked_at is None:
                baked_at = time.monotonic() + options.bake_time
                report(
                    Event(
                        "healthy",
                        f"{reading.healthy_targets}/{gate.wanted} healthy",
                        healthy=reading.healthy_targets,
                        wanted=gate.wanted,
                    )
                )
            if baked_at is not None and time.monotonic() >= baked_at:
                return tuple(readings)
            if baked_at is None and time.monotonic() > deadline:
                raise Unhealthy(
                    f"{gate.green}: {reading.healthy_targets} of {gate.wanted} healthy after "
                    f"{options.health_timeout:g} s (--health-timeout)"
                )
            if cancel.wait(options.poll):
                raise Cancelled(f"interrupted while waiting for {gate.green}")
