"""What exists in AWS: published versions of an image, and the AMI its base resolves to.

Published versions are found by packerpy's own tags (`packerpy:image`, `packerpy:version`) on
self-owned AMIs, one DescribeImages per region, regions queried concurrently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from packerpy import versioning
from packerpy.aws import AwsClients, translated
from packerpy.config import TAG_PREFIX, ImageConfig
from packerpy.errors import AwsError
from packerpy.provenance import BASE_AMI_TAG, FINGERPRINT_TAG

IMAGE_TAG = f"{TAG_PREFIX}image"
VERSION_TAG = f"{TAG_PREFIX}version"
MAX_REGION_WORKERS = 8


@dataclass(frozen=True)
class Published:
    version: str
    amis: dict[str, str]  # region -> AMI id
    tags: dict[str, str] = field(default_factory=dict)  # of the AMI in the first region found
    created: str = ""
    # The full DescribeImages entries, region -> image: steps reuse them instead of asking again.
    descriptions: Mapping[str, Any] = field(
        default_factory=dict, compare=False, repr=False, metadata={"json": False}
    )

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
        skip = {IMAGE_TAG, VERSION_TAG}
        return {k: v for k, v in self.tags.items() if k.startswith(TAG_PREFIX) and k not in skip}


@dataclass(frozen=True)
class BaseAmi:
    id: str
    name: str
    created: str


def _tags(resource: Mapping[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def _images_in(aws: AwsClients, region: str, image: str) -> list[dict[str, Any]]:
    ec2 = aws.ec2(region)
    found: list[dict[str, Any]] = []
    with translated(f"list images of {image!r}", region):
        pages = ec2.get_paginator("describe_images").paginate(
            Owners=["self"], Filters=[{"Name": f"tag:{IMAGE_TAG}", "Values": [image]}]
        )
        for page in pages:
            found.extend(page["Images"])  # type: ignore[arg-type]
    return found


def published(aws: AwsClients, image: str, regions: Iterable[str]) -> list[Published]:
    """Every packerpy-built version of `image` in `regions`, in SemVer order (oldest first)."""
    regions = list(regions)
    with ThreadPoolExecutor(max_workers=min(MAX_REGION_WORKERS, len(regions) or 1)) as pool:
        per_region = list(pool.map(lambda r: (r, _images_in(aws, r, image)), regions))
    amis: dict[str, dict[str, str]] = {}
    tags: dict[str, dict[str, str]] = {}
    created: dict[str, str] = {}
    descriptions: dict[str, dict[str, Any]] = {}
    for region, images in per_region:
        for ami in images:
            ami_tags = _tags(ami)
            version = ami_tags.get(VERSION_TAG)
            # A hand-edited tag that is not SemVer names no version packerpy could have made.
            if not versioning.is_version(version) or ami.get("State") in {"deregistered", "failed"}:
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
        for v in versioning.sort_versions(amis)
    ]


def resolve_base(aws: AwsClients, name: str, image: ImageConfig, region: str) -> BaseAmi:
    """The AMI the image builds on now: its pinned id, or what its filter selects (as packer)."""
    ec2 = aws.ec2(region)
    base = image.base
    if base.ami is not None:
        with translated(f"describe base AMI {base.ami}", region):
            found = ec2.describe_images(ImageIds=[base.ami])["Images"]
        what = base.ami
    else:
        assert base.filter is not None  # noqa: S101 - the model guarantees one of the two
        filters = [
            {"Name": "name", "Values": [base.filter.name]},
            {"Name": "root-device-type", "Values": ["ebs"]},
            {"Name": "virtualization-type", "Values": ["hvm"]},
            # A pending or disabled AMI is not a base yet (the same filter goes to packer).
            {"Name": "state", "Values": ["available"]},
        ]
        with translated("resolve the base AMI filter", region):
            pages = ec2.get_paginator("describe_images").paginate(
                Owners=list(base.filter.owners),
                Filters=filters,  # type: ignore[arg-type]
            )
            found = [img for page in pages for img in page["Images"]]
        what = f"name {base.filter.name!r} owned by {', '.join(base.filter.owners)}"
        if len(found) > 1 and not base.filter.most_recent:
            raise AwsError(
                f"aws {region}: images.{name}.base.filter matches {len(found)} AMIs "
                "and most_recent is false; narrow the filter or set most_recent = true"
            )
    if not found:
        raise AwsError(f"aws {region}: images.{name}.base: no AMI matches {what}")
    newest = max(found, key=lambda img: str(img.get("CreationDate", "")))
    return BaseAmi(
        id=newest["ImageId"],
        name=str(newest.get("Name", "")),
        created=str(newest.get("CreationDate", "")),
    )
