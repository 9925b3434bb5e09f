"""Regression tests for reliability review group 1 and fidelity findings 3-6, 13, 16: the config
refuses at load what AWS or packer would refuse after the build instance launched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from packerpy import config, naming
from packerpy.config.values import USER_TAGS_MAX
from packerpy.errors import EXIT_CONFIG, ConfigError
from tests.helpers import make_project

KEY = "1234abcd-12ab-34cd-56ef-1234567890ab"
# Arabic-Indic and fullwidth digits: Python's \d matches them, EC2 does not.
ARABIC = "\u0661" * 12
FULLWIDTH = "\uff11" * 12
ARN_EAST = f"arn:aws:kms:us-east-1:111122223333:key/{KEY}"


def refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **overrides: Any) -> str:
    """The one-line message loading the project with `overrides` fails with."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        config.load(make_project(tmp_path, **overrides))
    assert info.value.exit_code == EXIT_CONFIG
    assert "\n" not in info.value.message
    assert len(info.value.message) < 400, info.value.message
    return info.value.message


def web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **fields: Any) -> str:
    return refused(tmp_path, monkeypatch, images={"web": fields})


def write_raw(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "packerpy.toml"
    path.write_bytes(text.encode())
    return path


MINIMAL = '[images.web]\nversion = "1.0.0"\nbase = { ami = "ami-03cf127a" }\n'


@pytest.mark.parametrize(
    ("snippet", "field"),
    [
        ("variables = { x = nan }", "images.web.variables.x: nan is not a finite number"),
        ("variables = { x = { n = { a = [-inf] } } }", "images.web.variables.x.n.a[0]: -inf"),
        ("variables = { d = [1979-05-27] }", "images.web.variables.d[0]: datetime.date"),
        ("variables = { d = { when = 1979-05-27T07:32:00Z } }", "variables.d.when: datetime"),
        ("variables = { d = 1979-05-27 }", "images.web.variables.d: datetime.date(1979, 5, 27)"),
    ],
)
def test_r1_2_nan_inf_and_dates_in_variables_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snippet: str, field: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        config.load(write_raw(tmp_path, MINIMAL + snippet + "\n"))
    assert field in info.value.message
    assert info.value.detail == ()  # one problem, one line (no union-branch noise, r1.19)


@pytest.mark.parametrize("depth", [30, 800, 5000])
def test_r1_3_deep_nesting_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, depth: int
) -> None:
    monkeypatch.chdir(tmp_path)
    text = MINIMAL + "variables = { x = " + "[" * depth + "1" + "]" * depth + " }\n"
    with pytest.raises(ConfigError, match=r"nest|too deeply"):
        config.load(write_raw(tmp_path, text))


def test_r1_3_variable_nesting_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    value: Any = 1
    for _ in range(9):
        value = [value]
    assert "nests more than 8 levels deep" in web(tmp_path, monkeypatch, variables={"x": value})


@pytest.mark.parametrize(
    "fields",
    [
        {"template": "a" * 300},
        {"provisioners": [{"script": "s" * 5000}]},
        {"communicator": {"type": "ssh", "ssh_username": "u", "ssh_private_key_file": "k" * 300}},
        {"secrets": ["A" * 1_000_000]},
        {"tags": {"team": "v" * 1_000_000}},
    ],
)
def test_r1_4_over_long_values_refused_in_one_short_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any]
) -> None:
    message = web(tmp_path, monkeypatch, **fields)
    assert f"images.web.{next(iter(fields))}" in message


@pytest.mark.parametrize("field", ["templates_dir", "provisioners_dir", "runs_dir"])
@pytest.mark.parametrize("value", ["/", "/etc", "../outside", "x" * 300, "runs\x00"])
def test_r1_5_project_directories_confined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, field: str, value: str
) -> None:
    message = refused(tmp_path, monkeypatch, project={field: value})
    assert f"project.{field}" in message


def test_r1_5_outside_paths_allowed_explicitly(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    (shared / "templates").mkdir(parents=True)
    (tmp_path / "proj").mkdir()
    overrides = {"project": {"templates_dir": "../shared/templates"}}
    with pytest.raises(ConfigError, match="allow_outside_paths"):
        config.load(make_project(tmp_path / "proj", **overrides))
    overrides["project"]["allow_outside_paths"] = True  # type: ignore[assignment]
    config.load(make_project(tmp_path / "proj", **overrides))


SSH = {"type": "ssh", "ssh_username": "root"}


@pytest.mark.parametrize("script", ["/etc/passwd", "../outside.sh", "scripts/link.sh"])
def test_r1_15_scripts_confined_to_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str
) -> None:
    (tmp_path / "outside.sh").write_text("#!/bin/sh\n")
    project = tmp_path / "p"
    (project / "scripts").mkdir(parents=True)
    (project / "scripts" / "link.sh").symlink_to("/etc/hostname")
    message = refused(
        project,
        monkeypatch,
        images={"web": {"provisioners": [{"script": script}], "communicator": SSH}},
    )
    assert "images.web.provisioners[0].script" in message and "outside the project" in message


def test_r1_15_key_file_outside_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ssh = {**SSH, "ssh_private_key_file": "/etc/hostname", "ssh_keypair_name": "ci"}
    assert "outside the project" in web(tmp_path, monkeypatch, communicator=ssh)


@pytest.mark.parametrize("url", ["http://[x", "http://", "ftp://h", "http://h:99999", "http://a b"])
def test_r1_6_endpoint_urls_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    from packerpy.aws.settings import aws_settings

    message = refused(tmp_path, monkeypatch, aws={"endpoint_url": url})
    assert "aws.endpoint_url" in message
    project = config.load(make_project(tmp_path))
    with pytest.raises(ConfigError, match=r"^AWS_ENDPOINT_URL: "):
        aws_settings(project, environ={"AWS_ENDPOINT_URL": url})
    with pytest.raises(ConfigError, match=r"^--endpoint-url: "):
        aws_settings(project, endpoint_url=url, environ={})


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"deprecate_after": "99999999999w"}, "is not a duration"),
        ({"deprecate_after": "3651d"}, "more than 10 years"),
        ({"communicator": {"ssh_timeout": "999999999999h"}}, "is not a duration"),
        ({"communicator": {"ssh_timeout": "25h"}}, "more than 24h"),
    ],
)
def test_r1_9_durations_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any], expected: str
) -> None:
    assert expected in web(tmp_path, monkeypatch, **fields)


def test_r1_9_ten_years_accepted(tmp_path: Path) -> None:
    config.load(make_project(tmp_path, images={"web": {"deprecate_after": "3650d"}}))


@pytest.mark.parametrize(
    "fields",
    [
        {"share": {"accounts": [ARABIC]}},
        {"share": {"accounts": [FULLWIDTH]}},
        {"share": {"org_arns": [f"arn:aws:organizations::{ARABIC}:organization/o-abcdefghij"]}},
        {
            "share": {
                "org_arns": ["arn:awsbogus:organizations::111122223333:organization/o-abcdefghij"]
            }
        },
        {
            "encrypt": True,
            "kms_key_ids": {"us-east-1": ARN_EAST.replace("111122223333", FULLWIDTH)},
        },
    ],
)
def test_r1_10_non_ascii_digits_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any]
) -> None:
    assert "is not a" in web(tmp_path, monkeypatch, **fields)


@pytest.mark.parametrize("other", ["cn-north-1", "us-gov-west-1", "us-iso-east-1"])
def test_r1_11_f13_one_partition_per_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, other: str
) -> None:
    message = web(tmp_path, monkeypatch, regions=["us-east-1", other])
    assert f"images.web.regions[1]: '{other}' is in partition" in message


def test_r1_11_f13_arns_in_the_image_partition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = "arn:aws-cn:organizations::111122223333:organization/o-abcdefghij"
    assert "share.org_arns[0]" in web(tmp_path, monkeypatch, share={"org_arns": [org]})
    gov = f"arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/{KEY}"
    gov_image = {
        "encrypt": True,
        "regions": ["us-gov-west-1"],
        "kms_key_ids": {"us-gov-west-1": gov},
    }
    config.load(make_project(tmp_path, images={"web": gov_image}))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {
                "kms_key_ids": {"us-east-1": "alias/aws/ebs"},
                "share": {"accounts": ["111122223333"]},
            },
            "AWS-managed key",
        ),
        (
            {
                "kms_key_ids": {"us-east-1": "arn:aws:kms:us-east-1:111122223333:alias/aws/ebs"},
                "share": {
                    "ou_arns": [
                        "arn:aws:organizations::111122223333:ou/o-abcdefghij/ou-ab12-abcdefgh"
                    ]
                },
            },
            "AWS-managed key",
        ),
        (
            {"kms_key_ids": {"us-east-1": ARN_EAST.replace("us-east-1", "eu-west-1")}},
            "is a key in eu-west-1",
        ),
        (
            {"kms_key_ids": {"us-east-1": "arn:aws:kms:us-east-1:111122223333:key/-"}},
            "is not a KMS",
        ),
        ({"share": {"public": True}, "allow_public": True}, "encrypted AMI cannot be made public"),
    ],
)
def test_r1_12_f3_f4_kms_and_share_combinations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any], expected: str
) -> None:
    assert expected in web(tmp_path, monkeypatch, encrypt=True, **fields)


def test_f4_public_unencrypted_image_loads_and_lints_without_ppl001(tmp_path: Path) -> None:
    from packerpy.lint.policy import _image_hits

    path = make_project(
        tmp_path,
        images={"web": {"encrypt": False, "share": {"public": True}, "allow_public": True}},
    )
    image = config.load(path).image("web")
    codes = [hit[0] for hit in _image_hits("web", image, ())]
    assert "PPL001" not in codes and "PPL003" in codes


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"tags": {"team": "a\x00b"}}, "images.web.tags.team: 'a\\x00b' contains a control"),
        ({"tags": {"t\x1bx": "v"}}, "contains a control character"),
        ({"base": {"filter": {"name": "x", "owners": [""]}}}, "is not an owner"),
        ({"base": {"filter": {"name": "x", "owners": ["hello world"]}}}, "is not an owner"),
        ({"base": {"filter": {"name": "n" * 300, "owners": ["self"]}}}, "at most 256"),
    ],
)
def test_r1_13_values_rejected_after_launch_refused_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any], expected: str
) -> None:
    assert expected in web(tmp_path, monkeypatch, **fields)


@pytest.mark.parametrize(
    "path",
    ["/opt/foo /var/lib/x", "/opt/my app", "//", "/.", "/opt/x\n/", "/opt/a\x00b", "/opt/*", "/"],
)
def test_r1_14_scrub_paths_scrub_sh_would_split_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    assert "images.web.scrub_paths[0]" in web(tmp_path, monkeypatch, scrub_paths=[path])


@pytest.mark.parametrize(
    ("section", "fields", "field"),
    [
        ("aws", {"max_retries": True}, "aws.max_retries"),
        ("aws", {"max_retries": "3"}, "aws.max_retries"),
        ("web", {"encrypt": "no"}, "images.web.encrypt"),
        ("web", {"encrypt": 1}, "images.web.encrypt"),
        ("web", {"allow_public": "true"}, "images.web.allow_public"),
        ("web", {"build_env": {"require_imdsv2": 1}}, "images.web.build_env.require_imdsv2"),
        ("web", {"communicator": {"ssh_port": True}}, "images.web.communicator.ssh_port"),
        ("web", {"communicator": {"ssh_port": "3"}}, "images.web.communicator.ssh_port"),
        (
            "web",
            {"base": {"filter": {"name": "x", "owners": ["self"], "most_recent": 1}}},
            "most_recent",
        ),
    ],
)
def test_r1_16_strict_types(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    section: str,
    fields: dict[str, Any],
    field: str,
) -> None:
    overrides = {"aws": fields} if section == "aws" else {"images": {"web": fields}}
    assert field in refused(tmp_path, monkeypatch, **overrides)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"instance_type": "x.y"}, "is not an instance type"),
        ({"secrets": ["DB", "DB"]}, "secrets: a secret is listed twice"),
    ],
)
def test_r1_17_other_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any], expected: str
) -> None:
    assert expected in web(tmp_path, monkeypatch, **fields)


@pytest.mark.parametrize(
    "kind",
    [
        "t3.micro",
        "m7i-flex.large",
        "u-6tb1.metal",
        "mac2-m2pro.metal",
        "c5.metal-24xl",
        "g4dn.12xlarge",
        "x2iedn.32xlarge",
        "p4de.24xlarge",
        "t4g.nano",
    ],
)
def test_r1_17_real_instance_types_accepted(tmp_path: Path, kind: str) -> None:
    config.load(make_project(tmp_path, images={"web": {"instance_type": kind}}))


def test_r1_18_cr_only_line_endings_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.load(write_raw(tmp_path, MINIMAL.replace("\n", "\r")))
    config.load(write_raw(tmp_path, MINIMAL.replace("\n", "\r\n")))


def test_r1_19_messages_short_and_directory_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = refused(tmp_path, monkeypatch, images={"web": {"version": "1" * 1_000_000}})
    assert "(1000000 characters)" in message
    with pytest.raises(ConfigError, match="is a directory"):
        config.find_config(tmp_path)
    with pytest.raises(ConfigError, match="not a regular file"):
        config.find_config(Path("/dev/null"))


def test_f5_public_deprecation_at_most_two_years(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = {"encrypt": False, "share": {"public": True}, "allow_public": True}
    assert "more than 2 years" in web(tmp_path, monkeypatch, deprecate_after="731d", **public)
    config.load(make_project(tmp_path, images={"web": {"deprecate_after": "730d", **public}}))


def test_f6_tag_limit_counts_packerpys_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert USER_TAGS_MAX == 50 - naming.PACKERPY_TAG_COUNT
    tags = {f"k{i}": "v" for i in range(USER_TAGS_MAX)}
    config.load(make_project(tmp_path, images={"web": {"tags": tags}}))
    tags["one-more"] = "v"
    message = web(tmp_path, monkeypatch, tags=tags)
    assert f"has {USER_TAGS_MAX + 1} tags; AWS allows 50" in message


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"team": "aws:x"}, "values may not start with 'aws:'"),
        ({"aws:x": "v"}, "reserved prefix"),
        ({"k" * 129: "v"}, "keys are 1-128"),
        ({"k": "v" * 257}, "values at most 256"),
    ],
)
def test_f6_tag_key_and_value_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tags: dict[str, str], expected: str
) -> None:
    assert expected in web(tmp_path, monkeypatch, tags=tags)


def test_f16_share_quota_and_kms_arn_partition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = [f"{i:012d}" for i in range(1001)]
    assert "AWS allows 1000 per AMI" in web(tmp_path, monkeypatch, share={"accounts": accounts})
    iso = f"arn:aws-iso:kms:us-iso-east-1:111122223333:key/{KEY}"
    message = web(
        tmp_path,
        monkeypatch,
        encrypt=True,
        regions=["us-iso-east-1"],
        kms_key_ids={"us-iso-east-1": iso},
    )
    assert "is not a KMS key id" in message


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tags": {"team": "{{ timestamp }}"}}, "images.web.tags.team"),
        ({"tags": {"{{ .SourceAMI }}": "k"}}, "images.web.tags.'{{ .SourceAMI }}'"),
        ({"provisioner_env": {"APP": '{{ isotime "2006" }}'}}, "images.web.provisioner_env.APP"),
        ({"scrub_paths": ["/opt/{{ timestamp }}"]}, "images.web.scrub_paths[0]"),
        ({"variables": {"v": ["}}"]}}, "images.web.variables.v[0]"),
        ({"base": {"filter": {"name": "{{", "owners": ["self"]}}}, "images.web.base.filter.name"),
        ({"communicator": {"type": "ssh", "ssh_username": "{{user `x`}}"}}, "ssh_username"),
    ],
)
def test_r2_1_go_template_delimiters_refused_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fields: dict[str, Any], field: str
) -> None:
    message = web(tmp_path, monkeypatch, **fields)
    assert field in message and "packer would evaluate" in message


def test_r2_3_tag_keys_equal_after_nfc_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = web(tmp_path, monkeypatch, tags={"caf\u00e9": "nfc", "cafe\u0301": "nfd"})
    assert "once NFC-normalised" in message and "images.web.tags" in message


def test_schema_is_meaningful_with_strict_types() -> None:
    schema = config.json_schema()
    image = schema["$defs"]["ImageConfig"]["properties"]
    assert image["encrypt"] == {"default": False, "title": "Encrypt", "type": "boolean"}
    assert "anyOf" in image["variables"]["additionalProperties"]
    assert (
        schema["$defs"]["ProjectSection"]["properties"]["allow_outside_paths"]["type"] == "boolean"
    )


def test_r1_19_config_directory_through_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from packerpy.cli.app import run

    assert run(["-c", str(tmp_path), "lint"]) == EXIT_CONFIG
    [line] = capsys.readouterr().err.splitlines()
    assert line == f"packerpy: error: {tmp_path}: is a directory, not a config file"


def test_r1_19_long_tag_key_shortened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    message = web(tmp_path, monkeypatch, tags={"k" * 4000: "v"})
    assert "(4000 characters)" in message and len(message) < 300


def test_r1_19_one_line_for_a_bad_list_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    base = {"filter": {"name": "x", "owners": ["hello world"]}}
    with pytest.raises(ConfigError) as info:
        config.load(make_project(tmp_path, images={"web": {"base": base}}))
    assert "images.web.base.filter.owners[0]: 'hello world' is not an owner" in info.value.message
    assert info.value.detail == ()  # not also "owners: tuple should have at least 1 item"


@pytest.mark.parametrize("value", ["5m30s", "1h", "90s", "1.5h", "1h2m3s", "500ms"])
def test_ssh_timeout_takes_packers_go_durations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """ux review 12: `5m30s`, valid for packer (Go's time.ParseDuration), was refused."""
    monkeypatch.chdir(tmp_path)
    overrides = {"images": {"web": {"communicator": {"ssh_timeout": value}}}}
    project = config.load(make_project(tmp_path, **overrides))
    assert project.image("web").communicator.ssh_timeout == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1d", "is not a duration like 5m30s"),  # durationpy knows d; Go (packer) does not
        ("5 minutes", "is not a duration like 5m30s"),
        ("-5m", "is not a duration like 5m30s"),
        ("0s", "must be more than 0s"),
        ("24h1s", "more than 24h"),
    ],
)
def test_ssh_timeout_refuses_what_packer_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    assert expected in web(tmp_path, monkeypatch, communicator={"ssh_timeout": value})
