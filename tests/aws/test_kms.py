"""KMS keys of shared encrypted AMIs (review F3): findings, grants for accounts, the org/OU
statement, and the refusal of AWS managed keys.

AWS rule each test stands for: an account, organization or OU an encrypted AMI is shared with
must be allowed to use the customer managed key (EC2 User Guide, "Share an AMI with specific
AWS accounts" and "Allow organizations and OUs to use a KMS key"); moto does not enforce it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from packerpy.aws import key_policy
from packerpy.errors import ConfigError
from packerpy.steps.protocol import BuiltImage, StepResult
from packerpy.steps.share import ShareStep
from tests.helpers import boto_client, make_ami
from tests.steps.amis import context, image_config

A, B = "111122223333", "444455556666"
ORG = "arn:aws:organizations::999988887777:organization/o-abc123def4"
OU = "arn:aws:organizations::999988887777:ou/o-abc123def4/ou-ab12-11111111"


def kms(endpoint: str) -> Any:
    return boto_client("kms", endpoint)


@pytest.fixture
def key(aws: str) -> str:
    """A customer managed key in us-east-1 under alias/ami; returns its ARN."""
    made = kms(aws).create_key()["KeyMetadata"]
    kms(aws).create_alias(AliasName="alias/ami", TargetKeyId=made["KeyId"])
    return str(made["Arn"])


@pytest.fixture
def ami(aws: str) -> str:
    return make_ami(aws, "us-east-1")


def built(ami: str, key: str = "alias/ami", **share: Any) -> BuiltImage:
    config = image_config(encrypt=True, kms_key_ids={"us-east-1": key}, share=share)
    return BuiltImage(image="web", version="1.2.3", amis={"us-east-1": ami}, config=config)


def key_findings(result: StepResult) -> list[tuple[str, bool, str]]:
    return [
        (a.verb, a.mutating, a.detail) for a in result.plan if a.resources[0].startswith("arn:")
    ]


def grants(endpoint: str, key: str) -> list[tuple[str, str]]:
    found = kms(endpoint).list_grants(KeyId=key)["Grants"]
    return sorted((g["Name"], g["GranteePrincipal"]) for g in found)


def add_statement(endpoint: str, key: str, statement: dict[str, Any]) -> None:
    policy = json.loads(kms(endpoint).get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    policy["Statement"].append(statement)
    kms(endpoint).put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))


def test_f3_an_account_without_use_of_the_key_is_a_finding(aws: str, key: str, ami: str) -> None:
    ctx = context(aws, built(ami, accounts=[A]))
    result = ShareStep().run(ctx)
    statement = key_policy.policy_statement("aws", account=A)
    assert key_findings(result) == [
        (
            "missing",
            False,
            f"{A} may not use the key (kms:Decrypt, kms:DescribeKey, kms:CreateGrant, "
            "kms:ReEncrypt*, kms:GenerateDataKey*); set share.grant_kms = true or add to the "
            f"key policy: {json.dumps(statement)}",
        )
    ]
    # The finding is shown with the step's other lines, and nothing in KMS changed.
    assert f"us-east-1: missing {key} {A} may not use the key" in "\n".join(result.actions)
    assert ("us-east-1", "CreateGrant") not in ctx.aws.log.mutating
    assert [op for _, op in ctx.aws.log.calls if op.endswith(("Key", "Grants", "Policy"))] == [
        "DescribeKey",
        "GetKeyPolicy",
        "ListGrants",
    ]
    assert statement == {
        "Sid": f"packerpy-{A}",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
        "Action": list(key_policy.REQUIRED),
        "Resource": "*",
    }


def test_f3_grant_kms_creates_the_grant_once(aws: str, key: str, ami: str) -> None:
    ctx = context(aws, built(ami, accounts=[A], grant_kms=True))
    result = ShareStep().run(ctx)
    assert key_findings(result) == [("grant", True, f"use of the key to {A} (packerpy-web-{A})")]
    assert [op for _, op in ctx.aws.log.mutating].count("CreateGrant") == 1
    assert grants(aws, key) == [(f"packerpy-web-{A}", f"arn:aws:iam::{A}:root")]
    operations = kms(aws).list_grants(KeyId=key)["Grants"][0]["Operations"]
    assert operations == list(key_policy.GRANT_ORDER)

    again = context(aws, built(ami, accounts=[A], grant_kms=True))
    rerun = ShareStep().run(again)
    assert rerun.plan == () and not rerun.changed and again.aws.log.mutating == []


def test_f3_a_dry_run_plans_the_grant_and_makes_none(aws: str, key: str, ami: str) -> None:
    ctx = context(aws, built(ami, accounts=[A], grant_kms=True), dry_run=True)
    result = ShareStep().run(ctx)
    assert ("grant", True, f"use of the key to {A} (packerpy-web-{A})") in key_findings(result)
    assert ctx.aws.log.mutating == [] and grants(aws, key) == []


def test_f3_prune_revokes_the_grant_of_a_dropped_account(aws: str, key: str, ami: str) -> None:
    ShareStep().run(context(aws, built(ami, accounts=[A, B], grant_kms=True)))
    assert [name for name, _ in grants(aws, key)] == [f"packerpy-web-{A}", f"packerpy-web-{B}"]

    kept = context(aws, built(ami, accounts=[A], grant_kms=True))
    result = ShareStep().run(kept)
    assert ("keep", False, f"grant packerpy-web-{B} (not in the config; --prune revokes)") in (
        key_findings(result)
    )
    assert kept.aws.log.mutating == []

    pruned = context(aws, built(ami, accounts=[A], grant_kms=True), prune=True)
    result = ShareStep().run(pruned)
    assert ("revoke", True, f"grant packerpy-web-{B}") in key_findings(result)
    assert [op for _, op in pruned.aws.log.mutating].count("RevokeGrant") == 1
    assert grants(aws, key) == [(f"packerpy-web-{A}", f"arn:aws:iam::{A}:root")]


def test_f3_a_key_policy_that_allows_the_account_needs_no_grant(
    aws: str, key: str, ami: str
) -> None:
    add_statement(aws, key, key_policy.policy_statement("aws", account=A))
    ctx = context(aws, built(ami, accounts=[A], grant_kms=True))
    assert key_findings(ShareStep().run(ctx)) == []
    assert grants(aws, key) == []


def test_f3_an_org_share_reports_the_statement_to_add(aws: str, key: str, ami: str) -> None:
    ctx = context(aws, built(ami, org_arns=[ORG], ou_arns=[OU], grant_kms=True))
    result = ShareStep().run(ctx)
    org_statement = {
        "Sid": "packerpy-o-abc123def4",
        "Effect": "Allow",
        "Principal": "*",
        "Action": list(key_policy.REQUIRED),
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}},
    }
    ou_statement = {
        **org_statement,
        "Sid": "packerpy-ou-ab12-11111111",
        "Condition": {
            "StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"},
            "ForAnyValue:StringLike": {
                "aws:PrincipalOrgPaths": ["o-abc123def4/*/ou-ab12-11111111/*"]
            },
        },
    }
    missing = (
        "may not use the key (kms:Decrypt, kms:DescribeKey, kms:CreateGrant, kms:ReEncrypt*, "
        "kms:GenerateDataKey*); a grant cannot name an organization or OU: add to the key policy: "
    )
    assert key_findings(result) == [
        ("missing", False, f"{ORG} {missing}{json.dumps(org_statement)}"),
        ("missing", False, f"{OU} {missing}{json.dumps(ou_statement)}"),
    ]
    # Orgs and OUs get no grant, whatever grant_kms says.
    assert ("us-east-1", "CreateGrant") not in ctx.aws.log.mutating

    # Once the key policy holds the statements it printed, the findings are gone.
    add_statement(aws, key, ou_statement)
    only_org = key_findings(ShareStep().run(context(aws, built(ami, org_arns=[ORG], ou_arns=[OU]))))
    assert [detail.split(" ")[0] for _, _, detail in only_org] == [ORG]
    add_statement(aws, key, org_statement)
    assert (
        key_findings(ShareStep().run(context(aws, built(ami, org_arns=[ORG], ou_arns=[OU])))) == []
    )


def test_f3_an_aws_managed_key_is_refused_before_any_change(aws: str, ami: str) -> None:
    # EC2 User Guide: "You can't share AMIs that are backed by snapshots that are encrypted with
    # the default AWS managed key." (the sandbox reports alias/aws/ebs as KeyManager AWS).
    # The config refuses `alias/aws/*` at load; the same key named by its id passes the config,
    # so the share step asks KMS who manages it.
    managed = kms(aws).describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["KeyId"]
    ctx = context(aws, built(ami, key=managed, accounts=[A]))
    with pytest.raises(ConfigError) as info:
        ShareStep().run(ctx)
    assert info.value.message == (
        f"images.web.kms_key_ids.us-east-1: '{managed}' in us-east-1 is an AWS managed key; "
        "AWS refuses to share AMIs encrypted with it: use a customer managed key"
    )
    assert ctx.aws.log.mutating == []


def test_f3_an_unencrypted_or_unshared_image_reads_no_key(aws: str, key: str, ami: str) -> None:
    config = image_config(share={"accounts": [A]})
    plain = BuiltImage(image="web", version="1.2.3", amis={"us-east-1": ami}, config=config)
    for image in (plain, built(ami)):
        ctx = context(aws, image)
        ShareStep().run(ctx)
        assert not [op for _, op in ctx.aws.log.calls if "Key" in op or "Grant" in op]


def allow(principal: Any, action: Any = "kms:*", **condition: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}
    return {**statement, "Condition": condition} if condition else statement


@pytest.mark.parametrize(
    ("statements", "lacking"),
    [
        ([allow({"AWS": f"arn:aws:iam::{A}:root"})], []),
        ([allow({"AWS": [B, A]})], []),  # a bare account id names its root too
        ([allow("*")], []),  # everyone, unconditionally
        ([allow({"AWS": f"arn:aws:iam::{A}:role/admin"})], list(key_policy.REQUIRED)),
        (
            [allow("*", **{"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}})],
            [*key_policy.REQUIRED],
        ),
        (
            [
                allow({"AWS": A}, ["kms:Decrypt", "kms:DescribeKey", "kms:ReEncryptFrom"]),
                allow({"AWS": A}, "kms:GenerateDataKey*"),
            ],
            ["kms:CreateGrant", "kms:ReEncrypt*"],  # ReEncryptTo is still missing
        ),
        ([{**allow({"AWS": A}), "Effect": "Deny"}], list(key_policy.REQUIRED)),
    ],
    ids=["root", "bare-id", "everyone", "a-role", "org-condition", "split", "deny"],
)
def test_f3_which_statements_let_an_account_use_the_key(
    statements: list[dict[str, Any]], lacking: list[str]
) -> None:
    applying = key_policy.account_statements(statements, "aws", A)
    assert key_policy.missing(applying, ()) == lacking


def test_f3_grants_and_policy_together_cover_an_account() -> None:
    statements = [allow({"AWS": A}, ["kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"])]
    grant = {
        "GranteePrincipal": f"arn:aws:iam::{A}:root",
        "Operations": ["ReEncryptFrom", "ReEncryptTo", "GenerateDataKey"],
    }
    applying = key_policy.account_statements(statements, "aws", A)
    assert key_policy.missing(applying, key_policy.granted([grant], "aws", A)) == [
        "kms:GenerateDataKey*"
    ]
    # A grant with constraints (encryption context) does not cover general use.
    constrained = {**grant, "Constraints": {"EncryptionContextEquals": {"k": "v"}}}
    assert key_policy.granted([constrained], "aws", A) == set()


ORG_ID, OU_ID = "o-abc123def4", "ou-ab12-11111111"


@pytest.mark.parametrize(
    ("condition", "org_ok", "ou_ok"),
    [
        ({"StringEquals": {"aws:PrincipalOrgID": ORG_ID}}, True, True),
        ({"StringEquals": {"aws:PrincipalOrgID": "o-other00000"}}, False, False),
        ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [f"{ORG_ID}/*"]}}, True, True),
        (
            {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": [f"{ORG_ID}/r-ab12/{OU_ID}/*"]}},
            False,
            True,
        ),
        ({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, False, False),  # cannot tell: not counted
    ],
    ids=["org-id", "other-org", "org-path", "ou-path", "unrelated"],
)
def test_f3_which_statements_let_an_org_or_ou_use_the_key(
    condition: dict[str, Any], org_ok: bool, ou_ok: bool
) -> None:
    statements = [allow("*", list(key_policy.REQUIRED), **condition)]
    assert bool(key_policy.org_statements(statements, ORG_ID, None)) is org_ok
    assert bool(key_policy.org_statements(statements, ORG_ID, OU_ID)) is ou_ok
