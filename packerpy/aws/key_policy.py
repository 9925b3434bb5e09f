"""Key policies and grants, read as data: may a principal use a KMS key, and what to add.

Pure functions over GetKeyPolicy's statements and ListGrants' grants (aws/kms.py reads them).
A principal may use the key when the Allow statements that apply to it, together with its
grants, cover REQUIRED. Deny statements, and IAM policies in the other account, are not
evaluated: this finds what is missing; it does not prove access.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

Statement = Mapping[str, Any]

# What a principal needs to launch from an AMI encrypted with the key (the actions of the EC2
# User Guide's statements for sharing encrypted AMIs; CreateGrant lets EC2 attach the volume).
REQUIRED = (
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:CreateGrant",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
)
# The same as grant operations: a grant lists operations by name, without wildcards.
GRANT_OPERATIONS: Mapping[str, tuple[str, ...]] = {
    "kms:Decrypt": ("Decrypt",),
    "kms:DescribeKey": ("DescribeKey",),
    "kms:CreateGrant": ("CreateGrant",),
    "kms:ReEncrypt*": ("ReEncryptFrom", "ReEncryptTo"),
    "kms:GenerateDataKey*": ("GenerateDataKey", "GenerateDataKeyWithoutPlaintext"),
}
# Every grant operation, in REQUIRED's order: what a grant packerpy makes allows.
GRANT_ORDER = tuple(op for action in REQUIRED for op in GRANT_OPERATIONS[action])


def policy_statement(
    partition: str, *, account: str | None = None, org: str | None = None, ou: str | None = None
) -> dict[str, Any]:
    """The key-policy statement that lets an account, an organization or an OU use the key.

    As the EC2 User Guide's "Allow organizations and OUs to use a KMS key". An OU ARN does not
    name the organization's root, so the path pattern leaves it (and any parent OU) to `*`.
    """
    statement: dict[str, Any] = {
        "Sid": f"packerpy-{account or ou or org}",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"} if account else "*",
        "Action": list(REQUIRED),
        "Resource": "*",
    }
    if org:
        statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": org}}
    if org and ou:
        statement["Condition"]["ForAnyValue:StringLike"] = {
            "aws:PrincipalOrgPaths": [f"{org}/*/{ou}/*"]
        }
    return statement


def missing(statements: Iterable[Statement], granted: Iterable[str]) -> list[str]:
    """The REQUIRED actions that neither the statements nor the granted operations cover."""
    patterns = [p.lower() for s in statements for p in _strings(s.get("Action"))]
    granted = set(granted)
    lacking = []
    for action in REQUIRED:
        for operation in GRANT_OPERATIONS[action]:
            allowed = any(fnmatchcase(f"kms:{operation}".lower(), p) for p in patterns)
            if not (allowed or operation in granted):
                lacking.append(action)
                break
    return lacking


def _allows(statement: Statement) -> bool:
    return statement.get("Effect") == "Allow" and "Action" in statement


def _principals(statement: Statement) -> list[str]:
    principal = statement.get("Principal")
    if isinstance(principal, Mapping):
        return _strings(principal.get("AWS"))
    return _strings(principal)


def _conditions(statement: Statement) -> dict[str, list[str]]:
    """Condition keys (lower case) to their values, whatever the operator."""
    found: dict[str, list[str]] = {}
    for block in (statement.get("Condition") or {}).values():
        if isinstance(block, Mapping):
            for key, value in block.items():
                found.setdefault(key.lower(), []).extend(_strings(value))
    return found


def account_statements(
    statements: Iterable[Statement], partition: str, account: str
) -> list[Statement]:
    """Allow statements naming the account (or its root), or everyone without a condition."""
    names = {account, f"arn:{partition}:iam::{account}:root"}
    return [
        s
        for s in statements
        if _allows(s)
        and (
            names.intersection(_principals(s)) or ("*" in _principals(s) and not s.get("Condition"))
        )
    ]


def org_statements(statements: Iterable[Statement], org: str, ou: str | None) -> list[Statement]:
    """Allow statements for everyone in the organization, or (for an OU) in a path through it.

    A statement for everyone with some other condition (a VPC, a tag) is not counted: whether
    it admits the organization cannot be told from the policy.
    """
    found = []
    for s in statements:
        if not (_allows(s) and "*" in _principals(s)):
            continue
        conditions = _conditions(s)
        ids = conditions.get("aws:principalorgid")
        paths = conditions.get("aws:principalorgpaths")
        if conditions and ids is None and paths is None:
            continue
        if ids is not None and org not in ids:
            continue
        if paths is None or any(_path_admits(p, org, ou) for p in paths):
            found.append(s)
    return found


def _path_admits(pattern: str, org: str, ou: str | None) -> bool:
    """Whether an aws:PrincipalOrgPaths value admits every account of the org (or of the OU)."""
    if pattern == f"{org}/*":
        return True
    return bool(ou) and (
        pattern.startswith(f"{org}/") and pattern.endswith((f"/{ou}/*", f"/{ou}/"))
    )


def granted(grants: Iterable[Mapping[str, Any]], partition: str, account: str) -> set[str]:
    """The operations the account's unconstrained grants allow."""
    names = {account, f"arn:{partition}:iam::{account}:root"}
    return {
        op
        for g in grants
        if g.get("GranteePrincipal") in names and not g.get("Constraints")
        for op in g.get("Operations", [])
    }


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return []
