"""verify end to end against moto, without packer: the verdict tags, the run record, the dry run,
and the launch test's instance terminated on every way out (its SSH half is tests/e2e)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from packerpy import config, naming
from packerpy.errors import PackerError, PackerpyError, VerifyFailed
from packerpy.verify import launch, remote
from packerpy.verify.run import VerifyOptions, VerifyResult, verify
from tests.helpers import ec2, make_project, settings_for, tags_of
from tests.verify.estate import A, baked

REGIONS = ["us-east-1", "eu-west-1"]


def project(tmp_path: Path, **image: Any) -> config.Project:
    (tmp_path / "smoke.sh").write_text("#!/bin/sh\necho ok\n")
    (tmp_path / "id_test").write_text("not a key\n")
    spec = {"version": "1.2.3", "regions": REGIONS, **image}
    return config.load(make_project(tmp_path, images={"web": spec}))


def run(aws: str, loaded: config.Project, **options: Any) -> VerifyResult:
    return verify(loaded, settings_for(aws), "web", "1.2.3", VerifyOptions(**options))


@pytest.fixture
def amis(aws: str) -> dict[str, tuple[str, list[str]]]:
    return {region: baked(aws, region) for region in REGIONS}


TESTED = {
    "verify": {
        "tests": ["smoke.sh"],
        "ssh_username": "root",
        "ssh_private_key_file": "id_test",
        "ssh_host": "127.0.0.1",
    }
}


def test_pass_is_tagged_on_every_ami_and_snapshot(
    aws: str, tmp_path: Path, amis: dict[str, tuple[str, list[str]]]
) -> None:
    result = run(aws, project(tmp_path))
    assert result.verdict.passed and result.verdict.reason == "22 checks passed"
    assert result.checks[-1].line() == "us-east-1: launch-test: ok: skipped: no verify.tests"
    for region, (ami, snapshots) in amis.items():
        for resource in (ami, *snapshots):
            assert tags_of(aws, region, resource)[naming.VERIFIED_TAG] == "pass"
    assert sorted(result.mutating) == [(r, "CreateTags") for r in sorted(REGIONS)]
    record = json.loads((Path(result.run_dir) / "result.json").read_text())
    assert record["exit_code"] == 0 and record["verdict"] == "pass" and len(record["checks"]) == 22


def test_fail_tags_fail_names_the_check_and_exits_13(
    aws: str, tmp_path: Path, amis: dict[str, tuple[str, list[str]]]
) -> None:
    # The config shares with A, but nobody granted it (a share removed by hand).
    with pytest.raises(VerifyFailed) as failed:
        run(aws, project(tmp_path, share={"accounts": [A]}, **TESTED))
    reason = f"launch-permissions in us-east-1: missing {A}"
    assert failed.value.exit_code == 13
    assert failed.value.message == f"web 1.2.3: verify failed: {reason}"
    ami = amis["eu-west-1"][0]
    tags = tags_of(aws, "eu-west-1", ami)
    assert (tags[naming.VERIFIED_TAG], tags[naming.VERIFY_REASON_TAG]) == ("fail", reason)
    run_dir = Path(failed.value.detail[-1].removeprefix("run record: "))
    record = json.loads((run_dir / "result.json").read_text())
    assert record["exit_code"] == 13 and record["verdict"] == "fail"
    assert record["checks"][-1]["reason"] == "not run: a policy check failed"


def test_dry_run_reads_only_and_shows_the_plan(
    aws: str, tmp_path: Path, amis: dict[str, tuple[str, list[str]]]
) -> None:
    result = run(aws, project(tmp_path, **TESTED), dry_run=True)
    assert result.mutating == () and result.launched.instance is None
    assert result.launched.plan[0].startswith(f"us-east-1: run-instances {amis['us-east-1'][0]}")
    assert "as root@127.0.0.1:22" in result.launched.plan[2]
    assert [line.split(":")[0] for line in result.actions] == REGIONS
    assert naming.VERIFIED_TAG not in tags_of(aws, "us-east-1", amis["us-east-1"][0])


def test_unknown_version_names_those_that_exist(aws: str, tmp_path: Path) -> None:
    baked(aws)
    loaded = project(tmp_path)
    with pytest.raises(PackerpyError, match=r"^web 2\.0\.0: no such version .*\(there: 1\.2\.3\)"):
        verify(loaded, settings_for(aws), "web", "2.0.0")


def instances(aws: str) -> dict[str, str]:
    """The verify instances in moto: id -> state."""
    filters = [{"Name": f"tag:{naming.PURPOSE_TAG}", "Values": ["verify"]}]
    found = ec2(aws).describe_instances(Filters=filters)["Reservations"]
    return {i["InstanceId"]: i["State"]["Name"] for r in found for i in r["Instances"]}


def scripts(monkeypatch: pytest.MonkeyPatch, outcome: BaseException | None) -> list[str]:
    """Replace the SSH half (packer, tested in tests/e2e) with `outcome`; records the host."""
    hosts: list[str] = []

    def fake(_work: Path, _ssh: object, *, host: str, **_: object) -> tuple[str, ...]:
        hosts.append(host)
        if outcome is not None:
            raise outcome
        return ("ok",)

    monkeypatch.setattr(remote, "run_scripts", fake)
    return hosts


def test_launch_test_passes_and_terminates(
    aws: str, tmp_path: Path, amis: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    hosts = scripts(monkeypatch, None)
    result = run(aws, project(tmp_path, **TESTED))
    assert result.verdict.passed and hosts == ["127.0.0.1"]
    assert instances(aws) == {result.launched.instance: "terminated"}
    tags = ec2(aws).describe_tags(
        Filters=[{"Name": "resource-id", "Values": [str(result.launched.instance)]}]
    )["Tags"]
    assert {t["Key"]: t["Value"] for t in tags}[naming.PROJECT_TAG] == "acme"


def test_failing_script_fails_and_terminates(
    aws: str, tmp_path: Path, amis: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripts(monkeypatch, PackerError("packer build failed (exit 1): Script exited with 3"))
    with pytest.raises(VerifyFailed, match="launch-test in us-east-1: test failed on i-"):
        run(aws, project(tmp_path, **TESTED))
    assert list(instances(aws).values()) == ["terminated"]


def test_ctrl_c_during_the_scripts_terminates_and_records_130(
    aws: str, tmp_path: Path, amis: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    scripts(monkeypatch, KeyboardInterrupt())
    loaded = project(tmp_path, **TESTED)
    with pytest.raises(KeyboardInterrupt):
        run(aws, loaded)
    assert list(instances(aws).values()) == ["terminated"]
    (record,) = loaded.runs_dir().iterdir()
    assert json.loads((record / "result.json").read_text())["exit_code"] == 130


def test_interrupt_inside_run_instances_finds_the_instance_by_its_run_tag(
    aws: str, tmp_path: Path, amis: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = launch._launch

    def launched_then_interrupted(ec2_client: object, spec: launch.LaunchSpec) -> str:
        real(ec2_client, spec)  # AWS launched it; the answer never arrived
        raise KeyboardInterrupt

    monkeypatch.setattr(launch, "_launch", launched_then_interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(aws, project(tmp_path, **TESTED))
    assert list(instances(aws).values()) == ["terminated"]


def test_timeout_before_status_checks_pass_fails_and_terminates(
    aws: str, tmp_path: Path, amis: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # AWS reports `initializing` for the first minutes (EC2 User Guide, "Status checks for your
    # instances"); moto reports `ok` at once, so the slow instance is staged here.
    monkeypatch.setattr(launch, "_status", lambda _found: ("initializing", "initializing"))
    monkeypatch.setattr(launch, "POLL_SECONDS", 0.05)
    hosts = scripts(monkeypatch, None)
    tested = {"verify": {**TESTED["verify"], "timeout": "1s"}}
    with pytest.raises(VerifyFailed, match=r"launch-test in us-east-1: i-\w+ not ready before"):
        run(aws, project(tmp_path, **tested))
    assert hosts == [] and list(instances(aws).values()) == ["terminated"]
