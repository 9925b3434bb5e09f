"""Claim: packerpy publishes to 10 regions x 50 accounts in a fraction of a naive script's calls.

Against moto: one AMI baked in us-east-1 (already shared with 50 accounts there), then published
to 9 more regions with shares, tags and deprecation, by `publish.publish` in process and by a
naive boto3 script (one region at a time, one modify call per account), each from an identical
starting AMI (images "web" and "naive", both baked before any timing). Both end states are
checked to be equivalent before anything is reported; then a converged re-publish is timed.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from build_overhead import reset
from common import local_aws, packerpy, project

from packerpy import config
from packerpy.aws.settings import aws_settings
from packerpy.release import publish

REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
)
ACCOUNTS = tuple(f"{210987654300 + 17 * i:012d}" for i in range(50))
DEPRECATE_AFTER = timedelta(days=180)
KMS_KEY = "alias/ami"
PACKER_FIGURE = (
    "packer's own bake with 2 extra regions and 50 users: 38 EC2 calls "
    "(../shared/PACKER_AND_MOTO.md; a different job, not directly comparable)"
)


def write_config(root: Path, scaffold: str, regions: tuple[str, ...], *, deprecate: bool) -> None:
    """The scaffolded [images.web] with these regions and the 50 accounts, and a twin `naive`."""
    head, sep, image = scaffold.partition("[images.web]")
    assert sep, "the scaffolded config has no [images.web]"
    lines = []
    for line in image.splitlines():
        if line.startswith("regions = "):
            lines.append(f"regions = {json.dumps(list(regions))}")
            lines.append(f"share = {{ accounts = {json.dumps(list(ACCOUNTS))} }}")
            # The scaffold encrypts, and an encrypted AMI is shared only under a customer key.
            keys = ", ".join(f"{json.dumps(r)} = {json.dumps(KMS_KEY)}" for r in regions)
            lines.append(f"kms_key_ids = {{ {keys} }}")
            if deprecate:
                lines.append('deprecate_after = "180d"')
        elif line.startswith("steps = "):
            lines.append('steps = ["copy", "share", "tag", "deprecate"]')
        else:
            lines.append(line)
    web = sep + "\n".join(lines) + "\n"
    (root / "packerpy.toml").write_text(
        head + web + "\n" + web.replace("images.web", "images.naive")
    )


def naive_publish(endpoint: str, source_ami: str) -> tuple[int, dict[str, str]]:
    """A straightforward script: region by region, one call per account. Returns (calls, amis)."""
    session = boto3.session.Session()  # a fresh session, as packerpy's publish makes its own
    calls = 0

    def count(**_: Any) -> None:
        nonlocal calls
        calls += 1

    def client(region: str) -> Any:
        ec2 = session.client("ec2", region_name=region, endpoint_url=endpoint)
        ec2.meta.events.register("before-call", count)
        return ec2

    source_region = REGIONS[0]
    home = client(source_region)
    source = home.describe_images(ImageIds=[source_ami])["Images"][0]
    tags = [t for t in source.get("Tags", []) if not t["Key"].startswith("aws:")]
    created = datetime.fromisoformat(source["CreationDate"].replace("Z", "+00:00"))
    deprecate_at = (created + DEPRECATE_AFTER).replace(second=0, microsecond=0)
    # The bake already shared and tagged the source; it only needs its deprecation.
    home.enable_image_deprecation(ImageId=source_ami, DeprecateAt=deprecate_at)
    amis = {source_region: source_ami}
    for region in REGIONS[1:]:
        ec2 = client(region)
        ami = ec2.copy_image(
            SourceImageId=source_ami, SourceRegion=source_region, Name=source["Name"]
        )["ImageId"]
        ec2.get_waiter("image_available").wait(ImageIds=[ami], WaiterConfig={"Delay": 1})
        ec2.create_tags(Resources=[ami], Tags=tags)
        for account in ACCOUNTS:
            ec2.modify_image_attribute(ImageId=ami, LaunchPermission={"Add": [{"UserId": account}]})
        image = ec2.describe_images(ImageIds=[ami])["Images"][0]
        snapshot = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
        for account in ACCOUNTS:
            ec2.modify_snapshot_attribute(
                SnapshotId=snapshot,
                Attribute="createVolumePermission",
                OperationType="add",
                UserIds=[account],
            )
        ec2.create_tags(Resources=[snapshot], Tags=tags)
        ec2.enable_image_deprecation(ImageId=ami, DeprecateAt=deprecate_at)
        amis[region] = ami
    return calls, amis


def published(endpoint: str, name: str) -> dict[str, dict[str, Any]]:
    """region -> the one AMI of `name` there (by packerpy's image tag)."""
    found = {}
    for region in REGIONS:
        ec2 = boto3.client("ec2", region_name=region, endpoint_url=endpoint)
        images = ec2.describe_images(
            Owners=["self"], Filters=[{"Name": "tag:packerpy:image", "Values": [name]}]
        )["Images"]
        if images:
            assert len(images) == 1, f"{name}: {len(images)} AMIs in {region}"
            found[region] = images[0]
    return found


def check_end_state(endpoint: str, name: str, amis: dict[str, str]) -> None:
    """Every region holds an available, tagged, deprecating AMI shared (and its snapshot) with all."""
    images = published(endpoint, name)
    assert set(images) == set(REGIONS), f"{name}: missing in {set(REGIONS) - set(images)}"
    source = images[REGIONS[0]]
    created = datetime.fromisoformat(source["CreationDate"].replace("Z", "+00:00"))
    expected = (created + DEPRECATE_AFTER).replace(second=0, microsecond=0).astimezone(UTC)
    want_tags = {t["Key"]: t["Value"] for t in source["Tags"]}
    for region, image in images.items():
        ec2 = boto3.client("ec2", region_name=region, endpoint_url=endpoint)
        ami = image["ImageId"]
        assert amis[region] == ami, f"{name} {region}: reported {amis[region]}, found {ami}"
        assert image["State"] == "available", f"{name} {region}: {ami} is {image['State']}"
        assert image["Name"] == source["Name"], f"{name} {region}: named {image['Name']}"
        tags = {t["Key"]: t["Value"] for t in image.get("Tags", [])}
        assert tags == want_tags, f"{name} {region}: {ami} tags differ from the source's"
        when = datetime.fromisoformat(image.get("DeprecationTime", "").replace("Z", "+00:00"))
        assert when == expected, f"{name} {region}: {ami} deprecates at {when}, want {expected}"
        launch = ec2.describe_image_attribute(ImageId=ami, Attribute="launchPermission")
        users = {p["UserId"] for p in launch["LaunchPermissions"] if "UserId" in p}
        assert users == set(ACCOUNTS), f"{name} {region}: {ami} shared with {len(users)} accounts"
        for bdm in image["BlockDeviceMappings"]:
            snapshot = bdm["Ebs"]["SnapshotId"]
            perms = ec2.describe_snapshot_attribute(
                SnapshotId=snapshot, Attribute="createVolumePermission"
            )["CreateVolumePermissions"]
            users = {p["UserId"] for p in perms if "UserId" in p}
            assert users == set(ACCOUNTS), f"{name} {region}: {snapshot} shared with {len(users)}"
            found = ec2.describe_snapshots(SnapshotIds=[snapshot])["Snapshots"][0]
            snap_tags = {t["Key"]: t["Value"] for t in found.get("Tags", [])}
            assert want_tags.items() <= snap_tags.items(), f"{name} {region}: {snapshot} tags"


def main() -> list[tuple[str, str]]:
    with local_aws() as endpoint:
        reset(endpoint)
        # The share step reads each region's key of an encrypted AMI: it must exist.
        for region in REGIONS:
            kms = boto3.client("kms", region_name=region, endpoint_url=endpoint)
            key = kms.create_key()["KeyMetadata"]["KeyId"]
            kms.create_alias(AliasName=KMS_KEY, TargetKeyId=key)
        root = project()
        scaffold = (root / "packerpy.toml").read_text()
        write_config(root, scaffold, REGIONS[:1], deprecate=False)
        packerpy(["build", "web"], cwd=root)
        packerpy(["build", "naive"], cwd=root)
        write_config(root, scaffold, REGIONS, deprecate=True)
        # moto builds each region's backend lazily (about 1 s on first use): warm them all, so
        # neither side pays for the sandbox rather than for its own calls.
        for region in REGIONS:
            boto3.client("ec2", region_name=region, endpoint_url=endpoint).describe_images(
                ImageIds=["ami-03cf127a"]
            )
        naive_source = published(endpoint, "naive")[REGIONS[0]]["ImageId"]

        proj = config.load(root / "packerpy.toml")
        settings = aws_settings(proj)
        start = time.perf_counter()
        first = publish.publish(proj, settings, "web", "0.1.0")
        ours_s = time.perf_counter() - start
        start = time.perf_counter()
        again = publish.publish(proj, settings, "web", "0.1.0")
        again_s = time.perf_counter() - start

        start = time.perf_counter()
        naive_calls, naive_amis = naive_publish(endpoint, naive_source)
        naive_s = time.perf_counter() - start

        check_end_state(endpoint, "web", first.amis)
        check_end_state(endpoint, "naive", naive_amis)
        assert again.amis == first.amis
        assert not again.mutating, f"converged re-publish mutated: {again.mutating}"
    return [
        (
            f"packerpy publish ({len(REGIONS)} regions x {len(ACCOUNTS)} accounts)",
            f"{first.calls} calls ({len(first.mutating)} mutating), {ours_s:.3f} s",
        ),
        (
            "converged re-publish",
            f"{again.calls} calls ({len(again.mutating)} mutating), {again_s:.3f} s",
        ),
        ("naive boto3 baseline, region by region", f"{naive_calls} calls, {naive_s:.3f} s"),
        (
            "naive / packerpy",
            f"{naive_calls / first.calls:.1f}x calls, {naive_s / ours_s:.1f}x time",
        ),
        (
            "end states",
            "equivalent (every region: AMI, 50 launch + 50 volume shares, tags, deprecation)",
        ),
        ("note", PACKER_FIGURE),
    ]


if __name__ == "__main__":
    for key, value in main():
        print(f"{key:44} {value}")
