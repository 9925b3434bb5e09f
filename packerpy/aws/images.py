"""EC2 image helpers shared by everything that reads or changes AMIs: a description cache,
snapshot ids, and a cancellable wait for an AMI to become available."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from packerpy.aws.clients import AwsClients, translated
from packerpy.errors import AwsError, Cancelled

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import ImageTypeDef


class ImageCache:
    """DescribeImages results shared by the steps of one run, so each AMI is described once.

    A step that changes what a description holds (tags, deprecation time) calls `forget`.
    """

    def __init__(self, aws: AwsClients, seed: Mapping[tuple[str, str], Any] | None = None) -> None:
        self._aws = aws
        self._images: dict[tuple[str, str], Any] = dict(seed or {})
        self._lock = threading.Lock()

    def get(self, region: str, ami: str) -> ImageTypeDef:
        with self._lock:
            cached = self._images.get((region, ami))
        if cached is not None:
            image: ImageTypeDef = cached
            return image
        with translated(f"describe {ami}", region):
            found = self._aws.ec2(region).describe_images(ImageIds=[ami])["Images"]
        if not found:
            raise AwsError(f"aws {region}: {ami} does not exist")
        with self._lock:
            self._images[(region, ami)] = found[0]
        return found[0]

    def forget(self, region: str, ami: str) -> None:
        with self._lock:
            self._images.pop((region, ami), None)


def snapshot_ids(image: ImageTypeDef) -> list[str]:
    return [
        bdm["Ebs"]["SnapshotId"]
        for bdm in image.get("BlockDeviceMappings", [])
        if "Ebs" in bdm and "SnapshotId" in bdm["Ebs"]
    ]


def wait_available(
    aws: AwsClients,
    region: str,
    ami: str,
    cancel: threading.Event,
    *,
    delay: float,
    attempts: int,
) -> None:
    """Poll until `ami` is available, as EC2's image_available waiter does, but cancellable.

    One boto3 waiter call would block Ctrl-C for up to its whole timeout (an hour for a large
    copy); here the cancel token is checked between polls and `Cancelled` raised once it is set.
    """
    from botocore.exceptions import ClientError  # noqa: PLC0415 - botocore loads with boto3

    ec2 = aws.ec2(region)
    for _ in range(attempts):
        with translated(f"wait for {ami}", region):
            try:
                found = ec2.describe_images(ImageIds=[ami])["Images"]
            except ClientError as exc:
                # A fresh copy can be briefly unknown to DescribeImages: keep polling.
                if exc.response.get("Error", {}).get("Code") != "InvalidAMIID.NotFound":
                    raise
                found = []
        state = found[0].get("State") if found else None
        if state == "available":
            return
        if state in {"failed", "error", "deregistered"}:
            # The reason (e.g. an unusable KMS key) is what the user needs to act on.
            why = found[0].get("StateReason") or {}
            reason = f" ({why.get('Code', '')}: {why.get('Message', '')})" if why else ""
            raise AwsError(f"aws {region}: {ami} did not become available: it is {state}{reason}")
        if cancel.wait(delay):
            raise Cancelled(f"stopped waiting for {ami} in {region}")
    raise AwsError(f"aws {region}: {ami} did not become available after {attempts} checks")
