"""The bake plan against moto, without packer: refuse, reuse, or bake."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest

from packerpy import config, naming, scaffold
from packerpy.aws.clients import AwsClients
from packerpy.aws.settings import aws_settings
from packerpy.bake import inputs, plan
from packerpy.bake.provenance import GitState
from packerpy.errors import EXIT_VERSION_EXISTS, Refused, VersionExistsError
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


def decide(target: plan.Target, **choice: object) -> plan.BakePlan:
    return plan.decide(target, look_up(target), git=lambda: GIT, choice=plan.Choice(**choice))  # type: ignore[arg-type]


def with_config(target: plan.Target, **aws: object) -> plan.Target:
    """The target with [aws] settings changed in packerpy.toml (and so in the settings)."""
    config = target.project.config
    project = dataclasses.replace(
        target.project, config=config.model_copy(update={"aws": config.aws.model_copy(update=aws)})
    )
    settings = dataclasses.replace(target.settings, **aws)
    return dataclasses.replace(target, project=project, settings=settings)


def with_version(target: plan.Target, version: str) -> plan.Target:
    images = {"web": target.image.model_copy(update={"version": version})}
    config = target.project.config.model_copy(update={"images": images})
    return dataclasses.replace(target, project=dataclasses.replace(target.project, config=config))


def test_a_published_version_with_other_inputs_is_refused_with_exit_9(
    aws: str, target: plan.Target
) -> None:
    ami = publish(aws, "0.1.0", "0" * 64, region="us-west-2")
    with pytest.raises(VersionExistsError) as refused:
        decide(target)
    assert refused.value.exit_code == EXIT_VERSION_EXISTS == 9
    # The AMI has no parts tag (built before it existed): only the parts with tags are named.
    assert refused.value.message == (
        f"{target.project.label}: images.web.version: 0.1.0 is already published "
        f"({ami} in us-west-2) and changed: base AMI, packer version, plugin; versions "
        "are immutable: packerpy version bump web patch"
    )


def test_r4_4_build_metadata_does_not_make_a_new_version(aws: str, target: plan.Target) -> None:
    """SemVer 2.0 item 10: build metadata MUST be ignored when determining precedence, so
    0.1.0+rebuild is 0.1.0, which is published."""
    ami = publish(aws, "0.1.0", "0" * 64)
    with pytest.raises(VersionExistsError, match=f"0.1.0 is already published \\({ami} "):
        decide(with_version(target, "0.1.0+rebuild"))


def test_ux4_2_rebuilding_a_published_version_from_the_same_inputs_is_skipped(
    aws: str, target: plan.Target
) -> None:
    """Make re-running the same job on the same commit: exit 0 and skipped, not exit 9."""
    fingerprint = decide(target).fingerprint
    ami = publish(aws, "0.1.0", fingerprint)
    chosen = plan.decide(target, look_up(target), git=no_git)
    assert isinstance(chosen, plan.Reuse)
    assert chosen.published.version == "0.1.0"
    assert chosen.reason == (
        f"web 0.1.0 is already published from the same inputs ({ami} in us-east-1); nothing to bake"
    )


def test_ux4_2_exit_9_names_the_part_that_changed(aws: str, target: plan.Target) -> None:
    baked = decide(target)
    assert isinstance(baked, plan.Bake)
    ami = publish(aws, "0.1.0", baked.fingerprint)
    ec2(aws, "us-east-1").create_tags(
        Resources=[ami], Tags=[{"Key": k, "Value": v} for k, v in baked.tags.items()]
    )
    changed = dataclasses.replace(
        target,
        project=dataclasses.replace(
            target.project,
            config=target.project.config.model_copy(
                update={
                    "images": {"web": target.image.model_copy(update={"instance_type": "t3.large"})}
                }
            ),
        ),
    )
    with pytest.raises(VersionExistsError, match="and changed: template; versions are immutable"):
        decide(changed)
    with pytest.raises(VersionExistsError, match="and changed: variables; versions"):
        decide(target, user=inputs.UserVars(pairs=(("release", "2"),)))


def test_ux8_a_version_below_the_latest_published_is_refused(aws: str, target: plan.Target) -> None:
    publish(aws, "0.1.4", "0" * 64)
    older = with_version(target, "0.0.9")
    with pytest.raises(Refused) as refused:
        decide(older)
    assert refused.value.exit_code == 14
    assert refused.value.message == (
        f"{target.project.label}: images.web.version: 0.0.9 is lower than the latest "
        "published version 0.1.4; bump it, or pass --allow-older to build a hotfix line"
    )
    assert isinstance(decide(older, allow_older=True), plan.Bake)  # a hotfix line
    assert isinstance(decide(with_version(target, "0.1.5")), plan.Bake)


@pytest.mark.parametrize(
    "aws_change",
    [
        {"max_retries": 7},
        {"retry_mode": "adaptive"},
        {"ami_wait_minutes": 300},
        {"profile": "ci"},
        {"endpoint_url": "http://localhost:4566"},
    ],
)
def test_ux9_settings_that_cannot_change_the_image_keep_the_fingerprint(
    target: plan.Target, aws_change: dict[str, object]
) -> None:
    before = decide(target)
    after = decide(with_config(target, **aws_change))
    assert isinstance(before, plan.Bake) and isinstance(after, plan.Bake)
    assert after.fingerprint == before.fingerprint
    if "retry_mode" not in aws_change:  # botocore's alone; the others reach packer as before
        assert after.rendered.text != before.rendered.text


def test_var_and_var_file_content_change_the_fingerprint(
    target: plan.Target, tmp_path: Path
) -> None:
    plain = decide(target).fingerprint
    one = decide(target, user=inputs.UserVars(pairs=(("release", "2"),))).fingerprint
    other = decide(target, user=inputs.UserVars(pairs=(("release", "3"),))).fingerprint
    file_a = inputs.UserVars(files=((tmp_path / "a.pkrvars.hcl", b'release = "2"\n'),))
    file_b = inputs.UserVars(files=((tmp_path / "a.pkrvars.hcl", b'release = "3"\n'),))
    prints = {plain, one, other, decide(target, user=file_a).fingerprint}
    assert len(prints) == 4
    assert decide(target, user=file_b).fingerprint not in prints
