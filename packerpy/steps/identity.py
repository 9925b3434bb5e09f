"""Which AMI is whose: the guard every step runs before it adopts, tags, shares or deprecates.

Reliability review 4.5: the copy step adopted another image's AMI because both rendered the same
name, then shared it with an outside account and re-tagged it. An AMI's identity is its
`packerpy:project`, `packerpy:image` and `packerpy:version` tags (and, for a copy, the AMI it
was copied from). A mismatch is an IdentityMismatch (exit 8, AWS holds something that is not
this image's), never a silent skip.

Two strengths:
- `adoptable`: the AMI must carry all three tags with this image's values (the copy step adopts
  only such an earlier copy; CopyImage tags copies atomically, so every copy packerpy made has
  them).
- `check`: no identity tag may name something else. An AMI without any identity tag passes: it
  is one this run just made (packer's bake, a copy in a sandbox that ignores TagSpecifications)
  and the tag step is what adds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from packerpy.errors import AwsError
from packerpy.naming import IMAGE_TAG, PROJECT_TAG, VERSION_TAG
from packerpy.steps.protocol import BuiltImage


class IdentityMismatch(AwsError):
    """An AMI packerpy was about to change belongs to another project, image or version."""


def expected(built: BuiltImage) -> dict[str, str]:
    return {PROJECT_TAG: built.project, IMAGE_TAG: built.image, VERSION_TAG: built.version}


def tags_of(image: Mapping[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in image.get("Tags", []) or []}


def _owner(tags: Mapping[str, str]) -> str:
    shown = [f"{key}={tags[key]}" for key in (PROJECT_TAG, IMAGE_TAG, VERSION_TAG) if key in tags]
    return ", ".join(shown) or "no packerpy identity tags"


def conflicts(built: BuiltImage, image: Mapping[str, Any], *, strict: bool) -> list[str]:
    """The identity tags of `image` that are not `built`'s (absent ones count when strict)."""
    have = tags_of(image)
    return [
        key
        for key, value in expected(built).items()
        if (key in have or strict) and have.get(key) != value
    ]


def mismatch_error(
    built: BuiltImage, region: str, image: Mapping[str, Any], verb: str, why: str = ""
) -> IdentityMismatch:
    want = _owner(expected(built))
    ami = f"{image.get('ImageId', '?')} ({image.get('Name', 'no name')})"
    reason = why or f"it carries {_owner(tags_of(image))}"
    return IdentityMismatch(
        f"aws {region}: refusing to {verb} {ami}: it is not {want}: {reason}; "
        "packerpy changes only AMIs whose identity tags match"
    )


def check(built: BuiltImage, region: str, image: Mapping[str, Any], verb: str) -> None:
    """Raise IdentityMismatch when an identity tag of `image` names another owner."""
    if conflicts(built, image, strict=False):
        raise mismatch_error(built, region, image, verb)
