"""Revoked versions as a base: `build` refuses one, `outdated` lists images built on one.

`revoke` tags the AMI `packerpy:revoked` in every region. Tags are visible only to the AMI's
owner account (EC2 shows a shared AMI's tags to its owner alone), so this sees revocations
made in the same account; a base shared from another account is checked there, not here.
"""

from __future__ import annotations

from packerpy.aws.clients import AwsClients, translated
from packerpy.errors import Refused
from packerpy.naming import REVOKED_TAG, VERSION_TAG


def revocation(aws: AwsClients, region: str, ami: str) -> str | None:
    """The reason `ami` was revoked, None when it was not (or cannot be seen)."""
    # A filter, not ImageIds: a base deregistered since is "not revoked", not an error.
    with translated(f"describe base AMI {ami}", region):
        found = aws.ec2(region).describe_images(
            Filters=[{"Name": "image-id", "Values": [ami]}], IncludeDeprecated=True
        )["Images"]
    for image in found:
        tags = {t["Key"]: t["Value"] for t in image.get("Tags", [])}
        if REVOKED_TAG in tags:
            return f"{tags.get(VERSION_TAG, ami)}: {tags[REVOKED_TAG]}"
    return None


def refuse_revoked_base(aws: AwsClients, region: str, ami: str, *, where: str) -> None:
    """Refused (exit 14) when the base AMI is a revoked packerpy version; `where` names the key."""
    reason = revocation(aws, region, ami)
    if reason is not None:
        raise Refused(
            f"{where}: {ami} in {region} is a revoked version ({reason}); build on another base"
        )
