"""cleanup against moto, end to end: an estate in two regions with AMIs used by an instance, an
old launch template version, an auto scaling group and a channel; AMIs without packerpy tags
and of another project. No packer: the AMIs are registered with packerpy's tags, as a bake
leaves them (tests/helpers.make_ami).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from packerpy import config
from packerpy.aws.clients import AwsClients
from packerpy.aws.operation import Mode
from packerpy.cli.app import run
from packerpy.naming import CLEANUP_TAG, KEEP_TAG, channel_parameter, identity_tags
from packerpy.retention import cleanup as core
from tests.helpers import make_project, settings_for

pytestmark = pytest.mark.e2e

EAST, WEST = "us-east-1", "eu-west-1"
SIZE = 8


@functools.cache
def client(endpoint: str, service: str, region: str) -> Any:
    """One boto3 client per service and region for the module: making one costs 0.1-0.3 s."""
    factory: Any = boto3.client  # its overloads take only literal service names
    return factory(service, region_name=region, endpoint_url=endpoint)


def ec2(endpoint: str, region: str) -> Any:
    return client(endpoint, "ec2", region)


@functools.cache
def aws_clients(endpoint: str) -> AwsClients:
    return AwsClients(settings_for(endpoint))


def make_ami(endpoint: str, region: str, tags: dict[str, str] | None = None) -> str:
    """A self-owned AMI with one snapshot, tagged as a bake leaves it (tests/helpers.make_ami,
    with this module's clients)."""
    ec2_client = ec2(endpoint, region)
    ami: str = ec2_client.register_image(
        Name=f"cleanup-{len(str(tags))}-{id(tags)}",
        VirtualizationType="hvm",
        RootDeviceName="/dev/sda1",
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": SIZE}}],
    )["ImageId"]
    if tags:
        ec2_client.create_tags(
            Resources=[ami], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )
    return ami


RETENTION = {"keep_last": 1, "keep_prereleases": 0, "keep_days": 0, "channel_history": 1}


@dataclass
class Estate:
    endpoint: str
    root: Path
    amis: dict[tuple[str, str], str]  # (region, version) -> AMI id
    outsiders: dict[str, str]  # what cleanup must never see: name -> AMI id (us-east-1)
    made: set[str]  # every snapshot of the estate

    def mine(self) -> set[str]:
        return {*self.amis.values(), *self.outsiders.values()}

    def snapshots(self, region: str) -> set[str]:
        """This estate's snapshots that still exist (moto's own images bring ~1,300 snapshots
        owned by the test account; filtering keeps each answer small)."""
        found = ec2(self.endpoint, region).describe_snapshots(
            OwnerIds=["self"], Filters=[{"Name": "snapshot-id", "Values": sorted(self.made)}]
        )["Snapshots"]
        return {s["SnapshotId"] for s in found}

    def images(self, region: str) -> set[str]:
        found = ec2(self.endpoint, region).describe_images(
            Owners=["self"], Filters=[{"Name": "image-id", "Values": sorted(self.mine())}]
        )["Images"]
        return {i["ImageId"] for i in found}


def _snapshot(endpoint: str, region: str, ami: str) -> str:
    image = ec2(endpoint, region).describe_images(ImageIds=[ami])["Images"][0]
    snapshot: str = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    return snapshot


def _channel(endpoint: str, region: str, *values: str) -> None:
    ssm = client(endpoint, "ssm", region)
    name = channel_parameter("/packerpy", "acme", "web", "stable")
    for value in values:
        ssm.put_parameter(
            Name=name, Value=value, Type="String", DataType="aws:ec2:image", Overwrite=True
        )


def _uses(endpoint: str, amis: dict[tuple[str, str], str]) -> None:
    """1.0.0: an instance; 1.1.0: launch template version 1 (version 2 is 1.5.0);
    1.2.0: a launch configuration an auto scaling group uses; 1.3.0: the channel's target."""
    east = ec2(endpoint, EAST)
    east.run_instances(ImageId=amis[EAST, "1.0.0"], MinCount=1, MaxCount=1)
    template = east.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": amis[EAST, "1.1.0"]}
    )["LaunchTemplate"]["LaunchTemplateId"]
    east.create_launch_template_version(
        LaunchTemplateId=template, LaunchTemplateData={"ImageId": amis[EAST, "1.5.0"]}
    )
    scaling = client(endpoint, "autoscaling", EAST)
    scaling.create_launch_configuration(
        LaunchConfigurationName="web-lc", ImageId=amis[EAST, "1.2.0"], InstanceType="t3.micro"
    )
    scaling.create_auto_scaling_group(
        AutoScalingGroupName="web-asg",
        LaunchConfigurationName="web-lc",
        MinSize=0,
        MaxSize=1,
        AvailabilityZones=["us-east-1a"],
    )
    _channel(endpoint, EAST, amis[EAST, "1.3.0"])
    # eu-west-1: 1.0.0 was the target before 1.2.0 (history 1 back is kept).
    _channel(endpoint, WEST, amis[WEST, "1.0.0"], amis[WEST, "1.2.0"])


@pytest.fixture
def estate(aws: str, tmp_path: Path) -> Iterator[Estate]:
    amis: dict[tuple[str, str], str] = {}
    east = [f"1.{minor}.0" for minor in range(6)]
    for region, versions in ((EAST, east), (WEST, ["1.0.0", "1.1.0", "1.2.0"])):
        for version in versions:
            tags = identity_tags("acme", "web", version)
            amis[region, version] = make_ami(aws, region, tags=tags)
    outsiders = {
        "untagged": make_ami(aws, EAST),
        "other project": make_ami(aws, EAST, tags=identity_tags("other", "web", "0.1.0")),
        "kept": make_ami(aws, EAST, tags={**identity_tags("acme", "web", "0.9.0"), KEEP_TAG: "1"}),
    }
    _uses(aws, amis)
    web = {"regions": [EAST, WEST], "channels": ["stable"], "retention": RETENTION}
    make_project(tmp_path, images={"web": web})
    made = {
        _snapshot(aws, region, ami)
        for region, ami in [
            *((r, a) for (r, _), a in amis.items()),
            *((EAST, a) for a in outsiders.values()),
        ]
    }
    yield Estate(aws, tmp_path, amis, outsiders, made)


def prepare(estate: Estate) -> tuple[AwsClients, core.Prepared]:
    project = config.load(estate.root / "packerpy.toml")
    aws = aws_clients(estate.endpoint)
    scope = core.scope_of(project, (EAST, WEST))
    return aws, core.prepare(aws, scope, core.prices_of(project))


DOOMED = ((EAST, "1.4.0"), (WEST, "1.1.0"))


def test_plan_names_every_reason_and_apply_deletes_exactly_the_rest(estate: Estate) -> None:
    before = {r: (estate.images(r), estate.snapshots(r)) for r in (EAST, WEST)}
    doomed = {key: estate.amis[key] for key in DOOMED}
    doomed_snapshots = {key: _snapshot(estate.endpoint, key[0], ami) for key, ami in doomed.items()}
    aws, prepared = prepare(estate)
    reasons = {(d.ami.region, d.ami.version): d.reasons for d in prepared.decisions if d.keep}
    assert reasons[EAST, "1.0.0"][-1].startswith("instance i-")
    assert reasons[EAST, "1.1.0"][-1].endswith("version 1")
    assert "auto scaling group web-asg (web-lc)" in reasons[EAST, "1.2.0"]
    assert "channel stable target" in reasons[EAST, "1.3.0"]
    assert "channel stable history (1 back, keeping 1)" in reasons[WEST, "1.0.0"]
    assert f"tagged {KEEP_TAG} = 1" in reasons[EAST, "0.9.0"]
    assert {(d.ami.region, d.ami.version) for d in prepared.decisions if not d.keep} == set(DOOMED)
    seen = {d.ami.ami_id for d in prepared.decisions}
    assert not seen & {estate.outsiders["untagged"], estate.outsiders["other project"]}
    assert prepared.costs[0].amis == prepared.costs[1].amis == 1

    result = core.execute(aws, prepared, Mode())
    assert not result.skipped and not result.outcome.failed
    for region in (EAST, WEST):
        images, snapshots = estate.images(region), estate.snapshots(region)
        gone = {ami for (r, _), ami in doomed.items() if r == region}
        assert images == before[region][0] - gone
        assert snapshots == before[region][1] - {
            s for (r, _), s in doomed_snapshots.items() if r == region
        }

    _aws, again = prepare(estate)  # converged: nothing more to do
    assert [a for a in again.plan if a.mutating] == []


def test_killed_apply_converges_when_run_again(estate: Estate) -> None:
    aws, prepared = prepare(estate)
    mark, first = prepared.plan[0], prepared.plan[1]
    assert (mark.verb, first.verb) == ("mark", "delete")
    # The run is killed after marking and deregistering, before deleting the snapshot.
    assert mark.execute is not None
    mark.execute(Mode().cancel)
    ec2(estate.endpoint, first.region).deregister_image(ImageId=first.resources[0])
    left = first.resources[1]
    assert left in estate.snapshots(first.region)

    aws, rerun = prepare(estate)
    lines = [a.line() for a in rerun.plan]
    assert f"{first.region}: delete-snapshot {left} (left by an interrupted cleanup)" in lines
    core.execute(aws, rerun, Mode())
    assert left not in estate.snapshots(first.region)
    for region, version in DOOMED:
        assert estate.amis[region, version] not in estate.images(region)
    _aws, third = prepare(estate)
    assert [a for a in third.plan if a.mutating] == []


def test_ami_used_between_plan_and_apply_is_skipped(estate: Estate) -> None:
    aws, prepared = prepare(estate)
    ami = estate.amis[EAST, "1.4.0"]
    snapshot = _snapshot(estate.endpoint, EAST, ami)
    ec2(estate.endpoint, EAST).run_instances(ImageId=ami, MinCount=1, MaxCount=1)
    result = core.execute(aws, prepared, Mode())
    assert [(s.resource, s.reasons[0][:11]) for s in result.skipped] == [(ami, "instance i-")]
    assert ami in estate.images(EAST)
    assert snapshot in estate.snapshots(EAST)
    assert estate.amis[WEST, "1.1.0"] not in estate.images(WEST)  # the rest went ahead


def test_ami_shared_between_plan_and_apply_is_skipped(estate: Estate) -> None:
    """A share keeps an AMI (include_shared = false): one made after the plan read launch
    permissions (a publish, a share by hand) must stop the deletion too. Launch permissions
    have no per-region read, so each AMI's are read again right before it is deregistered."""
    aws, prepared = prepare(estate)
    ami = estate.amis[WEST, "1.1.0"]
    ec2(estate.endpoint, WEST).modify_image_attribute(
        ImageId=ami, LaunchPermission={"Add": [{"UserId": "111122223333"}]}
    )
    result = core.execute(aws, prepared, Mode())
    assert [(s.resource, s.reasons) for s in result.skipped] == [
        (ami, ("shared with account 111122223333",))
    ]
    assert ami in estate.images(WEST)
    assert estate.amis[EAST, "1.4.0"] not in estate.images(EAST)  # the rest went ahead


def invoke(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The command line in process (as tests/cli/test_contract.py): exit code, out, err."""
    code = run(list(argv))
    printed = capsys.readouterr()
    return code, printed.out, printed.err


def test_cli_plan_json_refuses_unconfirmed_apply_then_applies(
    estate: Estate, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(estate.root)
    code, out, err = invoke(capsys, "cleanup", "--json")
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)["data"]
    deleted = {(a["region"], a["version"]) for a in data["amis"] if a["decision"] == "delete"}
    assert deleted == set(DOOMED)
    assert data["dry_run"] is True and data["prices_as_of"] == "2026-11-27"
    assert (data["total"]["amis"], data["total"]["snapshots"]) == (2, 2)

    # pytest's stdin is not a terminal: --apply without --yes cannot ask, so it refuses.
    code, _out, err = invoke(capsys, "cleanup", "--apply")
    assert code == 14
    assert "cleanup --apply would delete 2 AMI(s): confirm with --yes" in err
    assert estate.amis[EAST, "1.4.0"] in estate.images(EAST)

    code, out, err = invoke(capsys, "cleanup", "--apply", "--yes", "--json")
    assert code == 0, err
    assert json.loads(out)["data"]["dry_run"] is False
    (record,) = (estate.root / ".packerpy" / "runs").glob("*-cleanup/result.json")
    saved = json.loads(record.read_text())
    assert saved["ok"] is True and saved["total"]["amis"] == 2
    assert estate.amis[EAST, "1.4.0"] not in estate.images(EAST)
    marked = ec2(estate.endpoint, EAST).describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": f"tag:{CLEANUP_TAG}", "Values": ["acme"]}]
    )["Snapshots"]
    assert not marked  # the marks were on the snapshots it deleted
