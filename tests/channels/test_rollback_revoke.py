"""rollback and revoke against moto: history, revoked versions skipped, tags, deprecation."""

from __future__ import annotations

from pathlib import Path

import pytest

from packerpy.aws.operation import Mode
from packerpy.channels import revoke, rollback
from packerpy.config import Project
from packerpy.errors import Refused
from tests.channels.estate import REGIONS, history, project, publish, settings, value
from tests.channels.test_promote import run
from tests.helpers import ec2, tags_of


@pytest.fixture
def web(aws: str, tmp_path: Path) -> Project:
    return project(tmp_path)


def test_rollback_returns_the_channel_to_its_previous_value(aws: str, web: Project) -> None:
    old, new = publish(aws, "1.0.0"), publish(aws, "1.1.0")
    run(aws, web, "1.0.0", "dev")
    run(aws, web, "1.1.0", "dev")
    result = rollback.rollback(web, settings(aws), "web", "dev")
    assert (result.from_version, result.to_version, result.completing) == ("1.1.0", "1.0.0", False)
    assert {r: value(aws, r, "dev") for r in REGIONS} == old
    assert history(aws, "us-east-1", "dev")[-1]["Labels"] == ["v1.0.0"]
    # A step like `cd -`: the second rollback returns to where the first started.
    rollback.rollback(web, settings(aws), "web", "dev")
    assert {r: value(aws, r, "dev") for r in REGIONS} == new


def test_rollback_never_returns_to_a_revoked_version(aws: str, web: Project) -> None:
    first = publish(aws, "1.0.0")
    bad = publish(aws, "1.1.0")
    publish(aws, "1.2.0")
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        run(aws, web, version, "dev")
    for region, ami in bad.items():
        ec2(aws, region).create_tags(
            Resources=[ami], Tags=[{"Key": "packerpy:revoked", "Value": "x"}]
        )
    result = rollback.rollback(web, settings(aws), "web", "dev")
    assert result.to_version == "1.0.0"
    assert {r: value(aws, r, "dev") for r in REGIONS} == first


def test_rollback_with_nothing_to_return_to_is_refused(aws: str, web: Project) -> None:
    publish(aws, "1.0.0")
    with pytest.raises(Refused) as err:
        rollback.rollback(web, settings(aws), "web", "dev")
    assert str(err.value) == "web dev: the channel is not set; nothing to roll back"
    run(aws, web, "1.0.0", "dev")
    with pytest.raises(Refused) as err:
        rollback.rollback(web, settings(aws), "web", "dev")
    assert str(err.value) == (
        "web 1.0.0: is the only value of dev that is not revoked: nothing to roll back to"
    )


def test_revoke_moves_channels_back_tags_and_deprecates_then_converges(
    aws: str, web: Project
) -> None:
    old = publish(aws, "1.0.0")
    bad = publish(aws, "1.1.0")
    run(aws, web, "1.0.0", "dev")
    run(aws, web, "1.0.0", "staging")
    run(aws, web, "1.1.0", "dev")
    result = revoke.revoke(web, settings(aws), "web", "1.1.0", "CVE-2026-1234")
    assert sorted((m.channel, m.region, m.to_version) for m in result.moved) == [
        ("dev", r, "1.0.0") for r in sorted(REGIONS)
    ]
    for region in REGIONS:
        assert value(aws, region, "dev") == old[region]
        assert value(aws, region, "staging") == old[region]
        tags = tags_of(aws, region, bad[region])
        assert tags["packerpy:revoked"] == "CVE-2026-1234" and "packerpy:revoked-at" in tags
        image = ec2(aws, region).describe_images(ImageIds=[bad[region]])["Images"][0]
        assert image["DeprecationTime"] == result.deprecate_at.replace("+00:00", ".000Z")
    again = revoke.revoke(web, settings(aws), "web", "1.1.0", "CVE-2026-1234")
    assert again.mutating == () and again.moved == ()
    with pytest.raises(Refused, match="is revoked"):
        run(aws, web, "1.1.0", "dev")


def test_revoke_deletes_a_channel_with_no_earlier_good_version(aws: str, web: Project) -> None:
    publish(aws, "1.0.0")
    run(aws, web, "1.0.0", "dev")
    result = revoke.revoke(web, settings(aws), "web", "1.0.0", "broken")
    assert {(m.channel, m.to_version) for m in result.moved} == {("dev", None)}
    assert all(value(aws, r, "dev") is None for r in REGIONS)


def test_revoke_dry_run_changes_nothing(aws: str, web: Project) -> None:
    bad = publish(aws, "1.0.0")
    run(aws, web, "1.0.0", "dev")
    result = revoke.revoke(web, settings(aws), "web", "1.0.0", "x", Mode(dry_run=True))
    assert result.mutating == ()
    assert [a.verb for a in result.plan] == ["tag", "delete", "deprecate"] * len(REGIONS)
    assert "packerpy:revoked" not in tags_of(aws, "us-east-1", bad["us-east-1"])
