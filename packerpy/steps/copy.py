"""Copy the AMI to every configured region that does not hold this version yet.

Before copying, each region is searched for an earlier copy by AMI name (unique per region and
account), so a publish that was killed after CopyImage and run again adopts that copy instead
of making a second one. An earlier copy is adopted only when it is this image's (identity tags,
steps/identity.py), was copied from this source AMI, is `pending` or `available`, and is
encrypted as the config asks (fidelity review 8). A `failed` one (e.g. an unusable KMS key,
which AWS checks only after CopyImage returned) is reported with its StateReason, deregistered
and copied again; anything else of that name stops the step with IdentityMismatch (exit 8).

Copies are tagged by CopyImage itself (TagSpecifications for the image and its snapshots), so no
copy ever exists untagged and no CreateTags races EC2's eventual consistency (fidelity review
7). The wait first lets the new id become visible (ImageExists retries NotFound), then polls
until available, checking the cancel token between polls so Ctrl-C does not sit out a copy
that can take an hour.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from typing import Any, ClassVar

from packerpy.aws.clients import translated
from packerpy.aws.images import wait_available
from packerpy.aws.operation import Action, Execute, Outcome
from packerpy.errors import Cancelled
from packerpy.steps import identity
from packerpy.steps.protocol import (
    BuiltImage,
    StepContext,
    StepPlan,
    StepResult,
    desired_tags,
    operation,
    result_of,
)
from packerpy.support.pool import per_region

WAIT_DELAY_SECONDS = 15
# ImageExists: botocore's waiter polls every 15 s; a new id is normally visible within seconds.
EXISTS_DELAY_SECONDS = 2
EXISTS_MAX_ATTEMPTS = 30
_ADOPTABLE = frozenset({"pending", "available"})
_FAILED = frozenset({"failed", "error"})


class CopyStep:
    name: ClassVar[str] = "copy"
    # Seconds between polls while a copy becomes available (tests shorten it).
    wait_delay: ClassVar[float] = WAIT_DELAY_SECONDS
    exists_delay: ClassVar[int] = EXISTS_DELAY_SECONDS

    def plan(self, ctx: StepContext) -> StepPlan:
        """Per missing region: adopt an earlier copy of this version's name, or copy."""
        built = ctx.built
        missing = [r for r in built.regions if r not in built.amis]
        if not missing or not built.amis:
            return StepPlan()
        source_region = next((r for r in built.regions if r in built.amis), next(iter(built.amis)))
        source_ami = built.amis[source_region]
        source = ctx.images.get(source_region, source_ami)
        identity.check(built, source_region, source, "copy")
        name = source.get("Name") or f"{built.image}-{built.version}"
        request: dict[str, Any] = {
            "SourceImageId": source_ami,
            "SourceRegion": source_region,
            "Name": name,
            "Description": source.get("Description") or name,
        }

        def plan_region(region: str) -> list[Action]:
            with translated(f"look for an earlier copy of {name!r}", region):
                found = ctx.aws.ec2(region).describe_images(
                    Owners=["self"],
                    Filters=[{"Name": "name", "Values": [name]}],
                    IncludeDisabled=True,
                )["Images"]
            actions: list[Action] = []
            for earlier in found:
                action = _earlier(ctx, region, earlier, source_ami)
                if action.verb == "adopt":
                    return [action]
                actions.append(action)
            # A replacement of a failed copy must not reuse its token: AWS would answer with
            # the failed copy again.
            replaces = [a.resources[0] for a in actions]
            payload = {**request, **_copy_options(built, region, source_ami, replaces)}
            copy = Action(
                region,
                "copy",
                (source_ami,),
                f"from {source_region}",
                payload=payload,
                execute=lambda _cancel: _copy(ctx, region, payload),
            )
            return [*actions, copy]

        planned = per_region(missing, plan_region)
        return StepPlan(tuple(a for region_actions in planned for a in region_actions))

    def run(self, ctx: StepContext) -> StepResult:
        plan = self.plan(ctx)
        copied = operation(ctx).execute(plan.actions)
        adopted = {a.region: a.resources[0] for a in plan.actions if a.verb == "adopt"}
        made = {d.action.region: str(d.result) for d in copied.done if d.action.verb == "copy"}
        if made:
            copied += self._wait(ctx, made, copied)
        new = {**adopted, **made}
        return result_of(
            self.name,
            ctx,
            plan,
            copied,
            # Adopting changes where the image exists as much as copying does.
            changed=bool(new) and not ctx.dry_run,
            amis={**ctx.built.amis, **new},
        )

    def _wait(self, ctx: StepContext, made: dict[str, str], copied: Outcome) -> Outcome:
        for region, ami in made.items():
            ctx.progress(f"waiting for {ami} in {region}")
        waits = [
            Action(
                region, "wait for", (ami,), mutating=False, execute=self._waiter(ctx, region, ami)
            )
            for region, ami in made.items()
        ]
        try:
            return operation(ctx).apply(waits)
        except Cancelled as exc:
            # The copies were made: report them along with the waits that were abandoned.
            partial = exc.outcome if isinstance(exc.outcome, Outcome) else Outcome()
            raise Cancelled(exc.message, detail=exc.detail, outcome=copied + partial) from None

    def _waiter(self, ctx: StepContext, region: str, ami: str) -> Execute:
        def wait(cancel: threading.Event) -> None:
            ec2 = ctx.aws.ec2(region)
            # Eventual consistency: a just-returned id can be NotFound for a while; only the
            # ImageExists waiter retries that (fidelity review 7).
            with translated(f"wait for {ami} to exist", region):
                ec2.get_waiter("image_exists").wait(
                    ImageIds=[ami],
                    WaiterConfig={"Delay": self.exists_delay, "MaxAttempts": EXISTS_MAX_ATTEMPTS},
                )
            # The same budget as packer's aws_polling ([aws] ami_wait_minutes): large AMIs copy
            # slowly across regions (fidelity review 9).
            attempts = max(1, int(ctx.aws.settings.ami_wait_minutes * 60 // WAIT_DELAY_SECONDS))
            wait_available(ctx.aws, region, ami, cancel, delay=self.wait_delay, attempts=attempts)

        return wait


def _earlier(ctx: StepContext, region: str, image: Mapping[str, Any], source_ami: str) -> Action:
    """What to do with an AMI already holding the copy's name: adopt or replace, else refuse."""
    built, ami, state = ctx.built, str(image["ImageId"]), image.get("State")
    if identity.conflicts(built, image, strict=True):
        raise identity.mismatch_error(built, region, image, "adopt")
    copied_from = image.get("SourceImageId")
    if copied_from is not None and copied_from != source_ami:
        why = f"it was copied from {copied_from}, this version's AMI is {source_ami}"
        raise identity.mismatch_error(built, region, image, "adopt", why)
    if state in _FAILED:
        reason = image.get("StateReason") or {}
        detail = f"(failed copy: {reason.get('Code', 'no code')}: {reason.get('Message', '')})"

        def deregister(_cancel: object) -> None:
            with translated(f"deregister failed copy {ami}", region):
                ctx.aws.ec2(region).deregister_image(ImageId=ami)

        return Action(
            region, "deregister", (ami,), detail, payload={"ImageId": ami}, execute=deregister
        )
    if state not in _ADOPTABLE:
        why = f"it is {state}; enable or deregister it to publish here"
        raise identity.mismatch_error(built, region, image, "adopt", why)
    if why := _encryption_mismatch(built, region, image):
        raise identity.mismatch_error(built, region, image, "adopt", why)
    return Action(region, "adopt", (ami,), f"(earlier copy of {source_ami})", mutating=False)


def _encryption_mismatch(built: BuiltImage, region: str, image: Mapping[str, Any]) -> str:
    """Why the copy's encryption is not what the config asks for ('' when it is)."""
    volumes = [m["Ebs"] for m in image.get("BlockDeviceMappings", []) if "Ebs" in m]
    want_key = built.config.kms_key_ids.get(region)
    for ebs in volumes:
        encrypted = bool(ebs.get("Encrypted"))
        if encrypted != built.config.encrypt:
            state = "encrypted" if encrypted else "not encrypted"
            return f"it is {state} and the config says encrypt = {built.config.encrypt}"
        have = ebs.get("KmsKeyId")
        if want_key and have and not _same_key(want_key, str(have)):
            return f"it is encrypted with {have}, the config asks for {want_key}"
    return ""


def _same_key(want: str, have: str) -> bool:
    """Compare a configured key with the key ARN AWS reports.

    An alias cannot be compared without a KMS call (AWS reports the key it resolved to), so an
    alias is taken to match; key ids and key ARNs compare by key id.
    """
    if "alias/" in want:
        return True
    return want.rsplit("/", 1)[-1] == have.rsplit("/", 1)[-1]


def _copy_options(
    built: BuiltImage, region: str, source_ami: str, replaces: list[str]
) -> dict[str, Any]:
    options: dict[str, Any] = {}
    key = built.config.kms_key_ids.get(region, "") if built.config.encrypt else ""
    if built.config.encrypt:
        options["Encrypted"] = True
        if key:
            options["KmsKeyId"] = key
    tags = [{"Key": k, "Value": v} for k, v in desired_tags(built).items()]
    options["TagSpecifications"] = [
        {"ResourceType": "image", "Tags": tags},
        {"ResourceType": "snapshot", "Tags": tags},
    ]
    # Same request, same token: AWS returns the first copy instead of making another. Every
    # parameter that changes the request is in it, or AWS answers IdempotentParameterMismatch.
    encrypted = "encrypted" if built.config.encrypt else "plain"
    seed = f"{built.project}/{built.image}/{built.version}/{region}/{source_ami}/{encrypted}/{key}"
    seed += "".join(f"/replaces/{ami}" for ami in replaces)
    options["ClientToken"] = hashlib.sha256(seed.encode()).hexdigest()[:64]
    return options


def _copy(ctx: StepContext, region: str, request: dict[str, Any]) -> str:
    """CopyImage, tagged in the same call: the tags are how later runs find it."""
    ec2 = ctx.aws.ec2(region)
    source, source_region = request["SourceImageId"], request["SourceRegion"]
    with translated(f"copy {source} from {source_region}", region):
        ami: str = ec2.copy_image(**request)["ImageId"]
    return ami
