"""Launch permissions (accounts, organizations, OUs) on the AMI, and create-volume permission for
the accounts on its snapshots, in every region.

Per region: one DescribeImageAttribute, one DescribeSnapshotAttribute per snapshot, and at most
one modify call per permission kind carrying every principal. Permissions the config no longer
lists are reported, and removed only with `prune`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from packerpy.aws.clients import translated
from packerpy.aws.images import snapshot_ids
from packerpy.steps.protocol import StepContext, StepResult
from packerpy.support.pool import per_region

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import LaunchPermissionTypeDef

_KINDS = ("UserId", "Group", "OrganizationArn", "OrganizationalUnitArn")


def _key(permission: LaunchPermissionTypeDef) -> tuple[str, str] | None:
    for kind in _KINDS:
        if value := permission.get(kind):
            return kind, str(value)
    return None


class ShareStep:
    name: ClassVar[str] = "share"

    def run(self, ctx: StepContext) -> StepResult:
        share = ctx.built.config.share
        want = {("UserId", a) for a in share.accounts}
        want |= {("OrganizationArn", a) for a in share.org_arns}
        want |= {("OrganizationalUnitArn", a) for a in share.ou_arns}
        if share.public:
            want.add(("Group", "all"))
        accounts = set(share.accounts)

        def converge(region: str) -> list[str]:
            ami = ctx.built.amis[region]
            ec2 = ctx.aws.ec2(region)
            actions: list[str] = []
            with translated(f"read launch permissions of {ami}", region):
                current = ec2.describe_image_attribute(ImageId=ami, Attribute="launchPermission")
            have = {k for p in current.get("LaunchPermissions", []) if (k := _key(p))}
            add, extra = sorted(want - have), sorted(have - want)
            remove = extra if ctx.prune else []
            if extra and not ctx.prune:
                actions.append(
                    f"{region}: {ami} also shared with {_names(extra)} (kept; --prune removes)"
                )
            if add or remove:
                change: dict[str, Any] = {}
                if add:
                    change["Add"] = [{kind: value} for kind, value in add]
                    actions.append(f"{region}: share {ami} with {_names(add)}")
                if remove:
                    change["Remove"] = [{kind: value} for kind, value in remove]
                    actions.append(f"{region}: unshare {ami} from {_names(remove)}")
                if not ctx.dry_run:
                    with translated(f"change launch permissions of {ami}", region):
                        ec2.modify_image_attribute(ImageId=ami, LaunchPermission=change)  # type: ignore[arg-type]
            for snapshot in snapshot_ids(ctx.images.get(region, ami)):
                actions += self._snapshot(ctx, region, snapshot, accounts)
            return actions

        actions = [
            a
            for region_actions in per_region(list(ctx.built.amis), converge)
            for a in region_actions
        ]
        changed = any(not a.endswith("--prune removes)") for a in actions)
        return StepResult(
            step=self.name,
            changed=changed and not ctx.dry_run,
            actions=tuple(actions),
            dry_run=ctx.dry_run,
        )

    @staticmethod
    def _snapshot(ctx: StepContext, region: str, snapshot: str, accounts: set[str]) -> list[str]:
        ec2 = ctx.aws.ec2(region)
        with translated(f"read create-volume permissions of {snapshot}", region):
            current = ec2.describe_snapshot_attribute(
                SnapshotId=snapshot, Attribute="createVolumePermission"
            )
        have = {p["UserId"] for p in current.get("CreateVolumePermissions", []) if "UserId" in p}
        add, extra = sorted(accounts - have), sorted(have - accounts)
        actions = []
        if extra and not ctx.prune:
            actions.append(
                f"{region}: {snapshot} also shared with {', '.join(extra)} (kept; --prune removes)"
            )
        for operation, users in (("add", add), ("remove", extra if ctx.prune else [])):
            if not users:
                continue
            verb, preposition = ("share", "with") if operation == "add" else ("unshare", "from")
            actions.append(f"{region}: {verb} {snapshot} {preposition} {', '.join(users)}")
            if not ctx.dry_run:
                # The flat OperationType/UserIds form: one call for every account.
                with translated(f"{verb} {snapshot}", region):
                    ec2.modify_snapshot_attribute(
                        SnapshotId=snapshot,
                        Attribute="createVolumePermission",
                        OperationType=operation,  # type: ignore[arg-type]
                        UserIds=users,
                    )
        return actions


def _names(items: list[tuple[str, str]]) -> str:
    return ", ".join("everyone (public)" if kind == "Group" else value for kind, value in items)
