"""Pure parts of a rollout: options parsing, capacity steps, the state's tag round trip."""

from __future__ import annotations

import pytest

from packerpy.errors import ConfigError
from packerpy.rollout import model, state
from tests.rollout import fleet


def test_durations() -> None:
    assert [model.seconds("--x", v) for v in ("60s", "10m", "1h", "500ms", "2.5")] == [
        60.0,
        600.0,
        3600.0,
        0.5,
        2.5,
    ]
    with pytest.raises(ConfigError, match=r"^--bake-time '1d': not a duration like 60s"):
        model.seconds("--bake-time", "1d")


def test_canary_steps_and_green_sizes_round_up() -> None:
    assert model.percentages("10,50,100") == (10, 50, 100)
    assert model.green_sizes(3, (10, 50, 100)) == (1, 2, 3)
    assert model.green_sizes(10, (10, 50, 100)) == (1, 5, 10)
    for bad in ("0,100", "50,50,100", "a,100", "100,150"):
        with pytest.raises(ConfigError, match=r"^--canary"):
            model.percentages(bad)


def test_state_round_trips_through_tags_within_aws_limits() -> None:
    found = fleet.SAMPLE_STATE
    tags = found.tags()
    assert state.parse(tags) == found
    assert (found.template_id, found.source_version, found.new_version) == (
        "lt-0123456789abcdef0",
        "3",
        "4",
    )
    # CreateOrUpdateTags: keys up to 128 characters, values up to 256.
    assert all(len(k) <= 128 and len(v) <= 256 for k, v in tags.items())
    assert state.parse({"team": "web"}) is None
