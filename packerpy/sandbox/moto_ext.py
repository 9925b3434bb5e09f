"""Sandbox-only moto extension: EC2 EnableImageDeprecation / DisableImageDeprecation.

It exists only because moto (written against moto 5.2.5) answers both operations with
"not implemented" and never reports an AMI's `DeprecationTime`. Only the sandbox server
process (`packerpy.sandbox.server`) installs it; production code never imports it.

What it does, following the EC2 API reference:
- EnableImageDeprecation(ImageId, DeprecateAt) stores DeprecateAt on the AMI, seconds rounded
  to the nearest minute ("If you specify a value for seconds, Amazon EC2 rounds the seconds to
  the nearest minute"), formatted as AWS shows it: `YYYY-MM-DDTHH:MM:00.000Z`; returns true.
- DisableImageDeprecation(ImageId) clears it; returns true.
- DescribeImages then reports `DeprecationTime` on that AMI: moto's serializer already picks
  up a `deprecation_time` attribute of its `Ami` model, so no template is patched.
- An unknown ImageId raises moto's own InvalidAMIID.NotFound (InvalidAMIID.Unavailable for a
  deregistered one), exactly as moto's EnableImage / DisableImage do.
Not modelled: AWS's rejection of past or too-distant dates, and DescribeImages'
IncludeDeprecated filtering (the sandbox's AMIs are all owned by the caller, whom AWS shows
deprecated AMIs regardless).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from moto.core.responses import ActionResult
from moto.ec2.exceptions import (
    InvalidAMIIdError,
    InvalidParameterValueError,
    MissingParameterError,
    UnvailableAMIIdError,
)
from moto.ec2.models.amis import Ami
from moto.ec2.responses.amis import AmisResponse

WRITTEN_FOR_MOTO = "5.2.5"
# The attribute moto's response serializer maps to the Image shape's `DeprecationTime`.
ATTRIBUTE = "deprecation_time"


def deprecation_time(value: datetime | str) -> str:
    """DeprecateAt as DescribeImages shows it: UTC, rounded to the nearest minute (AWS's rule)."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    # botocore sends UTC; a naive value can only mean UTC as well.
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    minute = when.replace(second=0, microsecond=0)
    if when - minute >= timedelta(seconds=30):
        minute += timedelta(minutes=1)
    return minute.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _ami(response: AmisResponse, ami_id: str) -> Ami:
    """The AMI moto holds under ami_id, or moto's own error for a missing or deleted one."""
    backend = response.ec2_backend
    if ami_id in backend.deleted_amis:
        raise UnvailableAMIIdError(ami_id)
    if ami_id not in backend.amis:
        raise InvalidAMIIdError(ami_id)
    ami: Ami = backend.amis[ami_id]
    return ami


def enable_image_deprecation(self: AmisResponse) -> ActionResult:
    """EnableImageDeprecation: remember when the AMI deprecates, for DescribeImages to show."""
    ami_id = self._get_param("ImageId")
    deprecate_at = self._get_param("DeprecateAt")
    if not deprecate_at:
        raise MissingParameterError("DeprecateAt")
    self.error_on_dryrun()
    ami = _ami(self, ami_id)
    try:
        setattr(ami, ATTRIBUTE, deprecation_time(deprecate_at))
    except (TypeError, ValueError):
        raise InvalidParameterValueError(str(deprecate_at)) from None
    return ActionResult({"Return": True})


def disable_image_deprecation(self: AmisResponse) -> ActionResult:
    """DisableImageDeprecation: forget the AMI's deprecation time."""
    ami_id = self._get_param("ImageId")
    self.error_on_dryrun()
    # None, not delattr: the serializer omits None, and a repeated disable stays harmless.
    setattr(_ami(self, ami_id), ATTRIBUTE, None)
    return ActionResult({"Return": True})


def install() -> None:
    """Add the two operations to moto's EC2 AMI responses (idempotent; this process only)."""
    # moto dispatches an EC2 Action to the response method of the same snake_case name, looked
    # up on the class per request, so adding methods to AmisResponse is all it takes.
    AmisResponse.enable_image_deprecation = enable_image_deprecation  # type: ignore[attr-defined]
    AmisResponse.disable_image_deprecation = disable_image_deprecation  # type: ignore[attr-defined]
