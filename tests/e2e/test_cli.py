"""The whole pipeline through the real command line, real packer and a moto server."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from packerpy.packer import binary as packer
from packerpy.support import paths as resources
from tests.helpers import ec2, envelope, invoke, run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def project(tmp_path: Path) -> Path:
    done = invoke("init", "web", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path


def packer_leftovers(endpoint: str) -> dict[str, list[str]]:
    client = ec2(endpoint)
    reservations = client.describe_instances()["Reservations"]
    live = [
        i["InstanceId"]
        for r in reservations
        for i in r["Instances"]
        if i["State"]["Name"] not in {"terminated", "shutting-down"}
    ]
    keys = [
        k["KeyName"]
        for k in client.describe_key_pairs()["KeyPairs"]
        if k["KeyName"].startswith("packer")
    ]
    groups = [
        g["GroupName"]
        for g in client.describe_security_groups()["SecurityGroups"]
        if g["GroupName"].startswith("packer")
    ]
    return {"instances": live, "key_pairs": keys, "security_groups": groups}


def test_init_validate_build_creates_a_tagged_ami(aws: str, project: Path) -> None:
    info = packer.detect()  # the packer on PATH is the one the CLI runs
    validated = run_cli("validate", cwd=project)
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout.splitlines() == [
        f"packerpy.toml: config ok (packer {info.version_text})",
        "web: template ok (render, python-hcl2, packer fmt, packer validate, regions enabled)",
    ]

    built = run_cli("build", "web", "--json", cwd=project)
    assert built.returncode == 0, built.stderr
    result = envelope(built)
    assert (result["ok"], result["command"], result["exit_code"]) == (True, "build", 0)
    data = result["data"]
    assert (data["image"], data["version"]) == ("web", "0.1.0")
    ami = data["amis"]["us-east-1"]

    image = ec2(aws).describe_images(ImageIds=[ami])["Images"][0]
    want = {
        "packerpy:project": "web",
        "packerpy:image": "web",
        "packerpy:version": "0.1.0",
        "team": "platform",
        "packerpy:base-ami": data["base_ami"],
        "packerpy:base-ami-name": "ubuntu/images/hvm-ssd/ubuntu-trusty-14.04-amd64-server-20170727",
        "packerpy:fingerprint": data["fingerprint"],
        "packerpy:git-sha": "none",
        "packerpy:git-dirty": "false",
        "packerpy:packer-version": info.version_text,
        # packer 1.6 bundles the amazon builder (review f2: the plugin version is recorded).
        "packerpy:amazon-plugin": "bundled",
    }
    tags = {t["Key"]: t["Value"] for t in image["Tags"]}
    if info.uses_plugins:  # the plugin version packer loads (or `unresolved: ...`)
        want["packerpy:amazon-plugin"] = tags["packerpy:amazon-plugin"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", tags.pop("packerpy:built-at"))
    # Short digests of the fingerprint's parts, so a changed rebuild can say what changed.
    assert re.fullmatch(
        r"template=[0-9a-f]{12} assets=[0-9a-f]{12} variables=[0-9a-f]{12}",
        tags.pop("packerpy:fingerprint-parts"),
    )
    assert tags == want
    assert re.fullmatch(r"[0-9a-f]{64}", data["fingerprint"])
    assert data["skipped"] is False
    assert image["Name"] == "web-0.1.0"
    snapshot = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    snap = ec2(aws).describe_snapshots(SnapshotIds=[snapshot])["Snapshots"][0]
    snap_tags = {t["Key"]: t["Value"] for t in snap["Tags"]}
    snap_tags.pop("packerpy:built-at")
    snap_tags.pop("packerpy:fingerprint-parts")
    assert snap_tags == want

    run_dir = Path(data["run_dir"])
    assert run_dir.parent == project / ".packerpy" / "runs"
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "manifest.json",
        "packer.log",
        "packer.txt",  # packer's output as a person reads it (issue 11 point 2)
        "result.json",
        "web.pkr.hcl",
        "web.pkrvars.hcl",
    ]
    record = json.loads((run_dir / "result.json").read_text())
    assert record["ok"] is True
    assert record["amis"] == {"us-east-1": ami}
    assert "Prevalidating AMI Name: web-0.1.0" in (run_dir / "packer.log").read_text()
    # PPL002 (IMDSv2 cannot be required) warns only before packer 1.7; the files are
    # packerpy.toml and hcl_templates/README.md.
    warnings = 0 if info.amazon_plugin_options else 1
    assert record["lint"] == {"errors": 0, "warnings": warnings, "files": 4}
    assert packer_leftovers(aws) == {"instances": [], "key_pairs": [], "security_groups": []}


LOCAL_STEP_BUILD = """
build {
  name    = {{ name | hcl }}
  sources = [{{ ("source.amazon-ebs." ~ name) | hcl }}]

  provisioner "shell-local" {
    inline = COMMANDS
  }
}
"""


def use_local_step(project: Path, commands: str) -> None:
    """A project template: the built-in source, and a build that runs `commands` locally."""
    builtin = (resources.builtin("hcl_templates") / "amazon-ebs.pkr.hcl.j2").read_text()
    build = LOCAL_STEP_BUILD.lstrip().replace("COMMANDS", commands)
    (project / "hcl_templates" / "local.pkr.hcl.j2").write_text(
        builtin[: builtin.index("build {")] + build
    )
    config = project / "packerpy.toml"
    config.write_text(config.read_text().replace('template = "amazon-ebs"', 'template = "local"'))


def test_ctrl_c_mid_bake_exits_130_and_cleans_up(aws: str, project: Path) -> None:
    use_local_step(project, '["echo baking-now", "sleep 60"]')

    proc = subprocess.Popen(
        [sys.executable, "-m", "packerpy", "build", "web"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "baking-now" in line:
            break
    assert any("baking-now" in line for line in seen), "".join(seen)
    assert packer_leftovers(aws)["instances"], "the build instance should be up mid-bake"
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 130
    assert time.monotonic() - started < 30
    assert "packerpy: error: interrupted (SIGINT): packer was cancelled and cleaned up" in rest
    assert packer_leftovers(aws) == {"instances": [], "key_pairs": [], "security_groups": []}
    (record,) = (project / ".packerpy" / "runs").glob("*/result.json")
    assert json.loads(record.read_text())["exit_code"] == 130


def test_bad_config_is_one_line_and_exit_2(project: Path) -> None:
    config = project / "packerpy.toml"
    config.write_text(
        config.read_text().replace('regions = ["us-east-1"]', 'regions = ["us-est-1"]')
    )
    done = run_cli("build", "web", cwd=project)
    assert done.returncode == 2
    assert (
        done.stderr
        == "packerpy: error: packerpy.toml: images.web.regions[0]: 'us-est-1' is not an AWS region\n"
    )
    as_json = run_cli("validate", "--json", cwd=project)
    assert as_json.returncode == 2
    assert envelope(as_json) == {
        "schema": 1,
        "ok": False,
        "command": "validate",
        "data": {},
        "messages": ["packerpy.toml: images.web.regions[0]: 'us-est-1' is not an AWS region"],
        "exit_code": 2,
    }


def test_broken_template_exit_4(aws: str, project: Path) -> None:
    template = project / "hcl_templates" / "amazon-ebs.pkr.hcl.j2"
    builtin = (resources.builtin("hcl_templates") / "amazon-ebs.pkr.hcl.j2").read_text()
    template.write_text(
        builtin.replace('"run_tags": expr("var.run_tags"),', '"run_tagz": expr("var.run_tags"),')
    )
    done = run_cli("build", "web", cwd=project)
    assert done.returncode == 4
    (first,) = [line for line in done.stderr.splitlines() if line.startswith("packerpy: error:")]
    assert re.fullmatch(
        r"packerpy: error: web\.pkr\.hcl: packer rejected the template: Unsupported argument \(line \d+\): "
        r'An argument named "run_tagz" is not expected here\. Did you mean "run_tags"\?',
        first,
    ), first
    template.write_text(builtin.replace("source_ami_filter {", "source_ami_filter {{"))
    done = run_cli("validate", cwd=project)
    assert done.returncode == 4
    assert done.stderr.startswith("packerpy: error: ")
    assert "amazon-ebs.pkr.hcl.j2" in done.stderr.splitlines()[0]


def test_missing_packer_exit_5(project: Path) -> None:
    env = {**os.environ, "PACKERPY_PACKER": "/nonexistent/packer"}
    done = run_cli("build", "web", cwd=project, env=env)
    assert done.returncode == 5
    assert done.stderr.startswith(
        "packerpy: error: packer: '/nonexistent/packer' not found on PATH; install Packer"
    )
    assert len(done.stderr.splitlines()) == 1


def test_failed_bake_exit_6_and_is_recorded(aws: str, project: Path) -> None:
    use_local_step(project, '["echo provisioning", "exit 3"]')
    done = run_cli("build", "web", "--json", cwd=project)
    assert done.returncode == 6
    result = envelope(done)
    assert result["ok"] is False and result["exit_code"] == 6
    assert result["messages"][0].startswith("packer build failed (exit 1): ")
    assert "non-zero exit status: 3" in result["messages"][0]
    (record,) = (project / ".packerpy" / "runs").glob("*/result.json")
    assert json.loads(record.read_text())["exit_code"] == 6
    assert packer_leftovers(aws) == {"instances": [], "key_pairs": [], "security_groups": []}


def test_missing_base_ami_is_caught_before_packer(aws: str, project: Path) -> None:
    config = project / "packerpy.toml"
    text = config.read_text()
    start = text.index("[images.web.base.filter]")
    end = text.index("# Provisioners")
    config.write_text(
        text[:start] + '[images.web.base]\nami = "ami-0123456789abcdef0"\n\n' + text[end:]
    )
    done = run_cli("build", "web", cwd=project)
    assert done.returncode == 8
    assert done.stderr.startswith(
        "packerpy: error: aws us-east-1: describe base AMI ami-0123456789abcdef0 failed: "
        "InvalidAMIID.NotFound"
    )
    assert not list((project / ".packerpy" / "runs").glob("*/packer.log")), "packer must not run"


def test_render_writes_what_would_run(aws: str, project: Path) -> None:
    done = run_cli("render", "web", "--out", "build/", cwd=project)
    assert done.returncode == 0, done.stderr
    template = (project / "build" / "web.pkr.hcl").read_text()
    assert f'custom_endpoint_ec2        = "{aws}"' in template
    assert 'ami_name      = "web-0.1.0"' in (project / "build" / "web.pkrvars.hcl").read_text()


def test_schema_and_version(tmp_path: Path) -> None:
    schema = run_cli("schema", cwd=tmp_path)
    assert schema.returncode == 0
    assert "ImageConfig" in json.loads(schema.stdout)["$defs"]
    version = run_cli("--version", cwd=tmp_path)
    assert version.stdout.startswith("packerpy ")


def test_sandbox_commands(tmp_path: Path) -> None:
    """One sandbox per user: started in one directory, found (and eval-able) from another."""
    env = {**os.environ, "PACKERPY_SANDBOX_DIR": str(tmp_path / "state")}
    here, elsewhere = tmp_path / "a", tmp_path / "b"
    here.mkdir()
    elsewhere.mkdir()
    try:
        started = run_cli("sandbox", "start", cwd=here, env=env)
        assert started.returncode == 0, started.stderr
        exports = dict(
            line.removeprefix("export ").split("=", 1) for line in started.stdout.splitlines()
        )
        assert exports["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        again = run_cli("sandbox", "start", "--json", cwd=elsewhere, env=env)
        assert envelope(again)["data"]["started"] is False
        assert run_cli("sandbox", "start", cwd=elsewhere, env=env).stdout == started.stdout
        status = run_cli("sandbox", "status", cwd=elsewhere, env=env)
        assert status.returncode == 0
        # Review finding 7: stdout holds only export lines, so `eval "$(... status)"` works.
        assert status.stdout == started.stdout
        evaluated = subprocess.run(
            ["bash", "-c", 'eval "$1" && echo "$AWS_ENDPOINT_URL"', "-", status.stdout],
            capture_output=True,
            text=True,
            check=True,
        )
        assert evaluated.stdout.strip() == exports["AWS_ENDPOINT_URL"]
        client = ec2(exports["AWS_ENDPOINT_URL"])
        assert client.describe_regions()["Regions"]
    finally:
        stopped = run_cli("sandbox", "stop", cwd=elsewhere, env=env)
    assert stopped.returncode == 0
    assert run_cli("sandbox", "status", cwd=here, env=env).returncode == 1


def test_unresponsive_endpoint_fails_fast_before_packer(project: Path) -> None:
    """An endpoint that accepts connections and never answers would hang packer forever."""
    tarpit = socket.socket()
    tarpit.bind(("127.0.0.1", 0))
    tarpit.listen(16)
    held: list[socket.socket] = []

    def hold_connections() -> None:
        with contextlib.suppress(OSError):  # the socket is closed when the test ends
            while True:
                held.append(tarpit.accept()[0])

    threading.Thread(target=hold_connections, daemon=True).start()
    endpoint = f"http://127.0.0.1:{tarpit.getsockname()[1]}"
    started = time.monotonic()
    done = run_cli("--endpoint-url", endpoint, "build", "web", cwd=project)
    elapsed = time.monotonic() - started
    tarpit.close()
    assert done.returncode == 8
    assert done.stderr == (
        f"packerpy: error: aws us-east-1: the EC2 endpoint {endpoint} does not answer (timed out)\n"
    )
    assert elapsed < 30
