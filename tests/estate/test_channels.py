"""estate/channels.py: the read side other commands import (cleanup, rollout, report)."""

from __future__ import annotations

from pathlib import Path

from packerpy.channels import promote
from packerpy.estate import channels as reader
from tests.channels.estate import CHANNELS, REGIONS, parameter, project, publish, settings, ssm
from tests.steps.amis import clients


def test_read_channels_gives_current_value_and_labelled_history_per_region(
    aws: str, tmp_path: Path
) -> None:
    web = project(tmp_path)
    old, new = publish(aws, "1.0.0"), publish(aws, "1.1.0")
    for version in ("1.0.0", "1.1.0"):
        promote.promote(web, settings(aws), "web", version, "dev")
    view = reader.read_channels(clients(aws), "acme", "web", CHANNELS, REGIONS, "/packerpy")
    assert list(view.channels) == list(CHANNELS)
    assert view.channels["dev"].version == "1.1.0"
    assert view.channels["prod"].version is None and view.current("prod", "us-east-1") is None
    history = view.channels["dev"].regions["eu-west-1"].history
    assert [(e.parameter_version, e.ami, e.version, e.labels) for e in history] == [
        (1, old["eu-west-1"], "1.0.0", ("v1.0.0",)),
        (2, new["eu-west-1"], "1.1.0", ("v1.1.0",)),
    ]
    current = view.current("dev", "us-east-1")
    assert current is not None and current.ami == new["us-east-1"] and current.modified
    assert view.pointing_at("1.1.0") == ("dev",) and view.pointing_at("1.0.0") == ()


def test_a_value_packerpy_did_not_publish_has_no_version(aws: str) -> None:
    ssm(aws, "us-east-1").put_parameter(
        Name=parameter("dev"), Value="ami-12345678", Type="String", DataType="aws:ec2:image"
    )
    view = reader.read_channels(clients(aws), "acme", "web", ["dev"], ["us-east-1"], "/packerpy")
    current = view.current("dev", "us-east-1")
    assert current is not None and (current.ami, current.version) == ("ami-12345678", None)
    assert view.channels["dev"].version is None
