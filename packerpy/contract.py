"""The public output contract: the `--json` envelope and each command's `data`, versioned.

These models are what scripts and CI read, so they are declared here field by field and never
reflected from internal types: renaming an internal field cannot change what a user parses.
`result.json` in a run record holds the same `BuildData` as `packerpy build --json`.
Bump SCHEMA_VERSION on any incompatible change (a removed or renamed field, a changed type);
adding a field is compatible.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1


class Data(BaseModel):
    """Base of every command's `data`: frozen, and no field that is not declared."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Envelope(BaseModel):
    """What `--json` prints: exactly one of these on stdout, success or failure."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_: int = SCHEMA_VERSION
    ok: bool
    command: str
    data: dict[str, Any]
    messages: list[str]
    exit_code: int

    def to_json(self) -> dict[str, Any]:
        dumped = self.model_dump(mode="json")
        # `schema` shadows a BaseModel attribute, so the field is schema_ and renamed on output.
        return {"schema": dumped.pop("schema_"), **dumped}


class StepData(Data):
    step: str
    changed: bool
    actions: list[str]
    dry_run: bool


class BuildData(Data):
    image: str
    version: str
    amis: dict[str, str]
    run_dir: str
    packer_version: str
    steps: list[StepData]
    skipped: bool
    reason: str | None
    fingerprint: str
    base_ami: str
    timings: dict[str, float]


# Each command's `data`, in the order of `packerpy --help`. A failure's `data` is always {}.
# `schema --json` is the exception: its `data` is the JSON Schema of packerpy.toml itself.


class EmptyData(Data):
    """`data` of a command that has nothing to report (e.g. `sandbox stop` with none running)."""


class InitData(Data):
    name: str
    root: str
    created: list[str]


class ImageCheckData(Data):
    image: str
    source: str
    checks: list[str]


class ValidateData(Data):
    config: str
    packer_version: str
    images: list[ImageCheckData]


class RenderData(Data):
    image: str
    template: str
    var_file: str
    source: str
    packer_version: str


class PublishData(Data):
    image: str
    version: str
    amis: dict[str, str]
    dry_run: bool
    prune: bool
    steps: list[StepData]
    calls: int
    # (region, operation) of every AWS call that changed something.
    mutating: list[tuple[str, str]]


class OutdatedImageData(Data):
    image: str
    version: str
    built_on: str
    current_base: str
    current_base_name: str
    base_revoked: str | None = None


class OutdatedData(Data):
    outdated: list[OutdatedImageData]
    up_to_date: list[str]
    not_checked: dict[str, str]


class FindingData(Data):
    rule: str
    severity: str
    file: str
    line: int | None
    message: str
    fix: str


class LintData(Data):
    findings: list[FindingData]
    scanned: list[str]
    errors: int
    warnings: int


class SandboxData(Data):
    pid: int
    port: int
    endpoint_url: str
    state_file: str
    log_file: str
    running: bool
    started: bool
    exports: list[str]


class VersionShowData(Data):
    image: str
    configured: str
    latest_published: str | None
    configured_is_published: bool
    next: dict[str, str]


class BumpData(Data):
    image: str
    old: str
    new: str
    config: str


class PublishedData(Data):
    version: str
    amis: dict[str, str]
    tags: dict[str, str]
    created: str
    # region -> further AMIs of this version there (one version should be one AMI).
    duplicates: dict[str, list[str]] = {}


class ImagesListData(Data):
    image: str
    versions: list[PublishedData]


class ReapData(Data):
    dry_run: bool
    regions: list[str]
    # Every planned line, kept resources included ("us-east-1: keep i-1 run ... is running").
    actions: list[str]
    # What was removed (or, in a dry run, would be).
    instances: list[str]
    security_groups: list[str]
    key_pairs: list[str]
    calls: int
    mutating: list[tuple[str, str]]


class DoctorCheckData(Data):
    name: str
    status: str  # ok, warn, fail or skip
    found: str
    fix: str


class DoctorData(Data):
    checks: list[DoctorCheckData]
    ok: int
    warnings: int
    failures: int
    skipped: int


# Every command's data model, by command: the JSON Schemas a contract test pins.
DATA_MODELS: dict[str, type[Data]] = {
    "init": InitData,
    "validate": ValidateData,
    "render": RenderData,
    "build": BuildData,
    "publish": PublishData,
    "outdated": OutdatedData,
    "lint": LintData,
    "sandbox start": SandboxData,
    "sandbox status": SandboxData,
    "sandbox stop": SandboxData,
    "version show": VersionShowData,
    "version bump": BumpData,
    "images list": ImagesListData,
    "reap": ReapData,
    "doctor": DoctorData,
}


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


DATA_MODELS |= {"promote": PromoteData, "channels": ChannelsData, "rollback": RollbackData}
DATA_MODELS |= {"revoke": RevokeData}
