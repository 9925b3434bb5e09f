"""botocore's large model files, read through the user's marshal cache (aws/sessions.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from botocore.loaders import create_loader

from packerpy.aws import sessions
from packerpy.support import paths
from tests.helpers import unwritable_cache


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return paths.user_cache("botocore")


def fresh_loader() -> Any:
    """A loader of its own: the process's shared one keeps what it read in memory."""
    return sessions.new_loader()


def test_a_model_read_through_the_cache_is_botocores_own(cache: Path) -> None:
    expected = create_loader().load_service_model("ec2", "service-2")
    first = fresh_loader().load_service_model("ec2", "service-2")
    assert len(list(cache.glob("*.marshal"))) == 2  # the model and the service listing
    second = fresh_loader().load_service_model("ec2", "service-2")
    assert first == second == expected
    # Key order matters to botocore (members are built in file order): kept on both paths.
    shapes = list(expected["shapes"])
    assert list(first["shapes"]) == list(second["shapes"]) == shapes


def test_a_hit_does_not_parse_json(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_loader().load_data("endpoints")

    def no_parsing(*_: object, **__: object) -> None:
        raise AssertionError("parsed JSON despite the cache")

    monkeypatch.setattr(json, "loads", no_parsing)
    assert fresh_loader().load_data("endpoints")["partitions"]


def test_a_damaged_cache_file_is_parsed_again_and_rewritten(cache: Path) -> None:
    expected = create_loader().load_data("endpoints")
    fresh_loader().load_data("endpoints")
    (cached,) = cache.glob("*.marshal")
    cached.write_bytes(cached.read_bytes()[:1000])  # cut short, as by a full disk
    assert fresh_loader().load_data("endpoints") == expected
    assert fresh_loader().load_data("endpoints") == expected
    assert cached.stat().st_size > 1000


def test_an_unwritable_cache_only_loses_the_speed_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unwritable_cache(tmp_path, monkeypatch)
    expected = create_loader().load_data("endpoints")
    assert fresh_loader().load_data("endpoints") == expected


def test_the_service_listing_is_kept_until_botocores_data_changes(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = create_loader().list_available_services("service-2")
    assert fresh_loader().list_available_services("service-2") == expected
    monkeypatch.setattr(os, "listdir", lambda *_: pytest.fail("listed botocore's data again"))
    assert fresh_loader().list_available_services("service-2") == expected

    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache.parent.parent))  # undo() reset it
    data = Path(fresh_loader().search_paths[-1])
    (data / "packerpy-test-service").mkdir()  # a directory added: the listing is read again
    try:
        listed = fresh_loader().list_available_services("service-2")
    finally:
        (data / "packerpy-test-service").rmdir()
    assert listed == expected  # an empty directory is no service, as botocore says


def test_small_files_are_not_cached(cache: Path) -> None:
    fresh_loader().load_data("sdk-default-configuration")
    assert not cache.exists() or not list(cache.glob("*.marshal"))
