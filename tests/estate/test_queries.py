"""estate/queries.py: `version show`, `images list` and `outdated` against moto."""

from __future__ import annotations

from pathlib import Path

import pytest

from packerpy import config
from packerpy.config import Project
from packerpy.errors import ConfigError
from packerpy.estate import queries
from tests.estate.test_base_ami import RHEL, RHEL_FILTER
from tests.helpers import make_ami, make_project, settings_for


def published(
    endpoint: str, image: str, version: str, region: str = "us-east-1", **tags: str
) -> str:
    return make_ami(
        endpoint,
        region,
        name=f"{image}-{version}",
        tags={
            "packerpy:project": "acme",  # tests.helpers' project.name
            "packerpy:image": image,
            "packerpy:version": version,
            **tags,
        },
    )


def project(tmp_path: Path, **overrides: object) -> Project:
    return config.load(make_project(tmp_path, **overrides))


def test_show_before_anything_is_published(aws: str, tmp_path: Path) -> None:
    shown = queries.show(project(tmp_path), settings_for(aws), "web")
    assert shown == queries.VersionShow(
        image="web",
        configured="1.0.0",
        latest_published=None,
        configured_is_published=False,
        next={
            "major": "2.0.0",
            "minor": "1.1.0",
            "patch": "1.0.1",
            "prerelease": "1.0.1-rc.1",
        },  # no `release`: 1.0.0 is one already
    )


def test_show_compares_the_configured_version_with_what_is_published(
    aws: str, tmp_path: Path
) -> None:
    published(aws, "web", "0.9.0")
    published(aws, "web", "1.0.0")
    published(aws, "web", "1.1.0-rc.1")
    published(aws, "db", "7.0.0")
    shown = queries.show(
        project(tmp_path, images={"web": {"version": "1.1.0-rc.1"}}), settings_for(aws), "web"
    )
    assert shown.latest_published == "1.1.0-rc.1"
    assert shown.configured_is_published
    assert shown.next["release"] == "1.1.0"


def test_show_looks_in_the_images_regions(aws: str, tmp_path: Path) -> None:
    published(aws, "web", "1.0.0", "eu-west-1")
    here = project(tmp_path, images={"web": {"regions": ["us-east-1", "eu-west-1"]}})
    assert queries.show(here, settings_for(aws), "web").configured_is_published
    (tmp_path / "other").mkdir()
    default_region_only = project(tmp_path / "other")
    assert not queries.show(default_region_only, settings_for(aws), "web").configured_is_published


def test_list_images_in_semver_order(aws: str, tmp_path: Path) -> None:
    for version in ("1.10.0", "1.2.0", "1.9.0"):
        published(aws, "web", version)
    listed = queries.list_images(project(tmp_path), settings_for(aws), "web")
    assert listed.image == "web"
    assert [p.version for p in listed.versions] == ["1.2.0", "1.9.0", "1.10.0"]


def test_an_unknown_image_is_a_config_error(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        queries.list_images(project(tmp_path), settings_for(aws), "api")
    assert str(info.value) == "packerpy.toml: images.api: no such image (configured: web)"


def test_outdated_sorts_images_by_what_their_filter_selects_now(aws: str, tmp_path: Path) -> None:
    filtered = {"version": "1.0.0", "base": {"ami": None, "filter": RHEL_FILTER}}
    here = project(
        tmp_path,
        images={
            "web": None,
            "pinned": {"version": "1.0.0", "base": {"ami": "ami-03cf127a"}},
            "fresh": filtered,
            "stale": {**filtered, "version": "2.0.0"},
            "unbuilt": filtered,
        },
    )
    published(aws, "fresh", "1.0.0", **{"packerpy:base-ami": RHEL})
    published(aws, "stale", "1.0.0", **{"packerpy:base-ami": RHEL})
    published(aws, "stale", "2.0.0", **{"packerpy:base-ami": "ami-0b0b0b0b0b0b0b0b0"})

    result = queries.outdated(here, settings_for(aws))

    assert result == queries.OutdatedResult(
        outdated=(
            queries.Outdated(
                image="stale",
                version="2.0.0",
                built_on="ami-0b0b0b0b0b0b0b0b0",
                current_base=RHEL,
                current_base_name="RHEL-7.4_HVM_GA-20170808-x86_64-2-Hourly2-GP2",
            ),
        ),
        up_to_date=("fresh",),
        not_checked={"pinned": "base is pinned to ami-03cf127a", "unbuilt": "no published version"},
    )


def test_outdated_says_unknown_when_the_latest_version_has_no_base_tag(
    aws: str, tmp_path: Path
) -> None:
    here = project(tmp_path, images={"web": {"base": {"ami": None, "filter": RHEL_FILTER}}})
    published(aws, "web", "1.0.0")
    [found] = queries.outdated(here, settings_for(aws)).outdated
    assert (found.built_on, found.current_base) == ("unknown", RHEL)
