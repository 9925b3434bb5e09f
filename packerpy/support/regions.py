"""AWS regions and their DNS suffixes, read from botocore's endpoint data (no botocore import)."""

from __future__ import annotations

import json
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any


@cache
def _partitions() -> list[dict[str, Any]]:
    spec = find_spec("botocore")
    if spec is None or spec.origin is None:  # pragma: no cover - boto3 is a hard dependency
        return []
    data = json.loads((Path(spec.origin).parent / "data" / "endpoints.json").read_text())
    partitions: list[dict[str, Any]] = data["partitions"]
    return partitions


@cache
def known() -> frozenset[str]:
    return frozenset(region for part in _partitions() for region in part["regions"])


def dns_suffix(region: str) -> str:
    for part in _partitions():
        if region in part["regions"]:
            return str(part["dnsSuffix"])
    return "amazonaws.com"


def partition(region: str) -> str | None:
    """The partition a region belongs to ('aws', 'aws-cn', 'aws-us-gov', ...), None if unknown.

    AMIs cannot be copied or shared across partitions (CopyImage: "cross-partition copies" are
    unsupported), so every region, key and organization of one image must share one.
    """
    for part in _partitions():
        if region in part["regions"]:
            return str(part["partition"])
    return None
