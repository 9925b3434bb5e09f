"""The bake plan against moto, without packer: refuse, reuse, or bake."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from packerpy import config, naming, scaffold
from packerpy.aws.clients import AwsClients
from packerpy.aws.settings import aws_settings
from packerpy.bake import plan
from packerpy.bake.provenance import GitState
from packerpy.errors import EXIT_VERSION_EXISTS, VersionExistsError
from packerpy.packer.binary import PackerInfo
from tests.helpers import ec2

# A PackerInfo built by hand: planning reads packer's version, it never runs packer.
PACKER = PackerInfo(binary="packer-is-not-run", version=(1, 6, 6))
STARTED = datetime(2026, 11, 27, 3, 4, 5, tzinfo=UTC)
GIT = GitState(sha="abc123", dirty=False)


@pytest.fixture
def target(aws: str, tmp_path: Path) -> plan.Target:
    scaffold.init("web", tmp_path)
    config_file = tmp_path / "packerpy.toml"
    config_file.write_text(
        config_file.read_text().replace(
            'regions = ["us-east-1"]', 'regions = ["us-east-1", "us-west-2"]'
        )
    )
    project = config.load(config_file)
    settings = aws_settings(project, environ={"AWS_ENDPOINT_URL": aws})
    return plan.Target(project, "web", settings, AwsClients(settings), PACKER, STARTED)


def look_up(target: plan.Target) -> plan.Found:
    return plan.look_up(target, plan.Preflight(target.aws, "us-east-1", target.project))


def publish(endpoint: str, version: str, fingerprint: str, region: str = "us-east-1") -> str:
    """An AMI as an earlier build left it: packerpy's identity and provenance tags."""
    client = ec2(endpoint, region)
    ami: str = client.register_image(Name=f"web-{version}", RootDeviceName="/dev/sda1")["ImageId"]
    tags = {
        naming.PROJECT_TAG: "web",  # `packerpy init web` names the project after the image
        naming.IMAGE_TAG: "web",
        naming.VERSION_TAG: version,
        naming.FINGERPRINT_TAG: fingerprint,
        naming.GIT_SHA_TAG: "old",
    }
    client.create_tags(Resources=[ami], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    return ami


def no_git() -> GitState:
    raise AssertionError("a reuse must not wait for git")


def test_nothing_published_bakes_with_provenance_tags(target: plan.Target) -> None:
    found = look_up(target)
    assert found.published == ()
    assert found.base.name.startswith("ubuntu/images/hvm-ssd/ubuntu-")
    chosen = plan.decide(target, found, git=lambda: GIT)
    assert isinstance(chosen, plan.Bake)
    assert chosen.base_ami == found.base.id
    assert chosen.tags[naming.FINGERPRINT_TAG] == chosen.fingerprint
    assert chosen.tags[naming.GIT_SHA_TAG] == "abc123"
    assert chosen.tags[naming.BUILT_AT_TAG] == "2026-11-27T03:04:05Z"
    tags = chosen.rendered.variables["tags"]
    assert isinstance(tags, dict)
    assert tags[naming.FINGERPRINT_TAG] == chosen.fingerprint
    assert tags["team"] == "platform"  # the configured tags are kept


def test_matching_fingerprint_reuses_the_published_ami(aws: str, target: plan.Target) -> None:
    fingerprint = plan.decide(target, look_up(target), git=lambda: GIT).fingerprint
    publish(aws, "0.0.9", "0" * 64)
    ami = publish(aws, "0.0.10", fingerprint)
    found = look_up(target)
    assert [p.version for p in found.published] == ["0.0.9", "0.0.10"]

    chosen = plan.decide(target, found, git=no_git)
    assert isinstance(chosen, plan.Reuse)
    assert chosen.published.version == "0.0.10"
    assert chosen.reason == (
        f"inputs unchanged: web 0.0.10 ({ami}) has fingerprint {fingerprint[:12]}; "
        "use --force-bake to bake 0.1.0 anyway"
    )
    built = plan.reused_image(target, chosen)
    assert (built.image, built.version, dict(built.amis)) == ("web", "0.0.10", {"us-east-1": ami})
    assert built.regions == ("us-east-1", "us-west-2")
    assert built.project == "web"  # the identity the steps check, not BuiltImage's default
    assert built.provenance == {
        naming.FINGERPRINT_TAG: fingerprint,
        naming.GIT_SHA_TAG: "old",
    }


def test_force_bake_bakes_identical_inputs(aws: str, target: plan.Target) -> None:
    fingerprint = plan.decide(target, look_up(target), git=lambda: GIT).fingerprint
    publish(aws, "0.0.9", fingerprint)
    chosen = plan.decide(target, look_up(target), git=lambda: GIT, force_bake=True)
    assert isinstance(chosen, plan.Bake)
    assert chosen.fingerprint == fingerprint


def test_a_different_fingerprint_bakes(aws: str, target: plan.Target) -> None:
    publish(aws, "0.0.9", "0" * 64)
    chosen = plan.decide(target, look_up(target), git=lambda: GIT)
    assert isinstance(chosen, plan.Bake)


def test_a_published_version_is_refused_with_exit_9(aws: str, target: plan.Target) -> None:
    ami = publish(aws, "0.1.0", "0" * 64, region="us-west-2")
    with pytest.raises(VersionExistsError) as refused:
        look_up(target)
    assert refused.value.exit_code == EXIT_VERSION_EXISTS == 9
    assert refused.value.message == (
        f"{target.project.label}: images.web.version: 0.1.0 is already published "
        f"({ami} in us-west-2); versions are immutable: packerpy version bump web patch"
    )


def test_r4_4_build_metadata_does_not_make_a_new_version(aws: str, target: plan.Target) -> None:
    """SemVer 2.0 item 10: build metadata MUST be ignored when determining precedence, so
    0.1.0+rebuild is 0.1.0, which is published."""
    ami = publish(aws, "0.1.0", "0" * 64)
    rebuild = dataclasses.replace(
        target.project,
        config=target.project.config.model_copy(
            update={"images": {"web": target.image.model_copy(update={"version": "0.1.0+rebuild"})}}
        ),
    )
    with pytest.raises(VersionExistsError, match=f"0.1.0\\+rebuild is already published \\({ami} "):
        look_up(dataclasses.replace(target, project=rebuild))
