"""AWS rules across an image's fields: encryption, sharing, public, deprecation, partitions.

Each is a combination EC2 refuses only after the AMI exists (ModifyImageAttribute, CopyImage,
EnableImageDeprecation), so the whole bake would be lost; the config refuses it at load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packerpy.config.types import KMS_ARN, ORG_ARN, OU_ARN
from packerpy.config.values import DEPRECATE_PUBLIC_MAX_HOURS, duration_hours
from packerpy.support import regions

if TYPE_CHECKING:
    from packerpy.config.models import ImageConfig


def _is_aws_managed(key: str) -> bool:
    """alias/aws/ebs and friends, as a name or an alias ARN: keys AWS manages."""
    match = KMS_ARN.fullmatch(key)
    name = match.group("key") if match else key
    return name.startswith("alias/aws/")


def check_image_aws_rules(image: ImageConfig) -> None:
    """Raise ValueError for the first KMS, share, public or deprecation rule the image breaks."""
    share = image.share
    shared = bool(share.accounts or share.org_arns or share.ou_arns or share.public)
    # "You can't share AMIs whose snapshots are encrypted with the default AWS managed key"
    # (EC2 User Guide, sharingamis-explicit); that key's policy cannot be changed.
    for region, key in image.kms_key_ids.items():
        if shared and _is_aws_managed(key):
            raise ValueError(
                f"kms_key_ids.{region}: {key!r} is an AWS-managed key, and an AMI encrypted "
                "with it cannot be shared; use a customer-managed key"
            )
        match = KMS_ARN.fullmatch(key)
        if match and match.group("region") != region:
            raise ValueError(
                f"kms_key_ids.{region}: {key!r} is a key in {match.group('region')}; "
                "a KMS key can only encrypt snapshots in its own region"
            )
    # "AMIs with encrypted volumes cannot be made public" (EC2 User Guide, sharingamis-intro).
    if share.public and image.encrypt:
        raise ValueError(
            "share.public: an encrypted AMI cannot be made public; set encrypt = false "
            "for a public image (lint allows it for public images)"
        )
    # EnableImageDeprecation: a public AMI is deprecated at most 2 years after creation.
    if (
        share.public
        and image.deprecate_after
        and duration_hours(image.deprecate_after) > DEPRECATE_PUBLIC_MAX_HOURS
    ):
        raise ValueError(
            f"deprecate_after: {image.deprecate_after!r} is more than 2 years, the most AWS "
            "allows for a public AMI (730d)"
        )


def check_partitions(name: str, image: ImageConfig, default_region: str) -> None:
    """Every region, KMS key ARN and organization ARN of an image in one partition.

    CopyImage does not copy across partitions, and a key or organization of another partition
    cannot be used there.
    """
    where = f"images.{name}"
    image_regions = image.regions or (default_region,)
    home = regions.partition(image_regions[0])
    for index, region in enumerate(image_regions):
        if (other := regions.partition(region)) != home:
            raise ValueError(
                f"{where}.regions[{index}]: {region!r} is in partition {other}, the image's "
                f"first region {image_regions[0]!r} in {home} (AMIs are not copied across "
                "partitions)"
            )
    arns = [
        *(
            (f"kms_key_ids.{region}", key, KMS_ARN.fullmatch(key))
            for region, key in image.kms_key_ids.items()
        ),
        *(
            (f"share.org_arns[{i}]", arn, ORG_ARN.fullmatch(arn))
            for i, arn in enumerate(image.share.org_arns)
        ),
        *(
            (f"share.ou_arns[{i}]", arn, OU_ARN.fullmatch(arn))
            for i, arn in enumerate(image.share.ou_arns)
        ),
    ]
    for field, arn, match in arns:
        if match and match.group("partition") != home:
            raise ValueError(
                f"{where}.{field}: {arn!r} is in partition {match.group('partition')}, the "
                f"image's regions in {home}"
            )
