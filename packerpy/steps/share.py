"""Launch permissions (accounts, organizations, OUs) on the AMI, and (with share.snapshots)
create-volume permission for the accounts on its snapshots, in every region.

Per region: one DescribeImageAttribute, one DescribeSnapshotAttribute per snapshot, and at most
one modify call per permission kind carrying every principal. Permissions the config no longer
lists are reported, and removed only with `prune`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from packerpy.aws import kms
from packerpy.aws.clients import translated
from packerpy.aws.images import snapshot_ids
from packerpy.aws.operation import Action
from packerpy.steps import identity
from packerpy.steps.protocol import StepContext, StepPlan, StepResult, converge
from packerpy.support.pool import per_region

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import LaunchPermissionTypeDef

_KINDS = ("UserId", "Group", "OrganizationArn", "OrganizationalUnitArn")
PRUNE_HINT = "(not in the config; --prune removes)"


def _key(permission: LaunchPermissionTypeDef) -> tuple[str, str] | None:
    for kind in _KINDS:
        if value := permission.get(kind):
            return kind, str(value)
    return None


class ShareStep:
    name: ClassVar[str] = "share"

    def plan(self, ctx: StepContext) -> StepPlan:
        share = ctx.built.config.share
        want = {("UserId", a) for a in share.accounts}
        want |= {("OrganizationArn", a) for a in share.org_arns}
        want |= {("OrganizationalUnitArn", a) for a in share.ou_arns}
        if share.public:
            want.add(("Group", "all"))
        # Create-volume permission only when share.snapshots opts in: launching a shared AMI
        # does not need it, and it lets the accounts copy the raw disks (config/sections.py).
        accounts = set(share.accounts) if share.snapshots else set()

        def plan_region(region: str) -> list[Action]:
            ami = ctx.built.amis[region]
            image = ctx.images.get(region, ami)
            identity.check(ctx.built, region, image, "share")
            actions = _launch(ctx, region, ami, want)
            for snapshot in snapshot_ids(image):
                actions += _volumes(ctx, region, snapshot, accounts)
            return actions + _key_access(ctx, region)

        planned = per_region(list(ctx.built.amis), plan_region)
        return StepPlan(tuple(a for region_actions in planned for a in region_actions))

    def run(self, ctx: StepContext) -> StepResult:
        # `changed` comes from the mutating actions done, not from any action's wording.
        return converge(self.name, ctx, self.plan(ctx))


def _key_access(ctx: StepContext, region: str) -> list[Action]:
    """May the principals use the region's key of an encrypted AMI? (aws/kms.py: findings, and
    grants for accounts with share.grant_kms)."""
    config, image = ctx.built.config, ctx.built.image
    key = config.kms_key_ids.get(region) if config.encrypt else None
    if key is None or not (config.share.accounts or config.share.org_arns or config.share.ou_arns):
        return []
    where = f"images.{image}.kms_key_ids.{region}"
    state = kms.read_key(ctx.aws, region, key, where=where)
    return kms.plan_key(ctx.aws, state, image, config.share, prune=ctx.prune)


def _launch(ctx: StepContext, region: str, ami: str, want: set[tuple[str, str]]) -> list[Action]:
    """Launch permissions: at most one ModifyImageAttribute, adding and removing together."""
    ec2 = ctx.aws.ec2(region)
    with translated(f"read launch permissions of {ami}", region):
        current = ec2.describe_image_attribute(ImageId=ami, Attribute="launchPermission")
    have = {k for p in current.get("LaunchPermissions", []) if (k := _key(p))}
    add, extra = sorted(want - have), sorted(have - want)
    remove = extra if ctx.prune else []
    actions = []
    if extra and not ctx.prune:
        actions.append(
            Action(
                region, "keep", (ami,), f"shared with {_names(extra)} {PRUNE_HINT}", mutating=False
            )
        )
    if not (add or remove):
        return actions
    change: dict[str, Any] = {}
    if add:
        change["Add"] = [{kind: value} for kind, value in add]
    if remove:
        change["Remove"] = [{kind: value} for kind, value in remove]
    # One call, so one action; its line reads "share AMI with X; unshare from Y" when it does both.
    parts = [f"with {_names(add)}"] if add else []
    if remove:
        parts.append(f"{'unshare ' if add else ''}from {_names(remove)}")
    detail = "; ".join(parts)

    def modify(_cancel: object) -> None:
        with translated(f"change launch permissions of {ami}", region):
            ec2.modify_image_attribute(ImageId=ami, LaunchPermission=change)  # type: ignore[arg-type]

    verb = "share" if add else "unshare"
    payload = {"ImageId": ami, "LaunchPermission": change}
    actions.append(Action(region, verb, (ami,), detail, payload=payload, execute=modify))
    return actions


def _volumes(ctx: StepContext, region: str, snapshot: str, accounts: set[str]) -> list[Action]:
    """Create-volume permissions for the accounts: one flat-form call per direction."""
    ec2 = ctx.aws.ec2(region)
    with translated(f"read create-volume permissions of {snapshot}", region):
        current = ec2.describe_snapshot_attribute(
            SnapshotId=snapshot, Attribute="createVolumePermission"
        )
    have = {p["UserId"] for p in current.get("CreateVolumePermissions", []) if "UserId" in p}
    add, extra = sorted(accounts - have), sorted(have - accounts)
    actions = []
    if extra and not ctx.prune:
        detail = f"shared with {', '.join(extra)} {PRUNE_HINT}"
        actions.append(Action(region, "keep", (snapshot,), detail, mutating=False))
    for operation, users in (("add", add), ("remove", extra if ctx.prune else [])):
        if not users:
            continue
        verb, preposition = ("share", "with") if operation == "add" else ("unshare", "from")
        payload = {
            "SnapshotId": snapshot,
            "Attribute": "createVolumePermission",
            "OperationType": operation,
            "UserIds": users,
        }

        def modify(_cancel: object, payload: dict[str, Any] = payload, verb: str = verb) -> None:
            # The flat OperationType/UserIds form: one call for every account.
            with translated(f"{verb} {snapshot}", region):
                ec2.modify_snapshot_attribute(**payload)

        detail = f"{preposition} {', '.join(users)}"
        actions.append(Action(region, verb, (snapshot,), detail, payload=payload, execute=modify))
    return actions


def _names(items: list[tuple[str, str]]) -> str:
    return ", ".join("everyone (public)" if kind == "Group" else value for kind, value in items)
