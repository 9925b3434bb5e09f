"""EC2 image helpers shared by everything that reads or changes AMIs: a description cache."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from packerpy.aws.clients import AwsClients, translated
from packerpy.errors import AwsError

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
