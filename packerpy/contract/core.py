"""`data` of the commands that make and publish images: build, validate, publish, lint, ..."""

from __future__ import annotations

from packerpy.contract.base import Data


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
    duplicates: dict[str, list[str]] = {}  # noqa: RUF012 - pydantic copies field defaults


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


# build (issue 11): a failed build's `data` (the envelope has ok=false); phase is the one that
# was running: lint, lookup, render, claim, init, bake, manifest or steps.
class BuildFailedData(Data):
    image: str
    version: str
    run_dir: str
    phase: str | None
    log: str
    exit_code: int


# `build A B` and `build --all`: one entry per image; `status` is built, skipped or failed.
class BuildImageResultData(Data):
    image: str
    status: str
    version: str
    run_dir: str | None
    exit_code: int
    phase: str | None
    error: str | None
    amis: dict[str, str]


class BuildManyData(Data):
    images: list[BuildImageResultData]
    exit_code: int  # the worst: the highest non-zero code, 130 first if any was interrupted
    built: int
    skipped: int
    failed: int
