"""The AMI an image builds on now: its pinned id, or what its owner-scoped filter selects."""

from __future__ import annotations

from dataclasses import dataclass

from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.pages import IMAGES_PAGE, items
from packerpy.config import ImageConfig
from packerpy.errors import AwsError


@dataclass(frozen=True)
class BaseAmi:
    id: str
    name: str
    created: str


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
            found = items(
                ec2,
                "describe_images",
                "Images",
                IMAGES_PAGE,
                Owners=list(base.filter.owners),
                Filters=filters,
            )
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
