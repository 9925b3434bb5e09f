"""Distribution end to end: copies, shares, deprecation, convergence, faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fault_proxy import FaultProxy
from tests.helpers import ec2, envelope, invoke, run_cli

pytestmark = pytest.mark.e2e

ACCOUNTS = ["111122223333", "444455556666", "777788889999"]
ORG = "arn:aws:organizations::111122223333:organization/o-abc123def4"
OU = "arn:aws:organizations::111122223333:ou/o-abc123def4/ou-ab12-cd34ef56"
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
PACKERPY = [sys.executable, "-m", "packerpy"]


def configure(project: Path, regions: list[str], accounts: list[str] = ACCOUNTS) -> None:
    config = project / "packerpy.toml"
    pristine = project / "scaffold.toml"  # what `packerpy init` wrote
    if not pristine.exists():
        pristine.write_text(config.read_text())
    text = pristine.read_text()
    start = text.index("regions = ")
    end = text.index("\n", start)
    share = (
        f"share = {{ accounts = {accounts!r}, org_arns = [{ORG!r}], ou_arns = [{OU!r}], "
        "snapshots = true }"
    )
    # The scaffold encrypts; a shared encrypted AMI needs a customer-managed key per region.
    keys = "kms_key_ids = {" + ", ".join(f"{r!r} = 'alias/ami'" for r in regions) + "}"
    text = (
        text[:start]
        + f'regions = {regions!r}\n{share}\n{keys}\ndeprecate_after = "180d"'
        + text[end:]
    )
    config.write_text(text.replace("'", '"'))


def make_keys(endpoint: str) -> None:
    """The customer managed key `alias/ami` in every region (the share step reads it)."""
    import boto3

    for region in REGIONS:
        kms = boto3.client("kms", region_name=region, endpoint_url=endpoint)
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName="alias/ami", TargetKeyId=key)


@pytest.fixture
def baked(aws: str, tmp_path: Path) -> Path:
    """web 0.1.0 baked in us-east-1 only; the config then asks for three regions."""
    make_keys(aws)
    assert invoke("init", "web", cwd=tmp_path).returncode == 0
    configure(tmp_path, ["us-east-1"])
    done = run_cli("build", "web", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    configure(tmp_path, REGIONS)
    return tmp_path


def publish(project: Path, *args: str, endpoint: str | None = None) -> dict:
    extra = ["--endpoint-url", endpoint] if endpoint else []
    done = run_cli(*extra, "publish", "web", "0.1.0", "--json", *args, cwd=project)
    assert done.returncode == 0, done.stderr
    return envelope(done)["data"]


def state(endpoint: str, amis: dict[str, str]) -> dict[str, object]:
    """Everything publish is responsible for, as boto3 sees it, per region."""
    seen: dict[str, object] = {}
    for region, ami in sorted(amis.items()):
        client = ec2(endpoint, region)
        image = client.describe_images(ImageIds=[ami])["Images"][0]
        perms = client.describe_image_attribute(ImageId=ami, Attribute="launchPermission")
        snaps = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m]
        snap_perms = {
            s: sorted(
                p["UserId"]
                for p in client.describe_snapshot_attribute(
                    SnapshotId=s, Attribute="createVolumePermission"
                )["CreateVolumePermissions"]
            )
            for s in snaps
        }
        snap_tags = {
            s["SnapshotId"]: {t["Key"]: t["Value"] for t in s.get("Tags", [])}
            for s in client.describe_snapshots(SnapshotIds=snaps)["Snapshots"]
        }
        seen[region] = {
            "name": image["Name"],
            "tags": {t["Key"]: t["Value"] for t in image.get("Tags", [])},
            "launch": sorted(tuple(sorted(p.items())) for p in perms["LaunchPermissions"]),
            "snapshot_permissions": snap_perms,
            "snapshot_tags": snap_tags,
            "deprecation": image.get("DeprecationTime"),
        }
    return seen


def test_publish_copies_shares_tags_deprecates_and_converges(aws: str, baked: Path) -> None:
    plan = publish(baked, "--dry-run")
    assert plan["mutating"] == []
    assert set(plan["amis"]) == {"us-east-1"}
    copy_plan = next(s for s in plan["steps"] if s["step"] == "copy")
    assert [a.split(":")[0] for a in copy_plan["actions"]] == ["eu-west-1", "ap-southeast-2"]

    result = publish(baked)
    assert set(result["amis"]) == set(REGIONS)
    seen = state(aws, result["amis"])
    first = seen["us-east-1"]
    created = ec2(aws).describe_images(ImageIds=[result["amis"]["us-east-1"]])["Images"][0][
        "CreationDate"
    ]
    deprecate_at = datetime.fromisoformat(created.replace("Z", "+00:00")) + timedelta(days=180)
    want_launch = sorted(
        [(("UserId", a),) for a in ACCOUNTS]
        + [(("OrganizationArn", ORG),), (("OrganizationalUnitArn", OU),)]
    )
    for region in REGIONS:
        got = seen[region]
        assert got["name"] == "web-0.1.0"
        assert got["tags"] == first["tags"], region  # provenance tags on every copy
        assert got["tags"]["packerpy:version"] == "0.1.0"
        assert got["launch"] == want_launch, region
        assert all(perms == ACCOUNTS for perms in got["snapshot_permissions"].values()), region
        assert all(tags == got["tags"] for tags in got["snapshot_tags"].values()), region
        assert got["deprecation"].startswith(
            deprecate_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
        ), region

    # Converged: a second publish changes nothing and makes no mutating call.
    again = publish(baked)
    assert again["mutating"] == []
    assert all(not s["changed"] for s in again["steps"])
    assert state(aws, again["amis"]) == seen

    # A dropped account is reported, and removed only with --prune.
    configure(baked, REGIONS, accounts=ACCOUNTS[:2])
    kept = publish(baked)
    assert kept["mutating"] == []
    share = next(s for s in kept["steps"] if s["step"] == "share")
    assert any("777788889999" in a and "--prune" in a for a in share["actions"])
    pruned = publish(baked, "--prune")
    ops = sorted({op for _, op in pruned["mutating"]})
    assert ops == ["ModifyImageAttribute", "ModifySnapshotAttribute"]
    assert len(pruned["mutating"]) == 2 * len(REGIONS)  # one per permission kind per region
    after = state(aws, pruned["amis"])
    for region in REGIONS:
        assert ("UserId", "777788889999") not in [p[0] for p in after[region]["launch"]]
        assert all(
            perms == ACCOUNTS[:2] for perms in after[region]["snapshot_permissions"].values()
        )


def test_publish_converges_through_throttling(aws: str, baked: Path) -> None:
    with FaultProxy(aws) as proxy:
        proxy.throttle_every(3)
        throttled = publish(baked, endpoint=proxy.endpoint)
        assert proxy.throttled > 0
    assert set(throttled["amis"]) == set(REGIONS)
    disturbed = state(aws, throttled["amis"])
    # The undisturbed reference: the same publish on a fresh bake.
    again = publish(baked)
    assert again["mutating"] == []
    assert state(aws, again["amis"]) == disturbed


def test_killed_publish_reruns_without_duplicate_copies(aws: str, baked: Path) -> None:
    with FaultProxy(aws) as proxy:
        proxy.hang_after("CopyImage")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "packerpy",
                "--endpoint-url",
                proxy.endpoint,
                "publish",
                "web",
                "0.1.0",
            ],
            cwd=baked,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ),
        )
        deadline = time.monotonic() + 60
        while not proxy.hung and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proxy.hung, "publish never reached CopyImage"
        time.sleep(0.3)  # let the other region's CopyImage land too, if it was in flight
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    # AWS made the copy, packerpy never heard back. CopyImage tagged it in the same call
    # (TagSpecifications, fidelity review 7), so the re-run finds it as published, or adopts
    # it; it never copies again.
    assert len(proxy.hung) >= 1
    result = publish(baked)
    assert set(result["amis"]) == set(REGIONS)
    copy = next(s for s in result["steps"] if s["step"] == "copy")
    copied = [a for a in copy["actions"] if a.split(": ", 1)[1].startswith("copy ")]
    assert copied == [], copy["actions"]
    for region in REGIONS[1:]:
        named = ec2(aws, region).describe_images(
            Owners=["self"], Filters=[{"Name": "name", "Values": ["web-0.1.0"]}]
        )["Images"]
        assert [i["ImageId"] for i in named] == [result["amis"][region]], region
    assert publish(baked)["mutating"] == []


def test_ctrl_c_stops_publish_between_actions_and_a_rerun_finishes(aws: str, baked: Path) -> None:
    with FaultProxy(aws) as proxy:
        proxy.hang_after("CopyImage")
        proc = subprocess.Popen(
            [*PACKERPY, "--endpoint-url", proxy.endpoint, "publish", "web", "0.1.0"],
            cwd=baked,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=dict(os.environ),
        )
        deadline = time.monotonic() + 60
        while not proxy.hung and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proxy.hung, "publish never reached CopyImage"
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        # Ctrl-C waits for the calls in flight; ending the hung ones lets them finish (failed).
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert stderr.startswith("packerpy: error: interrupted: steps stopped ("), stderr
    assert "not started: step share" in stderr and "not started: step deprecate" in stderr
    result = publish(baked)  # the copies that AWS made are adopted, the rest is done
    assert set(result["amis"]) == set(REGIONS)
    for region in REGIONS[1:]:
        named = ec2(aws, region).describe_images(
            Owners=["self"], Filters=[{"Name": "name", "Values": ["web-0.1.0"]}]
        )["Images"]
        assert [i["ImageId"] for i in named] == [result["amis"][region]], region


def test_publish_of_an_unknown_version(aws: str, baked: Path) -> None:
    done = run_cli("publish", "web", "9.9.9", cwd=baked)
    assert done.returncode == 1
    assert done.stderr == (
        "packerpy: error: web 9.9.9: not published in us-east-1, eu-west-1, ap-southeast-2 "
        "(published: 0.1.0); bake it first: packerpy build web\n"
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'share = { accounts = ["1234"] }',
            "images.web.share.accounts[0]: '1234' is not a 12-digit AWS account id",
        ),
        (
            'share = { ou_arns = ["ou-ab12-cd34ef56"] }',
            "images.web.share.ou_arns[0]: 'ou-ab12-cd34ef56' is not an OU ARN",
        ),
        (
            "share = { public = true }",
            "images.web: share.public: anyone could launch this AMI; set allow_public = true if that is intended",
        ),
        (
            'deprecate_after = "six months"',
            "images.web.deprecate_after: 'six months' is not a duration like 180d, 26w or 12h",
        ),
        (
            'regions = ["us-east-1", "eu-west-1"]\nkms_key_ids = { "us-east-1" = "alias/ami" }',
            "images.web.kms_key_ids: no key for region 'eu-west-1'",
        ),
    ],
)
def test_distribution_config_errors(tmp_path: Path, line: str, message: str) -> None:
    assert invoke("init", "web", cwd=tmp_path).returncode == 0
    config = tmp_path / "packerpy.toml"
    text = config.read_text()
    if "regions" in line:
        text = text.replace('regions = ["us-east-1"]', "")
    config.write_text(text.replace('steps = ["copy"', line + '\nsteps = ["copy"'))
    done = run_cli("publish", "web", "0.1.0", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"packerpy: error: packerpy.toml: {message}"), done.stderr
