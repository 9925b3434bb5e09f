"""Run records: every build leaves .packerpy/runs/<UTC timestamp>-<image>/ behind.

A record holds the rendered template, the var file, packer's log, the manifest and result.json,
so a bake can be understood (and reproduced) after the fact.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from packerpy.support import atomic

RESULT_NAME = "result.json"
LOG_NAME = "packer.log"


def create(runs_dir: Path, image: str, now: datetime) -> Path:
    """A fresh, unique directory; two builds in the same second get -2, -3 ... suffixes."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{now:%Y%m%dT%H%M%SZ}-{image}"
    for attempt in range(1, 1000):
        candidate = runs_dir / (stem if attempt == 1 else f"{stem}-{attempt}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"{runs_dir}: too many runs named {stem}")


def write_result(run_dir: Path, payload: Mapping[str, Any]) -> Path:
    path = run_dir / RESULT_NAME
    atomic.write_text(path, json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
    return path
