"""KMS keys of shared encrypted AMIs: may each principal use the key, and grants that fix it.

An account, organization or OU an encrypted AMI is shared with sees the AMI, but launching it
fails unless it may use the customer managed key that encrypts the snapshots (EC2 User Guide,
"Share an AMI with specific AWS accounts": "you must allow the AWS accounts to use the KMS keys
that were used to encrypt the snapshots"; "Allow organizations and OUs to use a KMS key"). AWS
managed keys (`alias/aws/ebs`) cannot be shared at all. moto does not model KMS authorization,
so nothing in the sandbox fails without this check.

Per region: one DescribeKey (resolves an alias, and tells an AWS managed key by `KeyManager`),
one GetKeyPolicy, ListGrants in pages; aws/key_policy.py decides what each principal lacks.
Accounts can be given a grant (`share.grant_kms`); organizations and OUs cannot (a grant names
one principal), so for them the finding carries the exact key-policy statement to add.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packerpy.aws import key_policy
from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.operation import Action
from packerpy.aws.pages import GRANTS_PAGE, items
from packerpy.config.models import Share
from packerpy.errors import AwsError, ConfigError

PRUNE_HINT = "(not in the config; --prune revokes)"


@dataclass(frozen=True)
class KeyState:
    """One region's key as KMS describes it: its ARN, key policy statements and grants."""

    region: str
    arn: str
    key_id: str
    statements: tuple[Mapping[str, Any], ...]
    grants: tuple[Mapping[str, Any], ...]

    @property
    def partition(self) -> str:
        return self.arn.split(":")[1]


def read_key(aws: AwsClients, region: str, key: str, *, where: str) -> KeyState:
    """DescribeKey, GetKeyPolicy and every page of ListGrants; refuses an AWS managed key."""
    kms = aws.client("kms", region)
    with translated(f"describe KMS key {key}", region):
        meta = kms.describe_key(KeyId=key)["KeyMetadata"]
    if meta.get("KeyManager") == "AWS":
        raise ConfigError(
            f"{where}: {key!r} in {region} is an AWS managed key; AWS refuses to share AMIs "
            "encrypted with it: use a customer managed key"
        )
    key_id = str(meta["KeyId"])
    with translated(f"read the key policy and grants of {key}", region):
        policy = kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]
        grants = items(kms, "list_grants", "Grants", GRANTS_PAGE, KeyId=key_id)
    try:
        statements = json.loads(policy).get("Statement", [])
    except (ValueError, AttributeError):
        raise AwsError(f"aws {region}: the key policy of {key} is not a JSON policy") from None
    if isinstance(statements, Mapping):
        statements = [statements]
    return KeyState(region, str(meta["Arn"]), key_id, tuple(statements), tuple(grants))


def grant_name(image: str, account: str) -> str:
    """The grant packerpy makes: one name per image and account, so a retry finds it."""
    return f"packerpy-{image}-{account}"


def plan_key(
    aws: AwsClients,
    state: KeyState,
    image: str,
    share: Share,
    *,
    prune: bool = False,
) -> list[Action]:
    """Findings for principals that may not use the key; with grant_kms, grants for accounts."""
    actions: list[Action] = []
    for account in share.accounts:
        statements = key_policy.account_statements(state.statements, state.partition, account)
        missing = key_policy.missing(
            statements, key_policy.granted(state.grants, state.partition, account)
        )
        if missing:
            actions.append(_for_account(aws, state, image, account, missing, grant=share.grant_kms))
    for arn in (*share.org_arns, *share.ou_arns):
        # organization/o-x or ou/o-x/ou-y: the organization id, then the OU id if any.
        org, _, ou = arn.rsplit(":", 1)[1].partition("/")[2].partition("/")
        missing = key_policy.missing(
            key_policy.org_statements(state.statements, org, ou or None), ()
        )
        if missing:
            statement = key_policy.policy_statement(state.partition, org=org, ou=ou or None)
            detail = (
                f"{arn} may not use the key ({', '.join(missing)}); a grant cannot name an "
                f"organization or OU: add to the key policy: {json.dumps(statement)}"
            )
            actions.append(Action(state.region, "missing", (state.arn,), detail, mutating=False))
    actions += _stale_grants(aws, state, image, share.accounts, prune=prune)
    return actions


def _for_account(
    aws: AwsClients, state: KeyState, image: str, account: str, missing: list[str], *, grant: bool
) -> Action:
    if not grant:
        statement = key_policy.policy_statement(state.partition, account=account)
        detail = (
            f"{account} may not use the key ({', '.join(missing)}); set share.grant_kms = true "
            f"or add to the key policy: {json.dumps(statement)}"
        )
        return Action(state.region, "missing", (state.arn,), detail, mutating=False)
    name = grant_name(image, account)
    payload = {
        "KeyId": state.key_id,
        "GranteePrincipal": f"arn:{state.partition}:iam::{account}:root",
        "Operations": list(key_policy.GRANT_ORDER),
        # Identical parameters and Name: KMS returns the existing grant instead of a second one.
        "Name": name,
    }
    kms = aws.client("kms", state.region)

    def create(_cancel: object) -> str:
        with translated(f"grant {account} use of {state.arn}", state.region):
            return str(kms.create_grant(**payload)["GrantId"])

    detail = f"use of the key to {account} ({name})"
    return Action(state.region, "grant", (state.arn,), detail, payload=payload, execute=create)


def _stale_grants(
    aws: AwsClients, state: KeyState, image: str, accounts: Iterable[str], *, prune: bool
) -> list[Action]:
    """packerpy's grants for accounts the image is no longer shared with: reported or revoked."""
    wanted = {grant_name(image, account) for account in accounts}
    prefix = grant_name(image, "")
    stale = [
        g
        for g in state.grants
        if str(g.get("Name", "")).startswith(prefix)
        and re.fullmatch(r"\d{12}", str(g["Name"])[len(prefix) :])
        and g["Name"] not in wanted
    ]
    kms = aws.client("kms", state.region)
    actions = []
    for grant in sorted(stale, key=lambda g: str(g["Name"])):
        name, grant_id = str(grant["Name"]), str(grant["GrantId"])
        if not prune:
            detail = f"grant {name} {PRUNE_HINT}"
            actions.append(Action(state.region, "keep", (state.arn,), detail, mutating=False))
            continue
        payload = {"KeyId": state.key_id, "GrantId": grant_id}

        def revoke(_cancel: object, payload: dict[str, str] = payload, name: str = name) -> None:
            # RevokeGrant, not RetireGrant: the key's account may always revoke, while retiring
            # is for the grantee or the retiring principal.
            with translated(f"revoke grant {name}", state.region):
                kms.revoke_grant(**payload)

        detail = f"grant {name}"
        actions.append(
            Action(state.region, "revoke", (state.arn,), detail, payload=payload, execute=revoke)
        )
    return actions
