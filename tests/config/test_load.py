from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from packerpy import config
from packerpy.aws.settings import aws_settings
from packerpy.errors import EXIT_CONFIG, ConfigError
from tests.helpers import make_project

MINIMAL = """
[images.web]
version = "1.0.0"
base = { ami = "ami-03cf127a" }
"""

# ssh_private_key_file needs ssh_keypair_name (review f11).
SSH_KEY = {"type": "ssh", "ssh_username": "u", "ssh_keypair_name": "build"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "packerpy.toml"
    path.write_text(textwrap.dedent(text))
    return path


def load_error(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        config.load(write(tmp_path, text))
    assert info.value.exit_code == EXIT_CONFIG
    assert "\n" not in info.value.message
    return info.value.message


def test_minimal_config_has_safe_defaults(tmp_path: Path) -> None:
    project = config.load(write(tmp_path, MINIMAL))
    image = project.image("web")
    assert image.template == "amazon-ebs"
    assert image.steps == ("copy", "share", "tag", "deprecate")
    assert image.deprecate_after is None and not image.allow_public
    assert image.communicator.type == "none"
    assert config.image_regions(image, project.config.aws.region) == ("us-east-1",)
    assert project.root == tmp_path.resolve()


def test_models_are_frozen(tmp_path: Path) -> None:
    project = config.load(write(tmp_path, MINIMAL))
    with pytest.raises(ValueError, match="frozen"):
        project.image("web").version = "2.0.0"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            'regions = ["us-east-1", "us-est-1"]',
            "packerpy.toml: images.web.regions[1]: 'us-est-1' is not an AWS region",
        ),
        ('colour = "blue"', "packerpy.toml: images.web.colour: unknown key"),
        (
            'share = { accounts = ["12345"] }',
            "packerpy.toml: images.web.share.accounts[0]: '12345' is not a 12-digit AWS account id",
        ),
        (
            'share = { org_arns = ["arn:aws:organizations::111122223333:org/o-abc"] }',
            "packerpy.toml: images.web.share.org_arns[0]: "
            "'arn:aws:organizations::111122223333:org/o-abc' is not an organization ARN "
            "(arn:aws:organizations::ACCOUNT:organization/o-xxxxxxxxxx)",
        ),
        (
            'kms_key_ids = { "us-east-1" = "my-key" }\nencrypt = true',
            "packerpy.toml: images.web.kms_key_ids.us-east-1: 'my-key' is not a KMS key id, "
            "key ARN, alias/NAME or alias ARN",
        ),
        (
            'kms_key_ids = { "us-east-1" = "alias/ami" }',
            "packerpy.toml: images.web: kms_key_ids is set but encrypt is false",
        ),
        (
            'encrypt = true\nshare = { accounts = ["111122223333"] }',
            "packerpy.toml: images.web: share: an AMI encrypted with the default EBS key cannot "
            "be shared; set kms_key_ids (a customer-managed key per region)",
        ),
        (
            'provisioners = ["harden"]',
            "packerpy.toml: images.web: provisioners need a communicator: set communicator.type "
            "= 'ssh' (communicator 'none' cannot run scripts on the instance)",
        ),
        (
            'tags = { "packerpy:version" = "x" }',
            "packerpy.toml: images.web.tags: tag key "
            "'packerpy:version' uses a reserved prefix ('packerpy:' or 'aws:')",
        ),
        (
            'variables = { ami_name = "x" }',
            "packerpy.toml: images.web: variables: 'ami_name' is reserved for packerpy's own use",
        ),
        (
            'template = "nope"',
            "packerpy.toml: images.web.template: 'nope' is not a template (available: amazon-ebs)",
        ),
        (
            'build_env = { ssh_cidrs = ["10.0.0.1/16"] }',
            "packerpy.toml: images.web.build_env.ssh_cidrs[0]: '10.0.0.1/16' is not a CIDR block "
            "(10.0.0.1/16 has host bits set)",
        ),
        (
            'instance_type = "huge"',
            "packerpy.toml: images.web.instance_type: 'huge' is not an instance type "
            "(FAMILY.SIZE, e.g. t3.micro)",
        ),
    ],
)
def test_bad_image_fields_name_file_field_and_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, snippet: str, expected: str
) -> None:
    assert load_error(tmp_path, MINIMAL + snippet + "\n", monkeypatch) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[images.web]\nbase = { ami = 'ami-03cf127a' }\n",
            "packerpy.toml: images.web.version: is required",
        ),
        (
            "[images.web]\nversion = '1.0'\nbase = { ami = 'ami-03cf127a' }\n",
            "packerpy.toml: images.web.version: '1.0' is not a semantic version "
            "(MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD])",
        ),
        (
            "[images.web]\nversion = '1.0.0'\nbase = { ami = 'ami-1', filter = { name = 'x', owners = ['1'] } }\n",
            "packerpy.toml: images.web.base.ami: 'ami-1' is not an AMI id (ami-xxxxxxxx)",
        ),
        (
            "[images.web]\nversion = '1.0.0'\nbase = {}\n",
            "packerpy.toml: images.web.base: set exactly one of 'ami' or 'filter'",
        ),
        (
            "[images.web]\nversion = '1.0.0'\nbase = { filter = { name = 'ubuntu-*' } }\n",
            "packerpy.toml: images.web.base.filter.owners: is required",
        ),
        (
            "[aws]\nregion = 'mars-1'\n" + MINIMAL,
            "packerpy.toml: aws.region: 'mars-1' is not an AWS region",
        ),
        ("[images]\n", "packerpy.toml: images: define at least one [images.NAME] table"),
        ("images = 3\n", "packerpy.toml: images: 3 input should be a valid dictionary"),
        (
            "[images.Web]\nversion = '1.0.0'\nbase = { ami = 'ami-03cf127a' }\n",
            "packerpy.toml: images.Web: 'Web' is not a name (lowercase letter, then a-z 0-9 _ -)",
        ),
    ],
)
def test_bad_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    assert load_error(tmp_path, text, monkeypatch) == expected


def test_invalid_toml_names_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    message = load_error(tmp_path, "[images.web\nversion = 1\n", monkeypatch)
    assert message.startswith("packerpy.toml: not valid TOML: ")
    assert "line 1" in message


def test_every_error_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = MINIMAL + 'regions = ["nope-1"]\ninstance_type = "x"\n'
    with pytest.raises(ConfigError) as info:
        config.load(write(tmp_path, text))
    assert (
        info.value.message
        == "packerpy.toml: images.web.instance_type: 'x' is not an instance type "
        "(FAMILY.SIZE, e.g. t3.micro)"
    )
    assert info.value.detail == (
        "packerpy.toml: images.web.regions[0]: 'nope-1' is not an AWS region",
    )


def test_missing_config_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file not found \(run `packerpy init NAME`"):
        config.find_config(None, cwd=tmp_path)


def test_missing_script_and_provisioner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ssh = '\ncommunicator = { type = "ssh", ssh_username = "admin" }\n'
    assert load_error(
        tmp_path, MINIMAL + 'provisioners = [{ script = "app.sh" }]' + ssh, monkeypatch
    ) == ("packerpy.toml: images.web.provisioners[0].script: 'app.sh' is not a file")
    message = load_error(tmp_path, MINIMAL + 'provisioners = ["hardn"]' + ssh, monkeypatch)
    assert message.startswith(
        "packerpy.toml: images.web.provisioners[0]: 'hardn' is not a provisioner"
    )


def test_kms_keys_must_cover_regions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        MINIMAL
        + 'encrypt = true\nregions = ["us-east-1", "eu-west-1"]\nkms_key_ids = { "us-east-1" = "alias/a" }\n'
    )
    assert load_error(tmp_path, text, monkeypatch) == (
        "packerpy.toml: images.web.kms_key_ids: no key for region 'eu-west-1' "
        "(with kms_key_ids set, every region needs a key)"
    )


def test_unknown_image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    project = config.load(write(tmp_path, MINIMAL))
    with pytest.raises(
        ConfigError, match=r"^packerpy.toml: images.api: no such image \(configured: web\)$"
    ):
        project.image("api")


def test_endpoint_precedence(tmp_path: Path) -> None:
    project = config.load(write(tmp_path, '[aws]\nendpoint_url = "http://127.0.0.1:1"\n' + MINIMAL))
    assert aws_settings(project, environ={}).endpoint_url == "http://127.0.0.1:1"
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:2"}
    assert aws_settings(project, environ=env).endpoint_url == "http://127.0.0.1:2"
    flag = aws_settings(project, endpoint_url="http://127.0.0.1:3", environ=env)
    assert flag.endpoint_url == "http://127.0.0.1:3"
    with pytest.raises(ConfigError, match=r"^--region: 'moon' is not an AWS region$"):
        aws_settings(project, region="moon", environ={})


def test_schema_describes_images() -> None:
    schema = config.json_schema()
    assert "images" in schema["properties"]
    assert "ImageConfig" in schema["$defs"]


# --- checks across fields and against the filesystem (one test per message) -----------------


@pytest.mark.parametrize(
    ("web", "expected"),
    [
        (
            {"regions": ["us-east-1", "us-east-1"]},
            "packerpy.toml: images.web: regions: a region is listed twice",
        ),
        ({"steps": ["tag", "tag"]}, "packerpy.toml: images.web: steps: a step is listed twice"),
        (
            {"scrub_paths": ["/opt/x"], "provisioner_env": {"SCRUB_EXTRA_PATHS": "/opt/y"}},
            "packerpy.toml: images.web: set scrub_paths or provisioner_env.SCRUB_EXTRA_PATHS, "
            "not both",
        ),
        (
            {"secrets": ["API_TOKEN"], "provisioner_env": {"API_TOKEN": "x"}},
            "packerpy.toml: images.web: provisioner_env: 'API_TOKEN' is also listed in secrets",
        ),
        (
            {"secrets": ["RELEASE"], "variables": {"release": "a"}},
            "packerpy.toml: images.web: secrets: 'RELEASE' collides with variable 'release'",
        ),
        (
            {"ami_name_pattern": "{image}-{version}-" + "x" * 120},
            "packerpy.toml: images.web.ami_name_pattern: AMI name "
            f"'web-1.0.0-{'x' * 120}' is 130 characters; AWS allows 3 to 128",
        ),
        (
            {"communicator": {**SSH_KEY, "ssh_private_key_file": "id"}},
            "packerpy.toml: images.web.communicator.ssh_private_key_file: 'id' is not a file",
        ),
        (
            {"encrypt": True, "kms_key_ids": {"eu-west-1": "alias/a"}},
            "packerpy.toml: images.web.kms_key_ids: 'eu-west-1' is not one of the image's "
            "regions (us-east-1)",
        ),
    ],
)
def test_cross_field_and_reference_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, web: dict[str, object], expected: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        config.load(make_project(tmp_path, images={"web": web}))
    assert info.value.message == expected


def test_a_key_file_that_exists_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "id").write_text("not a key\n")
    ssh = {**SSH_KEY, "ssh_private_key_file": "id"}
    project = config.load(make_project(tmp_path, images={"web": {"communicator": ssh}}))
    assert project.image("web").communicator.ssh_private_key_file == "id"
