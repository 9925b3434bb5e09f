"""Published versions of an image: what packerpy has made, found in AWS by its own tags.

Published versions are found by packerpy's own tags (`packerpy:project`, `packerpy:image`,
`packerpy:version`) on self-owned AMIs, disabled ones included, one DescribeImages per region,
regions queried concurrently.

One version is one AMI per region. Versions equal in SemVer precedence (`1.0.0` and
`1.0.0+rebuild`: build metadata does not count) are one version; when a region holds more than
one AMI of a version (two racing builds before the claim existed, or a hand-made copy), the
oldest is the version's AMI and the others are reported in `duplicates`, never dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
    PROJECT_TAG,
    TAG_PREFIX,
    VERSION_TAG,
)
from packerpy.support.pool import per_region

# States of an AMI that no longer exists or never will (a failed copy keeps its name but is
# not a version: the copy step replaces it).
_GONE = frozenset({"deregistered", "failed", "error"})


@dataclass(frozen=True)
class Published:
    version: str
    amis: dict[str, str]  # region -> AMI id (the oldest of the version there)
    tags: dict[str, str] = field(default_factory=dict)  # of the AMI in the first region found
    created: str = ""
    # The full DescribeImages entries, region -> image: steps reuse them instead of asking again.
    descriptions: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    # region -> the other AMIs of this version there: one version must be one AMI.
    duplicates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

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


def version_key(version: str) -> str:
    """The version without build metadata: what immutability and the catalog compare."""
    return str(versions.parse(version).replace(build=None))


def same_version(a: str, b: str) -> bool:
    """True when a and b have equal SemVer precedence (SemVer 2.0 item 10: build metadata
    MUST be ignored when determining precedence)."""
    return version_key(a) == version_key(b)


def _tags(resource: Mapping[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def project_images(
    aws: AwsClients, region: str, project: str, images: Sequence[str] = (), tag_key: str = ""
) -> list[dict[str, Any]]:
    """Self-owned AMIs tagged with this project (and one of `images`, and carrying `tag_key`),
    disabled ones too: one paged, server-side filtered DescribeImages."""
    filters = [{"Name": f"tag:{PROJECT_TAG}", "Values": [project]}]
    if images:
        filters.append({"Name": f"tag:{IMAGE_TAG}", "Values": list(images)})
    if tag_key:
        filters.append({"Name": "tag-key", "Values": [tag_key]})
    with translated(f"list images of {', '.join(images) or project!r}", region):
        # IncludeDisabled: DescribeImages leaves disabled AMIs out by default, yet their names
        # and versions are still taken (fidelity review 16).
        found: list[dict[str, Any]] = items(
            aws.ec2(region),
            "describe_images",
            "Images",
            IMAGES_PAGE,
            Owners=["self"],
            Filters=filters,
            IncludeDisabled=True,
        )
    return found


def published(
    aws: AwsClients, image: str, regions: Iterable[str], *, project: str
) -> list[Published]:
    """Every packerpy-built version of `image` of `project` in `regions`, oldest first."""
    found = per_region(list(regions), lambda r: (r, project_images(aws, r, project, (image,))))
    # version key -> region -> AMIs of that version there, oldest first
    by_version: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for region, images in found:
        for ami in images:
            version = _tags(ami).get(VERSION_TAG)
            # A hand-edited tag that is not SemVer names no version packerpy could have made.
            if not versions.is_version(version) or ami.get("State") in _GONE:
                continue
            by_version.setdefault(version_key(version), {}).setdefault(region, []).append(ami)
    result = [_one(regions_found) for regions_found in by_version.values()]
    order = versions.sort_versions(p.version for p in result)
    return sorted(result, key=lambda p: order.index(p.version))


def _one(regions_found: dict[str, list[dict[str, Any]]]) -> Published:
    for amis in regions_found.values():
        amis.sort(key=lambda ami: (str(ami.get("CreationDate", "")), ami["ImageId"]))
    firsts = {region: amis[0] for region, amis in regions_found.items()}
    first = next(iter(firsts.values()))
    stamps = [str(ami.get("CreationDate", "")) for ami in firsts.values()]
    return Published(
        version=_tags(first)[VERSION_TAG],
        amis={region: ami["ImageId"] for region, ami in firsts.items()},
        tags=_tags(first),
        created=min(filter(None, stamps), default=""),
        descriptions=firsts,
        duplicates={
            region: tuple(ami["ImageId"] for ami in amis[1:])
            for region, amis in regions_found.items()
            if len(amis) > 1
        },
    )
