from __future__ import annotations

import re
import textwrap
from pathlib import Path

import jinja2
import pytest

from packerpy import config
from packerpy.aws.settings import AwsSettings, aws_settings
from packerpy.errors import ConfigError, TemplateError
from packerpy.packer import binary as packer
from packerpy.render import contract
from packerpy.render import jinja as render
from tests.helpers import unwritable_cache

MINIMAL = """
[images.web]
version = "1.0.0"
base = { ami = "ami-03cf127a" }
"""
V1_6 = packer.PackerInfo(binary="packer", version=(1, 6, 6))
V1_9 = packer.PackerInfo(binary="packer", version=(1, 9, 4))
KEYS = '{ "us-east-1" = "alias/ami", "eu-west-1" = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" }'
VARIANTS = {
    "minimal": MINIMAL,
    "filter": MINIMAL.replace(
        'base = { ami = "ami-03cf127a" }',
        'base = { filter = { name = "ubuntu/*", owners = ["099720109477"], most_recent = true } }',
    ),
    "distributed": MINIMAL
    + f"""regions = ["us-east-1", "eu-west-1"]
encrypt = true
kms_key_ids = {KEYS}
share = {{ accounts = ["111122223333"] }}
tags = {{ team = "a \\"quoted\\" ${{team}}" }}
variables = {{ release = "2026.11", replicas = 3, flags = ["a", "b"] }}
""",
    "ssh": MINIMAL
    + """provisioners = ["probe", { script = "app.sh" }]
[images.web.communicator]
type = "ssh"
ssh_username = "admin"
ssh_host = "127.0.0.1"
ssh_port = 2222
ssh_private_key_file = "id_ed25519"
ssh_keypair_name = "build"
""",
    "build_env": MINIMAL
    + """[images.web.build_env]
subnet_id = "subnet-0123456789abcdef0"
vpc_id = "vpc-0123456789abcdef0"
ssh_cidrs = ["10.0.0.0/16", "192.168.1.0/24"]
associate_public_ip_address = false
""",
    "secrets": MINIMAL
    + """provisioners = ["probe"]
secrets = ["DB_PASSWORD", "NPM_TOKEN"]
[images.web.communicator]
type = "ssh"
ssh_username = "admin"
""",
}


def private_key() -> bytes:
    """A real key: packer validate reads ssh_private_key_file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )


def project_for(tmp_path: Path, text: str) -> config.Project:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "packerpy.toml").write_text(textwrap.dedent(text))
    (tmp_path / "app.sh").write_text("#!/bin/sh\necho app\n")
    (tmp_path / "id_ed25519").write_bytes(private_key())
    (tmp_path / "provisioners").mkdir(exist_ok=True)
    (tmp_path / "provisioners" / "probe.sh").write_text("#!/bin/sh\necho probe\n")
    return config.load(tmp_path / "packerpy.toml")


def settings(project: config.Project, endpoint: str | None = None) -> AwsSettings:
    env = {"AWS_ENDPOINT_URL": endpoint} if endpoint else {}
    return aws_settings(project, environ=env)


def rendered(tmp_path: Path, text: str = MINIMAL, **kw: object) -> render.Rendered:
    project = project_for(tmp_path, text)
    info = kw.pop("info", V1_6)
    assert isinstance(info, packer.PackerInfo)
    return render.render(project, "web", settings(project, kw.get("endpoint")), info)  # type: ignore[arg-type]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("info", [V1_6, V1_9], ids=["packer-1.6", "packer-1.9"])
def test_output_is_fmt_clean_and_parses(
    tmp_path: Path, variant: str, info: packer.PackerInfo
) -> None:
    project = project_for(tmp_path, VARIANTS[variant])
    result = render.render(project, "web", settings(project, "http://127.0.0.1:5000"), info)
    files = render.write(result, tmp_path / "out")
    render.check_hcl(result.text, "template")
    render.check_hcl(result.var_file_text, "var file")
    real = packer.detect()
    assert packer.fmt_diff(real, files.template) is None
    assert packer.fmt_diff(real, files.var_file) is None
    if info.version == real.version:
        placeholders = {s.lower(): "x" for s in project.image("web").secrets}
        packer.validate(real, files.template, files.var_file, secrets=placeholders)


def test_rendering_is_deterministic_and_version_free(tmp_path: Path) -> None:
    first = rendered(tmp_path / "a", VARIANTS["distributed"])
    again = rendered(tmp_path / "b", VARIANTS["distributed"])
    bumped = rendered(tmp_path / "c", VARIANTS["distributed"].replace("1.0.0", "1.1.0"))
    assert first.text == again.text == bumped.text
    assert first.var_file_text == again.var_file_text != bumped.var_file_text
    assert 'ami_name      = "web-1.1.0"' in bumped.var_file_text


def test_values_reach_hcl_only_escaped(tmp_path: Path) -> None:
    result = rendered(tmp_path, VARIANTS["distributed"])
    assert '"team" = "a \\"quoted\\" $${team}"' in result.var_file_text
    assert 'kms_key_id         = "alias/ami"' in result.text
    assert 'region_kms_key_ids = { "eu-west-1" = "arn:aws:kms:' in result.text
    assert 'ami_regions        = ["eu-west-1"]' in result.text
    assert 'ami_users          = ["111122223333"]' in result.text
    assert 'variable "release" {' in result.text


def test_endpoint_only_when_set(tmp_path: Path) -> None:
    local = rendered(tmp_path / "a", endpoint="http://127.0.0.1:5000")
    assert 'custom_endpoint_ec2        = "http://127.0.0.1:5000"' in local.text
    assert "skip_credential_validation = true" in local.text
    assert "skip_metadata_api_check    = true" in local.text
    real = rendered(tmp_path / "b")
    for option in ("custom_endpoint_ec2", "skip_credential_validation", "skip_metadata_api_check"):
        assert option not in real.text
    assert re.search(r"^  max_retries += 3$", real.text, re.MULTILINE)  # aligned by packer fmt


def test_plugin_block_only_from_packer_1_7(tmp_path: Path) -> None:
    old = rendered(tmp_path / "a", info=V1_6).text
    assert "required_plugins" not in old
    assert old.startswith('packer {\n  required_version = ">= 1.6.0"\n}\n')
    new = rendered(tmp_path / "b", info=V1_9).text
    assert 'source  = "github.com/hashicorp/amazon"' in new
    assert new.startswith('packer {\n  required_version = ">= 1.7.0"\n  required_plugins {')


def test_org_sharing_needs_packer_1_7(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    org = "arn:aws:organizations::111122223333:organization/o-abc123def4"
    text = MINIMAL + f'share = {{ org_arns = ["{org}"] }}\nsteps = ["tag"]\n'
    with pytest.raises(ConfigError) as info:
        rendered(tmp_path, text, info=V1_6)
    assert info.value.message == (
        "packerpy.toml: images.web.share.org_arns: needs packer >= 1.7 with amazon plugin "
        ">= 1.0.5 (packer 1.6.6, amazon plugin bundled) or the share step in images.web.steps"
    )
    with_share_step = text.replace('steps = ["tag"]', 'steps = ["share", "tag"]')
    assert "ami_org_arns" not in rendered(tmp_path, with_share_step, info=V1_6).text
    assert re.search(
        f'\n  ami_org_arns += \\["{org}"\\]\n', rendered(tmp_path, text, info=V1_9).text
    )


def test_manifest_post_processor_is_injected_once(tmp_path: Path) -> None:
    text = rendered(tmp_path).text
    assert text.count('post-processor "manifest"') == 1
    assert text.rstrip().endswith(
        'post-processor "manifest" {\n    output = "${path.root}/manifest.json"\n  }\n}'
    )


def test_f11_key_file_travels_in_the_var_file_and_scripts_beside_the_template(
    tmp_path: Path,
) -> None:
    result = rendered(tmp_path, VARIANTS["ssh"])
    text = result.text
    assert re.search(
        r'\n    scripts +\= \["\$\{path.root\}/scripts/00-probe.sh", '
        r'"\$\{path.root\}/scripts/01-app.sh"\]\n',
        text,
    )
    assert re.search(r"\n  ssh_private_key_file += var.ssh_private_key_file\n", text)
    assert re.search(r'\n  ssh_keypair_name += "build"\n', text)
    assert str(tmp_path) not in text  # no machine path in the template (nor the fingerprint)
    key = (tmp_path / "id_ed25519").resolve()
    assert f'ssh_private_key_file = "{key}"' in result.var_file_text
    assert contract.SHELL_ENV_FILE_COMMAND.replace('"', '\\"') in text
    assert re.search(r"\n    use_env_var_file += true\n", text)


HEREDOC_TEMPLATE = """\
source "null" "x" {
  communicator = "none"
}

build {
  sources = ["source.null.x"]

  provisioner "shell-local" {
    inline = [<<EOT
echo {
}
EOT
    ]
  }
}
"""


def test_injection_skips_heredoc_bodies() -> None:
    out = render.inject_manifest(HEREDOC_TEMPLATE, Path("t.pkr.hcl.j2"))
    assert out.index('post-processor "manifest"') > out.index("EOT\n    ]")
    render.check_hcl(out, "t")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('source "null" "x" {\n}\n', "no build block"),
        ("build {\n}\nbuild {\n}\n", "2 build blocks"),
    ],
)
def test_injection_needs_exactly_one_build(text: str, found: str) -> None:
    with pytest.raises(TemplateError, match=f"^t.pkr.hcl.j2: has {found}; packerpy bakes one"):
        render.inject_manifest(text, Path("t.pkr.hcl.j2"))


def override(tmp_path: Path, text: str) -> None:
    (tmp_path / "hcl_templates").mkdir()
    (tmp_path / "hcl_templates" / "amazon-ebs.pkr.hcl.j2").write_text(text)


def test_project_template_overrides_builtin(tmp_path: Path) -> None:
    override(
        tmp_path,
        'source "null" {{ name | hcl }} {\n  communicator = "none"\n}\n\n'
        "build {\n  sources = [{{ ('source.null.' ~ name) | hcl }}]\n}\n",
    )
    result = rendered(tmp_path)
    assert result.template == tmp_path / "hcl_templates" / "amazon-ebs.pkr.hcl.j2"
    assert result.text.startswith('source "null" "web" {')


def test_printing_an_unencoded_value_is_refused(tmp_path: Path) -> None:
    override(tmp_path, 'build {\n  name = "{{ name }}"\n}\n')
    with pytest.raises(TemplateError) as info:
        rendered(tmp_path)
    assert info.value.message == (
        f"{tmp_path / 'hcl_templates' / 'amazon-ebs.pkr.hcl.j2'}:2: 'web' printed without the "
        "hcl filter (write {{ value | hcl }} so it is quoted and escaped)"
    )


def test_undefined_names_are_errors(tmp_path: Path) -> None:
    override(tmp_path, "build {\n  name = {{ nmae | hcl }}\n}\n")
    with pytest.raises(
        TemplateError,
        match=r"amazon-ebs.pkr.hcl.j2:2: 'nmae' is undefined: not in template contract v2 ",
    ):
        rendered(tmp_path)


def test_jinja_syntax_error_names_line(tmp_path: Path) -> None:
    override(tmp_path, "build {\n{% if %}\n}\n")
    with pytest.raises(TemplateError, match=r"amazon-ebs.pkr.hcl.j2:2: Expected an expression"):
        rendered(tmp_path)


def test_check_hcl_reports_broken_hcl() -> None:
    with pytest.raises(TemplateError, match=r"^web\.pkr\.hcl: not valid HCL2: "):
        render.check_hcl('source "x" {\n  region = \n}\n', "web.pkr.hcl")


def test_secrets_are_declared_sensitive_and_never_rendered(tmp_path: Path) -> None:
    result = rendered(tmp_path, VARIANTS["secrets"])
    assert (
        'variable "db_password" {\n  type        = string\n  sensitive   = true\n'
        '  description = "A secret (PKR_VAR_db_password)"\n}'
    ) in result.text
    assert (
        'environment_vars = ["DB_PASSWORD=${var.db_password}", "NPM_TOKEN=${var.npm_token}"]'
        in result.text
    )
    assert "db_password" not in result.var_file_text


def test_build_environment_is_rendered(tmp_path: Path) -> None:
    text = rendered(tmp_path / "a", VARIANTS["build_env"]).text
    assert re.search(r'\n  subnet_id += "subnet-0123456789abcdef0"\n', text)
    assert re.search(r'\n  vpc_id += "vpc-0123456789abcdef0"\n', text)
    assert re.search(r"\n  associate_public_ip_address += false\n", text)
    assert re.search(
        r'\n  temporary_security_group_source_cidrs = \["10.0.0.0/16", "192.168.1.0/24"\]\n', text
    )


def test_imdsv2_only_where_packer_supports_it(tmp_path: Path) -> None:
    old = rendered(tmp_path / "a", info=V1_6).text
    assert "metadata_options" not in old and "imds_support" not in old
    new = rendered(tmp_path / "b", info=V1_9).text
    assert (
        'metadata_options {\n    http_endpoint               = "enabled"\n    http_tokens                 = "required"'
        in new
    )
    assert re.search(r'\n  imds_support += "v2.0"\n', new)
    off = MINIMAL + "build_env = { require_imdsv2 = false }\n"
    assert "metadata_options" not in rendered(tmp_path / "c", off, info=V1_9).text


def test_script_environment_scrub_paths_and_inventory_fetch(tmp_path: Path) -> None:
    text = VARIANTS["ssh"].replace(
        'provisioners = ["probe", { script = "app.sh" }]',
        'provisioners = ["probe", "inventory"]\n'
        'provisioner_env = { HARDEN_DISABLE_SERVICES = "cups" }\n'
        'scrub_paths = ["/opt/app/.env", "/root/build-notes"]\n'
        'secrets = ["DB_PASSWORD"]',
    )
    result = rendered(tmp_path, text).text
    assert (
        'environment_vars = ["HARDEN_DISABLE_SERVICES=cups", '
        '"SCRUB_EXTRA_PATHS=/opt/app/.env\\n/root/build-notes", "DB_PASSWORD=${var.db_password}"]'
    ) in result
    assert (
        'provisioner "file" {\n    direction   = "download"\n    source      = "/var/lib/packerpy/inventory.json"\n    destination = "${path.root}/inventory.json"\n  }'
        in result
    )
    assert 'provisioner "file"' not in rendered(tmp_path / "b", VARIANTS["ssh"]).text


def test_check_hcl_accepts_escapes_python_hcl2_cannot_read() -> None:
    # packer reads both as the literal strings "${" and "a %{"; python-hcl2 8 alone would fail.
    render.check_hcl('x = "$${"\ny = "a %%{"\n', "web.pkrvars.hcl")


V1_14 = packer.PackerInfo(binary="packer", version=(1, 14, 0), amazon_plugins=((1, 8, 2),))


def test_f1_the_user_may_pin_the_plugin(tmp_path: Path) -> None:
    pinned = MINIMAL + '[packer]\namazon_plugin = "= 1.3.9"\n'
    text = rendered(tmp_path / "a", pinned, info=V1_9).text
    assert re.search(r'\n      version = "= 1.3.9"\n', text)
    assert 'required_version = ">= 1.7.0"' in text
    assert re.search(
        r'\n      version = ">= 1.2.2, < 2.0.0"\n', rendered(tmp_path / "b", info=V1_14).text
    )
    with pytest.raises(ConfigError) as err:
        project_for(tmp_path / "c", MINIMAL + '[packer]\namazon_plugin = "newest"\n')
    assert err.value.message.endswith(
        "packer.amazon_plugin: 'newest' is not a version constraint "
        "(e.g. '>= 1.2.2, <= 1.3.9', '~> 1' or '= 1.3.9')"
    )


def test_f9_aws_polling_from_one_setting(tmp_path: Path) -> None:
    text = rendered(tmp_path / "a").text
    assert "  aws_polling {\n    delay_seconds = 30\n    max_attempts  = 240\n  }\n" in text
    slow = MINIMAL.replace("[images.web]", "[aws]\nami_wait_minutes = 300\n\n[images.web]")
    project = project_for(tmp_path / "b", slow)
    assert project.config.aws.ami_wait_attempts == 600  # the copy step's waiter uses this too
    assert "max_attempts  = 600" in rendered(tmp_path / "c", slow).text


def test_f11_a_key_file_needs_its_key_pair(tmp_path: Path) -> None:
    alone = VARIANTS["ssh"].replace('ssh_keypair_name = "build"\n', "")
    with pytest.raises(ConfigError, match="set ssh_private_key_file and ssh_keypair_name together"):
        project_for(tmp_path, alone)


def test_f15_snapshot_users_only_when_opted_in(tmp_path: Path) -> None:
    shared = MINIMAL + 'share = { accounts = ["111122223333"] }\n'
    text = rendered(tmp_path / "a", shared).text
    assert "ami_users" in text and "snapshot_users" not in text
    opted = shared.replace("] }", "], snapshots = true }")
    assert re.search(
        r'\n  snapshot_users += \["111122223333"\]\n', rendered(tmp_path / "b", opted).text
    )


def test_f15_ssh_idioms(tmp_path: Path) -> None:
    text = rendered(tmp_path / "a", VARIANTS["ssh"]).text
    assert re.search(r"\n  ssh_clear_authorized_keys += true\n", text)
    assert re.search(r'\n  ami_description += "web \$\{var.image_version\} \(packerpy\)"\n', text)
    assert "ssh_clear_authorized_keys" not in rendered(tmp_path / "b").text  # no ssh


def test_f15_source_public_ip_needs_plugin_1_1_4(tmp_path: Path) -> None:
    text = VARIANTS["secrets"] + "[images.web.build_env]\nssh_from_public_ip = true\n"
    new = rendered(tmp_path / "a", text, info=V1_14).text
    assert re.search(r"\n  temporary_security_group_source_public_ip += true\n", new)
    with pytest.raises(ConfigError, match=r"ssh_from_public_ip: needs amazon plugin >= 1.1.4 "):
        rendered(tmp_path / "b", text, info=V1_6)
    with pytest.raises(ConfigError, match="set ssh_cidrs or ssh_from_public_ip, not both"):
        project_for(tmp_path / "c", text + 'ssh_cidrs = ["10.0.0.0/8"]\n')


def test_r1_13_ipv6_ssh_cidrs_refused_on_packer_1_6(tmp_path: Path) -> None:
    # EC2 AuthorizeSecurityGroupIngress: an IPv6 block belongs in Ipv6Ranges, but packer 1.6
    # sends every ssh_cidrs entry as CidrIp and fails after the instance launched.
    text = MINIMAL + '\n[images.web.build_env]\nssh_cidrs = ["2001:db8::/32"]\n'
    with pytest.raises(ConfigError, match=r"build_env\.ssh_cidrs: '2001:db8::/32' is IPv6"):
        rendered(tmp_path / "old", text, info=V1_6)
    assert "2001:db8::/32" in rendered(tmp_path / "new", text, info=V1_9).text


def test_compiled_templates_are_reused_until_the_source_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "project"
    root.mkdir()
    override(root, 'build {\n  name = {{ "one" | hcl }}\n}\n')
    assert 'name = "one"' in rendered(root).text
    assert list((tmp_path / "cache" / "packerpy" / "jinja").glob("__jinja2_*.cache"))

    render.template_environment.cache_clear()  # as a new process would start
    compiled = jinja2.Environment.compile

    def not_again(*args: object, **kwargs: object) -> object:
        raise AssertionError("compiled a template the cache holds")

    monkeypatch.setattr(jinja2.Environment, "compile", not_again)
    assert 'name = "one"' in rendered(root).text

    monkeypatch.setattr(jinja2.Environment, "compile", compiled)
    render.template_environment.cache_clear()
    (root / "hcl_templates" / "amazon-ebs.pkr.hcl.j2").write_text(
        'build {\n  name = {{ "two" | hcl }}\n}\n'
    )
    assert 'name = "two"' in rendered(root).text


def test_a_cache_that_cannot_be_written_only_loses_the_speed_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unwritable_cache(tmp_path, monkeypatch)
    render.template_environment.cache_clear()
    assert rendered(tmp_path / "project").text
