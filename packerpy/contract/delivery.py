"""`data` of the commands that deliver a version to its consumers: promote, channels, rollback,
revoke (SSM channel parameters) and rollout (Auto Scaling groups)."""

from __future__ import annotations

from packerpy.contract.base import Data


# --- channels (README "Promotion"): promote, channels, rollback, revoke ---
class PromoteData(Data):
    image: str
    version: str
    channel: str
    parameter: str  # the SSM parameter name, the same in every region
    amis: dict[str, str]  # region -> AMI the channel points at
    previous: dict[str, str | None]  # region -> version (or AMI) it pointed at before
    forced: list[str]  # gates passed by option: "verify" (--force), "order" (--skip-order)
    dry_run: bool
    actions: list[str]
    calls: int
    ssm_calls: int
    mutating: list[tuple[str, str]]


class ChannelEntryData(Data):
    parameter_version: int
    ami: str
    version: str | None  # None: an AMI that is no published version of the image
    labels: list[str]
    modified: str


class ChannelData(Data):
    channel: str
    version: str | None  # the version every region points at; None when unset or split
    parameters: dict[str, str]  # region -> parameter name
    history: dict[str, list[ChannelEntryData]]  # region -> values, oldest first, current last


class ChannelsData(Data):
    image: str
    channels: list[ChannelData]  # in promotion order


class RollbackData(Data):
    image: str
    channel: str
    parameter: str
    from_version: str | None
    to_version: str
    amis: dict[str, str]
    completing: bool
    dry_run: bool
    actions: list[str]
    calls: int
    mutating: list[tuple[str, str]]


class RevokeData(Data):
    image: str
    version: str
    reason: str
    amis: dict[str, str]
    moved: list[dict[str, str | None]]  # {channel, region, to_version}; None: deleted
    deprecate_at: str
    dry_run: bool
    actions: list[str]
    calls: int
    mutating: list[tuple[str, str]]


# --- rollout (packerpy/rollout/; appended as one block) ---------------------------------------
class RolloutReadingData(Data):
    at: float  # seconds since the rollout started
    in_service: int
    healthy_targets: int
    wanted: int
    alarm: str | None


class RolloutStepData(Data):
    index: int
    percent: int
    green: int  # green's desired capacity after the step
    blue: int  # blue's desired capacity after the step
    seconds: float
    readings: list[RolloutReadingData]


class RolloutData(Data):
    image: str
    channel: str
    asg: str
    region: str
    strategy: str
    dry_run: bool
    ami: str
    from_ami: str
    version: str
    blue: str
    green: str  # empty for the rolling strategy
    resumed_from: int | None  # steps a resumed rollout found done
    # Every planned call, in order ("us-east-1: step web-green-... 10%: ...").
    actions: list[str]
    steps: list[RolloutStepData]
    seconds: float
    calls: int
    mutating: list[tuple[str, str]]


class RolloutStatusData(Data):
    asg: str
    region: str
    group: str  # the live group's real name (it follows green after each rollout)
    desired: int
    in_progress: bool
    state: dict[str, str] | None  # the packerpy:rollout:* tags, without the prefix
    owner_alive: bool | None  # None: the owner ran on another host
    green_desired: int | None
    green_in_service: int | None


class RolloutAbortData(Data):
    asg: str
    region: str
    group: str
    done: list[str]
