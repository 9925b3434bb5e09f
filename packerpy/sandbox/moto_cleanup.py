"""Sandbox-only moto extension for cleanup (retention), installed with the sandbox's other
fills: what moto 5.2.5 lacks or does too slowly for cleanup's tests and bench.

- DescribeImages filter `block-device-mapping.snapshot-id` (AWS: "The ID of the snapshot used
  for the Amazon EBS volume"): moto raises FilterNotImplementedError.
- DeregisterImage `DeleteAssociatedSnapshots`: moto ignores it.
- Tag filters: moto looks up each resource's tags by scanning every tag of the region.
Production code never imports it.

moto is not thread-safe, and the server answers each request in a thread of its own: cleanup
deregisters 8 AMIs at a time. DeregisterImage (moto's check-then-pop, then the scan for
another AMI using the snapshot, then the snapshot's pop) runs under one lock, so concurrent
deregistrations see each other whole: the scan used to fail with "dictionary changed size
during iteration" (a 500) in 2 of 3 runs of the 500-AMI bench.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models.amis import Ami
from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.responses.amis import AmisResponse
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

# Held by every AMI deregistration (see the module's docstring).
AMI_LOCK = threading.Lock()
# moto's AMI has one snapshot, its `ebs_snapshot`.
_MOTO_AMI_FILTER = Ami.get_filter_value


def ami_filter_value(self: Ami, filter_name: str, method_name: str | None = None) -> Any:  # noqa: ANN401 - moto's filter values are untyped
    if filter_name == "block-device-mapping.snapshot-id":
        snapshot = getattr(self, "ebs_snapshot", None)
        return [snapshot.id] if snapshot is not None else []
    return _MOTO_AMI_FILTER(self, filter_name, method_name)


def deregister_image(self: AmisResponse) -> ActionResult:
    """DeregisterImage with DeleteAssociatedSnapshots, which moto ignores. AWS: "If a snapshot
    is associated with multiple AMIs, it is not deleted, regardless of this setting"; each
    snapshot is reported in DeleteSnapshotResults (ReturnCode success, or skipped)."""
    ami_id = self._get_param("ImageId")
    delete = str(self._get_param("DeleteAssociatedSnapshots", "false")).lower() == "true"
    backend = self.ec2_backend
    result: dict[str, Any] = {"Return": True}
    with AMI_LOCK:
        snapshot = getattr(backend.amis.get(ami_id), "ebs_snapshot", None)
        backend.deregister_image(ami_id)
        if delete and snapshot is not None:
            # A copy: other requests (a RegisterImage) may still change the dict meanwhile.
            shared = any(
                getattr(other, "ebs_snapshot", None) is snapshot
                for other in list(backend.amis.values())
            )
            if not shared:
                backend.snapshots.pop(snapshot.id, None)
            code = "skipped" if shared else "success"
            result["DeleteSnapshotResults"] = [{"SnapshotId": snapshot.id, "ReturnCode": code}]
    return ActionResult(result)


def resource_tags(self: TaggedEC2Resource) -> list[dict[str, str]]:
    """One resource's tags straight from moto's tag store. moto's own get_tags runs
    DescribeTags over every tag of the region with a regex per tag, so each tag filter of a
    DescribeImages is O(AMIs x tags): 7.5 s for 500 tagged AMIs (measured, cleanup's bench).
    Same entries, same order (moto keeps one dict per resource, in insertion order)."""
    resource = getattr(self, "id", None)
    if not resource:
        return []
    found = self.ec2_backend.tags.get(resource) or {}  # type: ignore[attr-defined]
    kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource), "")
    return [
        {"resource_id": resource, "key": key, "value": value, "resource_type": kind}
        for key, value in found.items()
    ]


def install() -> None:
    """Patch moto's classes in this process (idempotent: the originals are kept aside once)."""
    Ami.get_filter_value = ami_filter_value  # type: ignore[method-assign]
    AmisResponse.deregister_image = deregister_image  # type: ignore[method-assign]
    TaggedEC2Resource.get_tags = resource_tags  # type: ignore[method-assign]
