"""packer's manifest post-processor output, reduced to this run's artifacts.

The manifest file accumulates runs, so only builds whose packer_run_uuid equals last_run_uuid
belong to the run that just finished. amazon-ebs joins regions into one artifact_id:
`us-east-1:ami-1,us-west-2:ami-2`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packerpy.errors import ManifestError

MANIFEST_NAME = "manifest.json"
_REGION_AMI = re.compile(r"([a-z0-9-]+):(ami-[0-9a-f]+)")


@dataclass(frozen=True)
class Artifact:
    name: str
    builder_type: str
    run_uuid: str
    amis: dict[str, str]  # region -> AMI id, in packer's order (build region first)


def parse_artifact_id(artifact_id: str) -> dict[str, str]:
    amis: dict[str, str] = {}
    for part in artifact_id.split(","):
        match = _REGION_AMI.fullmatch(part.strip())
        if match is None:
            raise ValueError(f"{part!r} is not REGION:AMI")
        amis[match.group(1)] = match.group(2)
    return amis


def read(path: Path) -> tuple[Artifact, ...]:
    """This run's artifacts; a missing or malformed manifest is a ManifestError."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(
            f"{path}: packer finished but wrote no manifest (did the template drop the "
            "manifest post-processor?)"
        ) from None
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{path}: not valid JSON: {exc}") from None
    return _artifacts(raw, path)


def _artifacts(raw: Any, path: Path) -> tuple[Artifact, ...]:  # noqa: ANN401 - parsed JSON
    if not isinstance(raw, dict) or not isinstance(raw.get("builds"), list):
        raise ManifestError(f"{path}: no 'builds' list")
    last = raw.get("last_run_uuid")
    if not isinstance(last, str) or not last:
        raise ManifestError(f"{path}: no 'last_run_uuid'")
    found = []
    for index, build in enumerate(raw["builds"]):
        if not isinstance(build, dict) or build.get("packer_run_uuid") != last:
            continue
        artifact_id = build.get("artifact_id")
        if not isinstance(artifact_id, str):
            raise ManifestError(f"{path}: builds[{index}].artifact_id: missing")
        try:
            amis = parse_artifact_id(artifact_id)
        except ValueError as exc:
            raise ManifestError(f"{path}: builds[{index}].artifact_id: {exc}") from None
        found.append(
            Artifact(
                name=str(build.get("name", "")),
                builder_type=str(build.get("builder_type", "")),
                run_uuid=last,
                amis=amis,
            )
        )
    if not found:
        raise ManifestError(f"{path}: no build belongs to the last run ({last})")
    return tuple(found)
