"""estate/regions.py: opt-in regions the account has not enabled are refused (review F13).

AWS rule: a call in an opt-in region the account has not enabled fails with OptInRequired
(EC2 API reference, DescribeRegions `OptInStatus`). moto reports `not-opted-in` for regions
launched after March 2019 (e.g. ap-east-1, me-south-1) and `opt-in-not-required` for the others.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from packerpy import config
from packerpy.aws.clients import AwsClients
from packerpy.aws.settings import aws_settings
from packerpy.errors import ConfigError
from packerpy.estate import regions
from packerpy.release import publish
from packerpy.sandbox import free_port
from tests.helpers import ec2, make_ami, settings_for

WHERE = "packerpy.toml: images.web.regions"


def test_f13_enabled_regions_pass_in_one_call(aws: str) -> None:
    aws_clients = AwsClients(settings_for(aws))
    regions.check_enabled(aws_clients, ["us-east-1", "eu-west-1"], where=WHERE)
    assert aws_clients.log.calls == [("us-east-1", "DescribeRegions")]


def test_f13_a_region_not_enabled_is_an_error_naming_it_and_how_to_enable_it(aws: str) -> None:
    aws_clients = AwsClients(settings_for(aws))
    with pytest.raises(ConfigError) as info:
        regions.check_enabled(aws_clients, ["us-east-1", "ap-east-1", "me-south-1"], where=WHERE)
    assert info.value.exit_code == 2
    assert info.value.message == (
        "packerpy.toml: images.web.regions: 'ap-east-1' is not enabled for this AWS account "
        "(OptInStatus not-opted-in) (also me-south-1); enable it with "
        "`aws account enable-region --region-name ap-east-1` or in the console "
        "(Account, AWS Regions), or remove it from the config"
    )


def test_f13_opted_in_and_opt_in_not_required_are_enabled() -> None:
    status = {
        "ap-east-1": "opted-in",
        "us-east-1": "opt-in-not-required",
        "me-south-1": "not-opted-in",
    }
    assert regions.not_enabled(status, ["us-east-1", "ap-east-1", "me-south-1"]) == ["me-south-1"]
    # Not listed at all: another partition, which is the config's partition rule.
    assert regions.not_enabled(status, ["cn-north-1"]) == []


def test_f13_validate_reports_enabled_regions_or_refuses(aws: str) -> None:
    aws_clients = AwsClients(settings_for(aws))
    assert regions.validate_check(aws_clients, {WHERE: ["us-east-1"]}) == "regions enabled"
    with pytest.raises(ConfigError, match=r"^packerpy\.toml: images\.db\.regions: 'ap-east-1' "):
        regions.validate_check(
            aws_clients, {WHERE: ["us-east-1"], "packerpy.toml: images.db.regions": ["ap-east-1"]}
        )


def test_f13_validate_skips_the_check_with_a_note_when_aws_does_not_answer() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    note = regions.validate_check(AwsClients(settings_for(endpoint)), {WHERE: ["ap-east-1"]})
    assert note.startswith(
        f"regions not checked: aws us-east-1: the EC2 endpoint {endpoint} does not answer ("
    )


def test_f13_publish_refuses_a_region_not_enabled_before_any_copy(aws: str, tmp_path: Path) -> None:
    make_ami(aws, tags={"packerpy:image": "web", "packerpy:version": "1.0.0"})
    path = tmp_path / "packerpy.toml"
    path.write_text(
        textwrap.dedent("""
        [images.web]
        version = "1.0.0"
        base = { ami = "ami-03cf127a" }
        regions = ["us-east-1", "ap-east-1"]
        """)
    )
    project = config.load(path)
    with pytest.raises(ConfigError) as info:
        publish.publish(project, aws_settings(project), "web", "1.0.0")
    assert info.value.message.startswith(f"{path}: images.web.regions: 'ap-east-1' is not enabled")
    assert ec2(aws, "ap-east-1").describe_images(Owners=["self"])["Images"] == []
