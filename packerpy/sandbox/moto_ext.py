"""Sandbox-only moto extension: what moto 5.2.5 lacks and packerpy relies on, including the
parts of CopyImage moto ignores (see `copy_image` below).

- EC2 EnableImageDeprecation / DisableImageDeprecation: moto answers both with "not
  implemented" and never reports an AMI's `DeprecationTime`.
- DescribeImages `MaxResults` / `NextToken`: moto ignores them and answers in one page, so a
  caller that reads only the first page would pass every test.
- DescribeRegions without `AllRegions`: moto lists every region, also those not enabled for
  the account; AWS lists only enabled ones (OptInStatus opt-in-not-required or opted-in).
  moto already reports `OptInStatus` (not-opted-in for regions launched after March 2019).
- KMS DescribeKey of an AWS managed key (`alias/aws/ebs`): moto makes the key on first use
  and reports `KeyManager` CUSTOMER; AWS reports AWS, and refuses to share AMIs encrypted with it.
Only the sandbox server process (`packerpy.sandbox.server`) installs it; production code never
imports it.

Deprecation, following the EC2 API reference:
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
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import (
    InvalidAMIIdError,
    InvalidNextToken,
    InvalidParameterCombination,
    InvalidParameterValueError,
    MissingParameterError,
    UnvailableAMIIdError,
)
from moto.ec2.models.amis import Ami
from moto.ec2.responses.amis import AmisResponse
from moto.ec2.responses.availability_zones_and_regions import AvailabilityZonesAndRegions
from moto.kms.models import KmsBackend, kms_backends

from packerpy.sandbox import moto_asg, moto_cleanup, moto_dispatch, moto_serializer

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


# DescribeImages' MaxResults range (EC2 API reference: "You can specify a value between 5 and
# 1000").
MIN_PAGE, MAX_PAGE = 5, 1000


def paged_describe_images(self: AmisResponse) -> ActionResult:
    """DescribeImages that honours MaxResults / NextToken, as EC2 does.

    Pages follow ImageId order, so a token (the offset of the next image) stays valid while
    nothing is registered or deregistered in between. MaxResults with ImageIds is refused
    with InvalidParameterCombination, as EC2 refuses it.
    """
    max_results = self._get_int_param("MaxResults")
    token = self._get_param("NextToken")
    if max_results is None and token is None:
        return _MOTO_DESCRIBE_IMAGES(self)
    if self._get_param("ImageIds", []):
        raise InvalidParameterCombination(
            "The parameter imageIdsSet cannot be used with maxResults"
        )
    size = MAX_PAGE if max_results is None else max_results
    if not MIN_PAGE <= size <= MAX_PAGE:
        raise InvalidParameterValueError(str(max_results))
    start = _offset(token)
    everything: ActionResult = _MOTO_DESCRIBE_IMAGES(self)
    images = sorted(everything.result["Images"], key=lambda ami: ami.id)  # type: ignore[index]
    result: dict[str, object] = {"Images": images[start : start + size]}
    if start + size < len(images):
        result["NextToken"] = f"offset-{start + size}"
    return ActionResult(result)


def _offset(token: str | None) -> int:
    if token is None:
        return 0
    prefix, _, number = token.partition("-")
    if prefix != "offset" or not number.isdigit():
        raise InvalidNextToken(token)
    return int(number)


def enabled_describe_regions(self: AvailabilityZonesAndRegions) -> ActionResult:
    """DescribeRegions: without AllRegions, only the regions enabled for the account (as AWS)."""
    everything: ActionResult = _MOTO_DESCRIBE_REGIONS(self)
    if str(self._get_param("AllRegions", "false")).lower() == "true":
        return everything
    regions = everything.result["Regions"]  # type: ignore[index]
    return ActionResult({"Regions": [r for r in regions if r.opt_in_status != "not-opted-in"]})


def aws_managed_default_key(self: KmsBackend, alias_name: str) -> str | None:
    """The key behind a reserved `alias/aws/...` alias, made on first use as moto does, but
    managed by AWS (`KeyManager` AWS), as DescribeKey reports it in AWS."""
    key_id: str | None = _MOTO_DEFAULT_KEYS(self, alias_name)
    if key_id is not None:
        self.keys[key_id].key_manager = "AWS"
    return key_id


_MOTO_DESCRIBE_IMAGES = AmisResponse.describe_images
_MOTO_DESCRIBE_REGIONS = AvailabilityZonesAndRegions.describe_regions
_MOTO_DEFAULT_KEYS = KmsBackend._generate_default_keys


def copy_image(self: AmisResponse) -> ActionResult:
    """CopyImage with what moto 5.2.5 drops, following the EC2 API reference for CopyImage:

    - ClientToken: a repeated token returns the first copy's id (moto made a second copy);
    - TagSpecifications: tags the new image and its snapshot (moto ignored them);
    - SourceImageId / SourceImageRegion: DescribeImages reports them on the copy;
    - Encrypted / KmsKeyId: the copy's snapshot is encrypted with that key, and DescribeImages
      shows Encrypted and KmsKeyId in its BlockDeviceMappings;
    - a KmsKeyId that KMS holds but cannot use (Disabled, PendingDeletion): AWS checks the key
      only after CopyImage returned ("can appear to complete, but eventually fails", botocore's
      model), so the copy is returned and then shows State `failed` with a StateReason. A key
      the sandbox's KMS does not hold at all is taken as usable: sandbox configs name real keys
      (packer's own encrypting copy goes through here too), and failing those would make every
      encrypted bake fail in the sandbox.
    """
    backend = self.ec2_backend
    token = self._get_param("ClientToken")
    tokens: dict[str, str] = backend.__dict__.setdefault("packerpy_copy_tokens", {})
    if token and token in tokens:
        return ActionResult({"ImageId": tokens[token]})
    self.error_on_dryrun()
    source_id, source_region = self._get_param("SourceImageId"), self._get_param("SourceRegion")
    ami = backend.copy_image(
        source_id, source_region, self._get_param("Name"), self._get_param("Description")
    )
    ami.source_image_id, ami.source_image_region = source_id, source_region
    key = self._get_param("KmsKeyId")
    if self._get_param("Encrypted") or key:
        ami.ebs_snapshot.encrypted = True
        arn, state = _key(backend, key)
        ami.ebs_snapshot.kms_key_id = arn
        if state not in {"Enabled", None}:
            ami.state = "failed"
            ami.state_reason = {
                "Code": "Client.InvalidKMSKey.InvalidState",
                "Message": f"The KMS key {key} is {state} in {backend.region_name}",
            }
    specs = self._get_param("TagSpecifications", []) or self._get_param("TagSpecification", [])
    for spec in specs:
        resource = {"image": ami.id, "snapshot": ami.ebs_snapshot.id}.get(spec["ResourceType"])
        tags = {tag["Key"]: tag["Value"] for tag in spec.get("Tags", spec.get("Tag", []))}
        if resource and tags:
            backend.create_tags([resource], tags)
    if token:
        tokens[token] = ami.id
    return ActionResult({"ImageId": ami.id})


def _key(backend: object, key: str | None) -> tuple[str, str | None]:
    """The key's ARN and KMS state in the backend's region; (as given, None) when unknown."""
    kms = kms_backends[backend.account_id][backend.region_name]  # type: ignore[attr-defined]
    wanted = key or "alias/aws/ebs"
    try:
        found = kms.describe_key(wanted)
    except Exception:  # noqa: BLE001 - moto raises NotFoundException or KeyError
        return wanted, None
    return str(found.arn), str(found.key_state)


def _block_device_mappings(self: Ami) -> list[dict[str, Any]]:
    """moto's mappings plus Encrypted and KmsKeyId, as DescribeImages reports them on AWS."""
    mappings: list[dict[str, Any]] = _MOTO_MAPPINGS.fget(self)
    snapshot = self.ebs_snapshot
    for mapping in mappings:
        mapping["Ebs"]["Encrypted"] = bool(snapshot.encrypted)
        if snapshot.encrypted and snapshot.kms_key_id:
            mapping["Ebs"]["KmsKeyId"] = snapshot.kms_key_id
    return mappings


_MOTO_MAPPINGS: Any = Ami.block_device_mappings


def install() -> None:
    """Add the operations to moto's EC2 responses (idempotent; this process only)."""
    # moto dispatches an EC2 Action to the response method of the same snake_case name, looked
    # up on the class per request, so adding methods to AmisResponse is all it takes.
    AmisResponse.enable_image_deprecation = enable_image_deprecation  # type: ignore[attr-defined]
    AmisResponse.disable_image_deprecation = disable_image_deprecation  # type: ignore[attr-defined]
    AmisResponse.describe_images = paged_describe_images  # type: ignore[method-assign]
    AvailabilityZonesAndRegions.describe_regions = enabled_describe_regions  # type: ignore[method-assign]
    KmsBackend._generate_default_keys = aws_managed_default_key  # type: ignore[method-assign]
    AmisResponse.copy_image = copy_image  # type: ignore[method-assign]
    Ami.block_device_mappings = property(_block_device_mappings)  # type: ignore[method-assign,assignment]
    moto_cleanup.install()
    # Rollouts: instance refresh and the unhealthy-AMI test hook (sandbox/moto_asg.py).
    moto_asg.install()
    # Per-request lookups without reflection or disk access (sandbox/moto_dispatch.py).
    moto_dispatch.install()
    # Response serialization without working out each attribute's names per value.
    moto_serializer.install()
