"""promote against moto: the parameter per region, the gates, convergence, partial outcomes."""

from __future__ import annotations

from pathlib import Path

import pytest

from packerpy.aws.operation import Mode
from packerpy.channels import common, promote
from packerpy.config import Project
from packerpy.errors import AwsError, ConfigError, Refused
from tests.channels.estate import (
    REGIONS,
    history,
    parameter,
    project,
    publish,
    settings,
    ssm,
    value,
)
from tests.helpers import ec2, tags_of


@pytest.fixture
def web(aws: str, tmp_path: Path) -> Project:
    return project(tmp_path)


def run(
    aws: str, web: Project, version: str, channel: str, **options: bool
) -> promote.PromoteResult:
    return promote.promote(
        web, settings(aws), "web", version, channel, promote.PromoteOptions(**options)
    )


def test_promote_writes_an_ec2_image_parameter_labelled_with_the_version_in_every_region(
    aws: str, web: Project
) -> None:
    amis = publish(aws, "1.0.0")
    result = run(aws, web, "1.0.0", "dev")
    assert result.amis == amis and result.previous == {r: None for r in REGIONS}
    for region in REGIONS:
        found = ssm(aws, region).get_parameter(Name=parameter("dev"))["Parameter"]
        assert (found["Value"], found["Type"], found["DataType"]) == (
            amis[region],
            "String",
            "aws:ec2:image",
        )
        assert history(aws, region, "dev")[-1]["Labels"] == ["v1.0.0"]


def test_ssm_calls_per_promotion_and_a_rerun_changes_nothing(aws: str, web: Project) -> None:
    publish(aws, "1.0.0")
    run(aws, web, "1.0.0", "dev")
    first = run(aws, web, "1.0.0", "staging")
    # Per region: GetParameterHistory of staging and of dev, PutParameter, LabelParameterVersion.
    assert first.ssm_calls == 4 * len(REGIONS)
    again = run(aws, web, "1.0.0", "staging")
    assert again.mutating == () and again.plan == ()
    assert again.ssm_calls == 2 * len(REGIONS)


def test_dry_run_plans_every_write_and_makes_no_mutating_call(aws: str, web: Project) -> None:
    amis = publish(aws, "1.0.0")
    result = promote.promote(web, settings(aws), "web", "1.0.0", "dev", mode=Mode(dry_run=True))
    assert result.mutating == () and result.dry_run
    assert result.actions == tuple(
        f"{r}: set {parameter('dev')} dev -> 1.0.0 ({amis[r]})" for r in REGIONS
    )
    assert value(aws, "us-east-1", "dev") is None


def test_a_channel_the_image_does_not_declare_is_a_config_error(aws: str, web: Project) -> None:
    publish(aws, "1.0.0")
    with pytest.raises(ConfigError) as err:
        run(aws, web, "1.0.0", "qa")
    assert str(err.value) == (
        f"{web.label}: images.web.channels: no channel 'qa' (declared: dev, staging, prod)"
    )


def test_refuses_a_version_missing_from_a_declared_region(aws: str, web: Project) -> None:
    publish(aws, "1.0.0", regions=["us-east-1"])
    with pytest.raises(Refused) as err:
        run(aws, web, "1.0.0", "dev")
    assert str(err.value) == "web 1.0.0: not in eu-west-1 (a region of images.web)"


def test_refuses_a_revoked_version_even_with_force(aws: str, web: Project) -> None:
    publish(aws, "1.0.0", **{"packerpy:revoked": "CVE-2026-1"})
    with pytest.raises(Refused) as err:
        run(aws, web, "1.0.0", "dev", force=True, skip_order=True)
    assert str(err.value) == "web 1.0.0: is revoked (CVE-2026-1); it cannot be promoted"


def test_refuses_an_unverified_version_and_force_is_tagged(aws: str, web: Project) -> None:
    amis = publish(aws, "1.0.0", verified="fail")
    with pytest.raises(Refused) as err:
        run(aws, web, "1.0.0", "dev")
    assert str(err.value) == (
        "web 1.0.0: is not verified (packerpy:verified = fail in us-east-1): run "
        "`packerpy verify web 1.0.0`, or promote with --force (recorded on the AMI)"
    )
    result = run(aws, web, "1.0.0", "dev", force=True)
    assert result.forced == ("verify",)
    for region in REGIONS:
        assert tags_of(aws, region, amis[region])["packerpy:forced"].startswith("dev: verify at ")
        assert value(aws, region, "dev") == amis[region]
    assert run(aws, web, "1.0.0", "dev", force=True).mutating == ()  # tagged once


def test_refuses_a_version_not_on_the_previous_channel_unless_skip_order(
    aws: str, web: Project
) -> None:
    publish(aws, "1.0.0")
    run(aws, web, "1.0.0", "dev")
    with pytest.raises(Refused) as err:
        run(aws, web, "1.0.0", "prod")
    assert str(err.value) == (
        "web 1.0.0: not on staging in us-east-1 (staging holds nothing; prod takes a version "
        "from staging): promote it to staging first, or pass --skip-order"
    )
    result = run(aws, web, "1.0.0", "prod", skip_order=True)
    assert result.forced == ("order",)
    assert tags_of(aws, "us-east-1", result.amis["us-east-1"])["packerpy:forced"].startswith(
        "prod: order at "
    )


def test_the_order_rule_is_the_previous_channels_value_now(aws: str, web: Project) -> None:
    publish(aws, "1.0.0")
    publish(aws, "1.1.0")
    run(aws, web, "1.0.0", "dev")
    run(aws, web, "1.1.0", "dev")  # 1.0.0 was on dev, is no longer
    with pytest.raises(Refused, match=r"not on dev in us-east-1 \(dev holds 1.1.0"):
        run(aws, web, "1.0.0", "staging")
    assert run(aws, web, "1.1.0", "staging").amis


def test_ssm_would_reject_an_ami_that_is_not_available_so_promote_refuses_it(
    aws: str, web: Project
) -> None:
    """Real SSM validates an aws:ec2:image value against EC2 (asynchronously; the parameter
    version is rejected when the AMI does not exist: SSM User Guide, "Native parameter support
    for Amazon Machine Image IDs"); moto accepts any value, so promote checks the state."""
    amis = publish(aws, "1.0.0")
    ec2(aws, "eu-west-1").deregister_image(ImageId=amis["eu-west-1"])
    with pytest.raises(Refused, match=r"^web 1\.0\.0: not in eu-west-1"):
        run(aws, web, "1.0.0", "dev")


def test_a_failure_in_one_region_is_reported_and_a_rerun_completes_it(
    aws: str, web: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    amis = publish(aws, "1.0.0")
    real = common.write

    def flaky(aws_: object, region: str, *args: object) -> int:
        if region == "eu-west-1":
            raise AwsError("aws eu-west-1: write failed: InternalServerError: boom")
        return real(aws_, region, *args)  # type: ignore[arg-type] - passed through unchanged

    monkeypatch.setattr(common, "write", flaky)
    with pytest.raises(AwsError) as err:
        run(aws, web, "1.0.0", "dev")
    assert str(err.value) == (
        "promote web 1.0.0 to dev: incomplete: failed in eu-west-1; done in us-east-1; "
        "run it again to finish"
    )
    assert err.value.detail == (
        "eu-west-1: failed: aws eu-west-1: write failed: InternalServerError: boom",
    )
    assert value(aws, "us-east-1", "dev") == amis["us-east-1"]
    assert value(aws, "eu-west-1", "dev") is None
    monkeypatch.setattr(common, "write", real)
    again = run(aws, web, "1.0.0", "dev")
    assert [a.region for a in again.plan] == ["eu-west-1"]
    assert value(aws, "eu-west-1", "dev") == amis["eu-west-1"]
