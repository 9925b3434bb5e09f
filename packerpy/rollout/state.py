"""An in-flight rollout's state, kept as tags on the blue group (`packerpy:rollout:*`).

Tags, not a local file: `rollout status` and `rollout abort` then work from any shell or CI
machine, and a re-run after a crash finds where the last one stopped. Each value stays under
AWS's 256-character tag value limit (CreateOrUpdateTags); a group holds at most 50 tags, and a
rollout adds 14.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from packerpy.naming import ROLLOUT_TAG_PREFIX
from packerpy.support import liveness

P = ROLLOUT_TAG_PREFIX
NAME = f"{P}name"  # the name users give (--asg): it follows the live group (README "Rollouts")
ROLE = f"{P}role"  # green (being rolled out), live, retired (a kept blue at zero)
OWNER = f"{P}owner"  # the claim: user@host pid create-time of the rolling process
ABORT = f"{P}abort"  # who asked to abort, and when
# Everything below is the state proper; `clear` removes it with OWNER and ABORT.
FIELDS = (
    "strategy",
    "image",
    "version",
    "ami",
    "from-ami",
    "template",
    "green",
    "steps",
    "done",
    "blue-capacity",
    "started",
    "by",
    "heartbeat",
    "refresh",
)
STATE_KEYS = (OWNER, ABORT, *(f"{P}{name}" for name in FIELDS))


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def me() -> str:
    """Who runs this process, as the claim records it: user@host pid create-time."""
    process = liveness.this_process()
    return f"{getpass.getuser()}@{liveness.host()} {process.pid} {process.create_time:.2f}"


def owner_alive(owner: str) -> bool | None:
    """Whether the claiming process still runs; None when it ran on another host (unknown)."""
    try:
        who, pid, created = owner.split(" ")
        same_host = who.partition("@")[2] == liveness.host()
        recorded = liveness.ProcessId(int(pid), float(created))
    except ValueError:
        return None
    if not same_host:
        return None
    return recorded.pid != os.getpid() and liveness.is_running(recorded)


@dataclass(frozen=True)
class State:
    """What the blue group's tags say about its rollout."""

    owner: str
    strategy: str
    image: str
    version: str
    ami: str  # the AMI being rolled out
    from_ami: str  # blue's AMI
    template: str  # lt-id:source-version:new-version
    green: str  # the green group's name ("" for rolling)
    steps: tuple[int, ...]
    done: int  # steps finished (0 = none)
    blue_capacity: tuple[int, int, int]  # blue's min, max, desired before the rollout
    started: str
    by: str
    heartbeat: str
    refresh: str = ""  # rolling: the instance refresh id
    abort: str = ""

    @property
    def template_id(self) -> str:
        return self.template.split(":")[0]

    @property
    def source_version(self) -> str:
        return self.template.split(":")[1]

    @property
    def new_version(self) -> str:
        return self.template.split(":")[2]

    def tags(self) -> dict[str, str]:
        values = {
            "strategy": self.strategy,
            "image": self.image,
            "version": self.version,
            "ami": self.ami,
            "from-ami": self.from_ami,
            "template": self.template,
            "green": self.green,
            "steps": ",".join(map(str, self.steps)),
            "done": str(self.done),
            "blue-capacity": ",".join(map(str, self.blue_capacity)),
            "started": self.started,
            "by": self.by,
            "heartbeat": self.heartbeat,
            "refresh": self.refresh,
        }
        return {OWNER: self.owner, **{f"{P}{k}": v for k, v in values.items()}}

    def step_done(self, done: int) -> State:
        return replace(self, done=done, heartbeat=now())

    def to_json(self) -> dict[str, Any]:
        return {k.removeprefix(P): v for k, v in self.tags().items()} | {"abort": self.abort}


def parse(tags: dict[str, str]) -> State | None:
    """The state on a group's tags, or None when no rollout has claimed it."""
    if OWNER not in tags:
        return None

    def get(name: str) -> str:
        return tags.get(f"{P}{name}", "")

    low, high, desired = (int(x) for x in (get("blue-capacity") or "0,0,0").split(","))
    return State(
        owner=tags[OWNER],
        strategy=get("strategy"),
        image=get("image"),
        version=get("version"),
        ami=get("ami"),
        from_ami=get("from-ami"),
        template=get("template") or "::",
        green=get("green"),
        steps=tuple(int(x) for x in get("steps").split(",") if x),
        done=int(get("done") or 0),
        blue_capacity=(low, high, desired),
        started=get("started"),
        by=get("by"),
        heartbeat=get("heartbeat"),
        refresh=get("refresh"),
        abort=tags.get(ABORT, ""),
    )
