"""Published versions of an image: what packerpy has made, found in AWS by its own tags.

Published versions are found by packerpy's own tags (`packerpy:image`, `packerpy:version`) on
self-owned AMIs, one DescribeImages per region, regions queried concurrently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from packerpy import versions
from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.pages import IMAGES_PAGE, items
from packerpy.naming import (
    BASE_AMI_TAG,
    FINGERPRINT_TAG,
    IDENTITY_TAGS,
    IMAGE_TAG,
    TAG_PREFIX,
    VERSION_TAG,
)
from packerpy.support.pool import per_region


@dataclass(frozen=True)
class Published:
    version: str
    amis: dict[str, str]  # region -> AMI id
    tags: dict[str, str] = field(default_factory=dict)  # of the AMI in the first region found
    created: str = ""
    # The full DescribeImages entries, region -> image: steps reuse them instead of asking again.
    descriptions: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def image_cache_seed(self) -> dict[tuple[str, str], Any]:
        return {(region, self.amis[region]): image for region, image in self.descriptions.items()}

    @property
    def fingerprint(self) -> str | None:
        return self.tags.get(FINGERPRINT_TAG)

    @property
    def base_ami(self) -> str | None:
        return self.tags.get(BASE_AMI_TAG)

    def provenance(self) -> dict[str, str]:
        """The packerpy tags that describe how it was built (not which image/version it is)."""
        return {
            k: v
            for k, v in self.tags.items()
            if k.startswith(TAG_PREFIX) and k not in IDENTITY_TAGS
        }


def _tags(resource: Mapping[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def _images_in(aws: AwsClients, region: str, image: str) -> list[dict[str, Any]]:
    ec2 = aws.ec2(region)
    with translated(f"list images of {image!r}", region):
        found: list[dict[str, Any]] = items(
            ec2,
            "describe_images",
            "Images",
            IMAGES_PAGE,
            Owners=["self"],
            Filters=[{"Name": f"tag:{IMAGE_TAG}", "Values": [image]}],
        )
    return found


def published(aws: AwsClients, image: str, regions: Iterable[str]) -> list[Published]:
    """Every packerpy-built version of `image` in `regions`, in SemVer order (oldest first)."""
    found = per_region(list(regions), lambda r: (r, _images_in(aws, r, image)))
    amis: dict[str, dict[str, str]] = {}
    tags: dict[str, dict[str, str]] = {}
    created: dict[str, str] = {}
    descriptions: dict[str, dict[str, Any]] = {}
    for region, images in found:
        for ami in images:
            ami_tags = _tags(ami)
            version = ami_tags.get(VERSION_TAG)
            # A hand-edited tag that is not SemVer names no version packerpy could have made.
            if not versions.is_version(version) or ami.get("State") in {"deregistered", "failed"}:
                continue
            amis.setdefault(version, {})[region] = ami["ImageId"]
            descriptions.setdefault(version, {})[region] = ami
            tags.setdefault(version, ami_tags)
            stamp = str(ami.get("CreationDate", ""))
            created[version] = min(filter(None, (created.get(version), stamp)), default="")
    return [
        Published(
            version=v,
            amis=amis[v],
            tags=tags[v],
            created=created[v],
            descriptions=descriptions[v],
        )
        for v in versions.sort_versions(amis)
    ]
