"""Each policy check against a moto estate: quiet on a converged version, failing with a reason
that names what differs when the estate is changed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from packerpy import naming
from packerpy.aws import kms
from packerpy.aws.key_policy import GRANT_ORDER
from packerpy.verify import checks
from packerpy.verify.facts import Facts
from tests.helpers import boto_client, ec2
from tests.steps.amis import image_config
from tests.verify.estate import A, B, baked, facts, results

ORG = "arn:aws:organizations::111122223333:organization/o-abc123def4"


@pytest.fixture
def ami(aws: str) -> tuple[str, list[str]]:
    return baked(aws)


def test_a_converged_version_passes_every_check(aws: str, ami: tuple[str, list[str]]) -> None:
    found = results(aws, ami[0])
    assert list(found) == [check.__name__.replace("_", "-") for check in checks.POLICY_CHECKS]
    assert all(r.ok for r in found.values()), [r.line() for r in found.values() if not r.ok]


def test_a_missing_ami_is_one_failure_and_nothing_else(aws: str) -> None:
    found = checks.run_checks(facts(aws, None))
    assert [r.line() for r in found] == [
        "us-east-1: available: FAIL: no AMI of this version in the region"
    ]


def test_an_ami_that_is_not_available_fails() -> None:
    # AWS: only an `available` AMI can be launched (EC2 User Guide, "AMI lifecycle"); moto makes
    # every AMI available at once, so the pending state is set by hand.
    pending = Facts(
        "us-east-1", "ami-1", "acme", "web", "1.2.3", image_config(), {"State": "pending"}
    )
    assert checks.available(pending).reason == "ami-1 is pending"


def test_provenance_names_missing_and_wrong_tags(aws: str, ami: tuple[str, list[str]]) -> None:
    client = ec2(aws)
    client.delete_tags(Resources=[ami[0]], Tags=[{"Key": naming.FINGERPRINT_TAG}])
    client.create_tags(Resources=[ami[0]], Tags=[{"Key": naming.VERSION_TAG, "Value": "9.9.9"}])
    assert results(aws, ami[0])["provenance"].reason == (
        f"missing {naming.FINGERPRINT_TAG}; {naming.VERSION_TAG}='9.9.9' (want '1.2.3')"
    )


def test_encryption_required_but_missing(aws: str, ami: tuple[str, list[str]]) -> None:
    found = results(aws, ami[0], encrypt=True)["encryption"]
    assert not found.ok and found.reason == f"not encrypted: {ami[1][0]}"


def key(endpoint: str, alias: str = "alias/ami") -> str:
    client = boto_client("kms", endpoint)
    arn = client.create_key()["KeyMetadata"]["Arn"]
    client.create_alias(AliasName=alias, TargetKeyId=arn)
    return str(arn)


def encrypted_copy(endpoint: str, ami: str, key_arn: str) -> str:
    copy = ec2(endpoint).copy_image(
        SourceImageId=ami, SourceRegion="us-east-1", Name="enc", Encrypted=True, KmsKeyId=key_arn
    )["ImageId"]
    return str(copy)


def test_encryption_with_the_configured_key(aws: str, ami: tuple[str, list[str]]) -> None:
    right, other = key(aws), key(aws, "alias/other")
    config = {"encrypt": True, "kms_key_ids": {"us-east-1": "alias/ami"}}
    good = encrypted_copy(aws, ami[0], right)
    assert results(aws, good, **config)["encryption"].reason == f"encrypted with {right}"
    wrong = results(aws, encrypted_copy(aws, ami[0], other), **config)["encryption"]
    assert not wrong.ok and wrong.reason == f"encrypted with {other}, not {right}"


def test_public_unless_allowed(aws: str, ami: tuple[str, list[str]]) -> None:
    # AWS: Group=all makes an AMI launchable by every account (EC2 User Guide, "Make your AMI
    # public"); packerpy refuses it unless allow_public, as config/models.py does at load.
    ec2(aws).modify_image_attribute(ImageId=ami[0], LaunchPermission={"Add": [{"Group": "all"}]})
    found = results(aws, ami[0])
    assert found["public"].reason == f"public: {ami[0]}" and not found["public"].ok
    assert found["launch-permissions"].reason == "not in the config: everyone (public)"
    allowed = results(aws, ami[0], allow_public=True, share={"public": True})
    assert allowed["public"].ok and allowed["launch-permissions"].ok


def test_launch_permissions_match_the_config_exactly(aws: str, ami: tuple[str, list[str]]) -> None:
    add = {"Add": [{"UserId": A}, {"OrganizationArn": ORG}]}
    ec2(aws).modify_image_attribute(ImageId=ami[0], LaunchPermission=add)  # type: ignore[arg-type]
    config = {"share": {"accounts": [A, B], "org_arns": [ORG]}}
    assert results(aws, ami[0], **config)["launch-permissions"].reason == f"missing {B}"
    removed = results(aws, ami[0], share={"accounts": [A]})["launch-permissions"]
    assert removed.reason == f"not in the config: {ORG}"
    assert results(aws, ami[0], share={"accounts": [A], "org_arns": [ORG]})["launch-permissions"].ok


def test_snapshot_permissions_follow_share_snapshots(aws: str, ami: tuple[str, list[str]]) -> None:
    snapshot = ami[1][0]
    ec2(aws).modify_snapshot_attribute(
        SnapshotId=snapshot, Attribute="createVolumePermission", OperationType="add", UserIds=[A]
    )
    # Shared launch-only: a create-volume permission lets an account copy the raw disk.
    only_launch = {"share": {"accounts": [A]}}
    found = results(aws, ami[0], **only_launch)["snapshot-permissions"]
    assert found.reason == f"{snapshot}: not in the config: {A}"
    assert results(aws, ami[0], share={"accounts": [A], "snapshots": True})[
        "snapshot-permissions"
    ].ok


def test_kms_grants_present_when_grant_kms(aws: str, ami: tuple[str, list[str]]) -> None:
    # AWS: an account launching a shared encrypted AMI must be allowed to use its key (EC2 User
    # Guide, "Share an AMI with specific AWS accounts"); moto does not enforce it.
    arn = key(aws)
    copy = encrypted_copy(aws, ami[0], arn)
    ec2(aws).modify_image_attribute(ImageId=copy, LaunchPermission={"Add": [{"UserId": A}]})
    config = {
        "encrypt": True,
        "kms_key_ids": {"us-east-1": "alias/ami"},
        "share": {"accounts": [A], "grant_kms": True},
    }
    missing = results(aws, copy, **config)["kms-grants"]
    assert not missing.ok and missing.reason.startswith(f"use of the key to {A}")
    boto_client("kms", aws).create_grant(
        KeyId=arn,
        GranteePrincipal=f"arn:aws:iam::{A}:root",
        Operations=list(GRANT_ORDER),
        Name=kms.grant_name("web", A),
    )
    assert results(aws, copy, **config)["kms-grants"].ok


def test_deprecation_scheduled_as_configured(aws: str, ami: tuple[str, list[str]]) -> None:
    want = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    unscheduled = results(aws, ami[0], deprecate_after="180d", deprecate_at=want)["deprecation"]
    assert unscheduled.reason == "not scheduled (want 2030-01-02T03:04Z)"
    ec2(aws).enable_image_deprecation(ImageId=ami[0], DeprecateAt=want + timedelta(minutes=2))
    assert results(aws, ami[0], deprecate_after="180d", deprecate_at=want)["deprecation"].ok
    later = want - timedelta(days=1)
    off = results(aws, ami[0], deprecate_after="180d", deprecate_at=later)["deprecation"]
    assert off.reason == "at 2030-01-02T03:06Z, want 2030-01-01T03:04Z"
    unset = results(aws, ami[0])["deprecation"]
    assert unset.reason == "deprecates at 2030-01-02T03:06Z; deprecate_after is unset"


def test_a_revoked_version_fails(aws: str, ami: tuple[str, list[str]]) -> None:
    tag = [{"Key": naming.REVOKED_TAG, "Value": "CVE-2026-1234"}]
    ec2(aws).create_tags(Resources=[ami[0]], Tags=tag)
    assert results(aws, ami[0])["not-revoked"].reason == "revoked: CVE-2026-1234"


@pytest.mark.parametrize(
    ("score", "ok", "reason"),
    [
        ("91.5", True, "score 91.5 >= 80"),
        ("79.9", False, "score 79.9 < 80"),
        (None, False, f"{naming.COMPLIANCE_SCORE_TAG} missing"),
        ("n/a", False, f"{naming.COMPLIANCE_SCORE_TAG} not a number: 'n/a'"),
    ],
)
def test_compliance_score_at_least_min_score(
    aws: str, ami: tuple[str, list[str]], score: str | None, ok: bool, reason: str
) -> None:
    if score is not None:
        tag = [{"Key": naming.COMPLIANCE_SCORE_TAG, "Value": score}]
        ec2(aws).create_tags(Resources=[ami[0]], Tags=tag)
    section = {
        "compliance": {"profile": "xccdf_org.ssgproject.content_profile_cis", "min_score": 80}
    }
    found = results(aws, ami[0], **section)["compliance"]
    assert (found.ok, found.reason) == (ok, reason)
