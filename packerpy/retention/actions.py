"""The actions of a cleanup plan (aws/operation.py), per region in this order: mark the
snapshots to delete, then per AMI deregister it and delete its snapshots, then finish
snapshots an interrupted run left, then move old kept snapshots to the archive tier. All but
the mark are independent of each other and run a few at a time (aws/operation.py).

Safe to kill at any point and run again: the mark (a `packerpy:cleanup` tag) is set on the
snapshots before their AMI is deregistered, so a rerun finds a deregistered AMI's snapshots;
every deletion treats "already gone" as done. Right before each AMI is deregistered, what
protects AMIs in its region (uses, channels, keep tags) is read again unless it was read less
than REFRESH_SECONDS ago, and so are the AMI's own launch permissions (they have no per-region
read; skipped when its policy has include_shared); an AMI that became protected or shared is
skipped and reported. That a
snapshot is used by no other AMI is AWS's own check at the moment of deletion
(DeleteSnapshot fails with InvalidSnapshot.InUse); such a snapshot is kept and reported.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.operation import Action
from packerpy.errors import AwsError
from packerpy.naming import CLEANUP_TAG
from packerpy.retention import reads, survey
from packerpy.retention.model import Ami, Decision

# How stale the in-use facts may be when an AMI is deregistered. Re-reading them costs a few
# paged calls per region (4-6 against moto, about 15 ms); once a second bounds both the calls
# of a long apply and the window in which a new use goes unseen.
REFRESH_SECONDS = 1.0
# CreateTags takes up to 1000 resource ids per call (EC2 API reference, CreateTags).
TAG_BATCH = 1000
_CODE = re.compile(r"failed: ([A-Za-z.]+):")


@dataclass(frozen=True)
class Skip:
    """An action's result when, at apply time, it found a reason not to act."""

    resource: str
    reasons: tuple[str, ...]

    def __str__(self) -> str:
        return f"skipped {self.resource}: {', '.join(self.reasons)}"


def error_code(exc: AwsError) -> str:
    found = _CODE.search(str(exc))
    return found.group(1) if found else ""


class Guard:
    """What protects AMIs in one region now, read again when older than REFRESH_SECONDS."""

    def __init__(
        self,
        read: Callable[[], dict[str, tuple[str, ...]]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._clock = clock
        self._at: float | None = None
        self._found: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def protecting(self, ami: str) -> tuple[str, ...]:
        with self._lock:
            if self._at is None or self._clock() - self._at > REFRESH_SECONDS:
                # The facts are as old as the read's start: a re-read takes a few calls.
                started = self._clock()
                self._found = self._read()
                self._at = started
            return self._found.get(ami, ())


def guard_for(aws: AwsClients, region: str, scope: survey.Scope) -> Guard:
    return Guard(lambda: survey.recheck(aws, region, scope))


def mark(aws: AwsClients, region: str, project: str, snapshots: Sequence[str]) -> Action:
    def execute(_cancel: threading.Event) -> object:
        ec2 = aws.ec2(region)
        for start in range(0, len(snapshots), TAG_BATCH):
            with translated("mark the snapshots to delete", region):
                ec2.create_tags(
                    Resources=list(snapshots[start : start + TAG_BATCH]),
                    Tags=[{"Key": CLEANUP_TAG, "Value": project}],
                )
        return None

    detail = f"with {CLEANUP_TAG} = {project} (so an interrupted run can finish them)"
    payload = {"Tags": {CLEANUP_TAG: project}}
    return Action(region, "mark", tuple(snapshots), detail, payload=payload, execute=execute)


def _delete_snapshot(aws: AwsClients, region: str, snapshot: str) -> Skip | None:
    try:
        with translated(f"delete snapshot {snapshot}", region):
            aws.ec2(region).delete_snapshot(SnapshotId=snapshot)
    except AwsError as exc:
        code = error_code(exc)
        if code == "InvalidSnapshot.NotFound":
            return None
        if code == "InvalidSnapshot.InUse":
            return Skip(snapshot, ("used by another AMI",))
        raise
    return None


def _deregister(aws: AwsClients, ami: Ami, with_snapshots: bool) -> set[str]:
    """Deregister; with_snapshots: AWS deletes the AMI's snapshots in the same call (one call
    instead of 1 + one per snapshot) unless another AMI uses one. The snapshot ids AWS did
    not report deleted are returned for DeleteSnapshot to finish (or to report in use)."""
    try:
        with translated(f"deregister {ami.ami_id}", ami.region):
            answer = aws.ec2(ami.region).deregister_image(
                ImageId=ami.ami_id, DeleteAssociatedSnapshots=with_snapshots
            )
    except AwsError as exc:  # already deregistered: a rerun of an interrupted apply
        if error_code(exc) not in {"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"}:
            raise
        return set()
    results = answer.get("DeleteSnapshotResults", [])
    return {r["SnapshotId"] for r in results if r.get("ReturnCode") == "success"}


def delete(
    aws: AwsClients,
    guard: Guard,
    decision: Decision,
    snapshots: Sequence[str],
    *,
    shares_protect: bool = True,
) -> Action:
    """Deregister one AMI, then delete `snapshots` (those of its snapshots no other AMI uses).

    shares_protect: the AMI's policy keeps shared AMIs (include_shared = false), so a share
    made since the plan read them (a `publish`, a hand-made share) stops the deletion.
    """
    ami = decision.ami
    every = {s.snapshot_id for s in ami.snapshots} == set(snapshots)

    def execute(_cancel: threading.Event) -> object:
        protected = guard.protecting(ami.ami_id)
        if not protected and shares_protect:
            protected = reads.shared(aws, ami.region, ami.ami_id)
        if protected:
            return Skip(ami.ami_id, protected)
        gone = _deregister(aws, ami, bool(snapshots) and every)
        rest = (_delete_snapshot(aws, ami.region, s) for s in snapshots if s not in gone)
        kept = [s for s in rest if s]
        return kept[0] if kept else None

    detail = f"({ami.image} {ami.version}, {ami.gib} GiB: {'; '.join(decision.reasons)})"
    payload = {"ImageId": ami.ami_id, "SnapshotIds": list(snapshots)}
    resources = (ami.ami_id, *snapshots)
    return Action(
        ami.region, "delete", resources, detail, payload=payload, execute=execute, independent=True
    )


def delete_leftover(aws: AwsClients, region: str, snapshot: str, why: str) -> Action:
    def execute(_cancel: threading.Event) -> object:
        return _delete_snapshot(aws, region, snapshot)

    detail = f"({why})"
    return Action(region, "delete-snapshot", (snapshot,), detail, execute=execute, independent=True)


def archive(aws: AwsClients, guard: Guard, decision: Decision, snapshots: Sequence[str]) -> Action:
    """Move a kept AMI's snapshots to the archive tier, unless it became protected or shared
    (whoever it is shared with could no longer launch it)."""
    ami = decision.ami

    def execute(_cancel: threading.Event) -> object:
        protected = guard.protecting(ami.ami_id) or reads.shared(aws, ami.region, ami.ami_id)
        if protected:
            return Skip(ami.ami_id, protected)
        for snapshot in snapshots:
            with translated(f"archive snapshot {snapshot}", ami.region):
                aws.ec2(ami.region).modify_snapshot_tier(SnapshotId=snapshot, StorageTier="archive")
        return None

    detail = f"({ami.image} {ami.version}, {ami.gib} GiB, kept: {'; '.join(decision.reasons)})"
    resources = (ami.ami_id, *snapshots)
    return Action(ami.region, "archive", resources, detail, execute=execute, independent=True)
