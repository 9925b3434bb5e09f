from __future__ import annotations

import json
from pathlib import Path

import pytest

from packerpy.errors import EXIT_MANIFEST, ManifestError
from packerpy.packer import manifest


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(data))
    return path


def build(uuid: str, artifact_id: str, name: str = "web") -> dict[str, object]:
    return {
        "name": name,
        "builder_type": "amazon-ebs",
        "build_time": 1,
        "files": None,
        "artifact_id": artifact_id,
        "packer_run_uuid": uuid,
        "custom_data": None,
    }


def test_only_the_last_run_counts_and_regions_split(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        {
            "builds": [
                build("old", "us-east-1:ami-0000000a"),
                build("new", "us-east-1:ami-0000000b,us-west-2:ami-0000000c"),
            ],
            "last_run_uuid": "new",
        },
    )
    (artifact,) = manifest.read(path)
    assert artifact.run_uuid == "new"
    assert artifact.amis == {"us-east-1": "ami-0000000b", "us-west-2": "ami-0000000c"}
    assert list(artifact.amis) == ["us-east-1", "us-west-2"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"last_run_uuid": "x"}, "no 'builds' list"),
        ({"builds": []}, "no 'last_run_uuid'"),
        (
            {"builds": [build("a", "us-east-1:ami-0000000a")], "last_run_uuid": "b"},
            "no build belongs to the last run (b)",
        ),
        (
            {"builds": [build("a", "garbage")], "last_run_uuid": "a"},
            "builds[0].artifact_id: 'garbage' is not REGION:AMI",
        ),
    ],
)
def test_malformed_manifests(tmp_path: Path, data: object, message: str) -> None:
    path = write(tmp_path, data)
    with pytest.raises(ManifestError) as info:
        manifest.read(path)
    assert info.value.message == f"{path}: {message}"
    assert info.value.exit_code == EXIT_MANIFEST


def test_missing_and_unparsable(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="packer finished but wrote no manifest"):
        manifest.read(tmp_path / "manifest.json")
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ManifestError, match="not valid JSON"):
        manifest.read(tmp_path / "manifest.json")
