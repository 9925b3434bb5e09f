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
