"""The envelope every `--json` prints, and the base of every command's `data`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

SCHEMA_VERSION = 1


class Data(BaseModel):
    """Base of every command's `data`: frozen, and no field that is not declared.

    Each model's validator is built when it is first used, not at import: a command uses one
    or two of the ~30, and building all of them cost every run 25 ms (tests/cli/test_contract.py
    builds each one, through its JSON Schema).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


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
