"""Field types whose limits come from AWS or packer: tags, durations, URLs, image paths, variables.

Each limit is one AWS or packer rule, cited where it is defined; a value outside it fails at config
load instead of after the build instance launched.
"""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

import durationpy
from pydantic import AfterValidator, PlainValidator, StrictStr, StringConstraints, WithJsonSchema

from packerpy import naming
from packerpy.config.strings import show
from packerpy.config.types import _pattern

# --- tags -------------------------------------------------------------------------------------

# EC2 "Tag restrictions" (Using_Tags.html): at most 50 tags per resource, keys 1-128 and values
# at most 256 characters, and the aws: prefix is reserved for keys and values. packerpy's own tags
# go on the same resources (AMI, snapshots, build instance), so they count against the 50.
AWS_TAGS_MAX = 50
TAG_KEY_MAX = 128
TAG_VALUE_MAX = 256
USER_TAGS_MAX = AWS_TAGS_MAX - naming.PACKERPY_TAG_COUNT


def _tags(value: dict[str, str]) -> dict[str, str]:
    if len(value) > USER_TAGS_MAX:
        raise ValueError(
            f"has {len(value)} tags; AWS allows {AWS_TAGS_MAX} per resource and packerpy adds "
            f"{naming.PACKERPY_TAG_COUNT} of its own, so at most {USER_TAGS_MAX}"
        )
    for key, val in value.items():
        if key.startswith(naming.TAG_PREFIX) or key.lower().startswith("aws:"):
            raise ValueError(
                f"tag key {show(key)} uses a reserved prefix ({naming.TAG_PREFIX!r} or 'aws:')"
            )
        if val.lower().startswith("aws:"):
            raise ValueError(f"tag {show(key)}: values may not start with 'aws:' (reserved by AWS)")
        if not 1 <= len(key) <= TAG_KEY_MAX or len(val) > TAG_VALUE_MAX:
            raise ValueError(
                f"tag {show(key)}: keys are 1-{TAG_KEY_MAX} characters, "
                f"values at most {TAG_VALUE_MAX}"
            )
    return value


Tags = Annotated[dict[StrictStr, StrictStr], AfterValidator(_tags)]

# --- durations --------------------------------------------------------------------------------

_HOURS = {"h": 1, "d": 24, "w": 24 * 7}
# EnableImageDeprecation DeprecateAt: at most 10 years ahead (3650 days is under 10 years even
# with leap days), and a public AMI at most 2 years after creation.
DEPRECATE_MAX_HOURS = 3650 * 24
DEPRECATE_PUBLIC_MAX_HOURS = 730 * 24


def duration_hours(value: str) -> int:
    """'180d' -> 4320; the value has already matched DeprecateAfter's pattern."""
    return int(value[:-1]) * _HOURS[value[-1]]


def _deprecate_after(value: str) -> str:
    if duration_hours(value) > DEPRECATE_MAX_HOURS:
        raise ValueError("is more than 10 years (AWS allows deprecation at most 10 years ahead)")
    return value


DeprecateAfter = Annotated[
    StrictStr,
    _pattern(r"[1-9][0-9]{0,5}[hdw]", "a duration like 180d, 26w or 12h"),
    AfterValidator(_deprecate_after),
]

# packer's ssh_timeout is a Go duration (time.ParseDuration: `5m30s`, `1h`, `90s`, `1.5h`,
# `500ms`); past a day a build that cannot connect is just stuck. durationpy parses that syntax,
# but also accepts units Go does not (d, w, mm, y), so the pattern keeps Go's units only: the
# value goes to packer verbatim and packer would reject `1d`.
SSH_TIMEOUT_MAX_SECONDS = 24 * 3600
_GO_DURATION = re.compile(r"(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h)){1,8}")


def go_duration_seconds(value: str) -> float:
    """A Go duration as packer reads it ('5m30s' -> 330.0); ValueError for anything else."""
    if len(value) > 40 or not _GO_DURATION.fullmatch(value):
        raise ValueError(
            "is not a duration like 5m30s, 90s or 1h (Go's syntax, as packer reads it)"
        )
    try:
        return float(durationpy.from_str(value).total_seconds())
    except (durationpy.DurationError, OverflowError) as exc:
        raise ValueError(f"is not a duration packer can read ({exc})") from None


def _ssh_timeout(value: str) -> str:
    seconds = go_duration_seconds(value)
    if seconds <= 0:
        raise ValueError("must be more than 0s")
    if seconds > SSH_TIMEOUT_MAX_SECONDS:
        raise ValueError("is more than 24h")
    return value


SshTimeout = Annotated[
    StrictStr,
    AfterValidator(_ssh_timeout),
]

# --- URLs, CIDRs, image paths, owners ---------------------------------------------------------


def check_endpoint_url(value: str) -> str:
    """An http(s) URL with a host (botocore raises 'Invalid IPv6 URL' on `http://[x` later)."""
    try:
        parts = urlsplit(value)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
        parts = urlsplit("")
    if (
        not port_ok
        or parts.scheme not in {"http", "https"}
        or not parts.hostname
        or re.search(r"[\s\x00-\x1f\x7f]", value)
    ):
        raise ValueError("is not an http(s) URL with a host")
    return value


EndpointUrl = Annotated[
    StrictStr, StringConstraints(max_length=2048), AfterValidator(check_endpoint_url)
]


def _cidr(value: str) -> str:
    # IPv6 sources need packer >= 1.7 (1.6 sends them as CidrIp and EC2 refuses them at launch);
    # the packer version is known only at render time, so that check is not made here.
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"is not a CIDR block ({exc})") from None
    return value


Cidr = Annotated[StrictStr, StringConstraints(max_length=64), AfterValidator(_cidr)]

# scrub.sh splits SCRUB_EXTRA_PATHS on whitespace and lets the shell expand globs: a space in one
# entry removes two other paths. So: absolute, ASCII, no whitespace or glob characters, no empty,
# '.' or '..' components, not '/' itself.
_IMAGE_PATH = re.compile(r"(/[A-Za-z0-9._@+:=,%~-]+)+", re.ASCII)


def _image_path(value: str) -> str:
    parts = value.split("/")[1:]
    if not _IMAGE_PATH.fullmatch(value) or any(part in {".", ".."} for part in parts):
        raise ValueError(
            "is not an absolute path inside the image (letters, digits, . _ @ + : = , % ~ -; "
            "no spaces, globs, '//', '.' or '..' components, not '/')"
        )
    return value


ImagePath = Annotated[StrictStr, StringConstraints(max_length=1024), AfterValidator(_image_path)]

# DescribeImages Owners: an account id or one of the aliases EC2 knows. The wildcard '*' loads so
# that `lint` can explain why it is dangerous (PPL004, an error that blocks the build).
Owner = Annotated[
    StrictStr,
    _pattern(
        r"[0-9]{12}|amazon|self|aws-marketplace|aws-backup-vault|\*",
        "an owner (an account id, amazon, self, aws-marketplace or aws-backup-vault)",
    ),
]

# --- variables --------------------------------------------------------------------------------

# Variable values nest at most this deep (lists and tables): enough for any real template input.
VAR_DEPTH_MAX = 8


def _var_value(value: object, depth: int = 0) -> Any:  # noqa: ANN401 - JSON-like by contract
    """A JSON-like value with an HCL form: no NaN/inf, no dates, bounded nesting."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        # TOML integers are 64-bit; a larger one only comes from outside the TOML reader.
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"{value} is outside the 64-bit integer range")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number (HCL has no NaN or inf)")
        return value
    if depth >= VAR_DEPTH_MAX and isinstance(value, list | dict):
        raise ValueError(f"nests more than {VAR_DEPTH_MAX} levels deep")
    if isinstance(value, list):
        return [_var_value(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {key: _var_value(item, depth + 1) for key, item in value.items()}
    raise ValueError(f"{value!r} has no HCL form (strings, numbers, booleans, lists, tables)")


_VAR_SCHEMA: dict[str, Any] = {
    "description": (
        f"string, integer, finite number, boolean, or a list or table of these "
        f"(at most {VAR_DEPTH_MAX} levels deep)"
    ),
    "anyOf": [
        {"type": "string"},
        {"type": "integer"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "array"},
        {"type": "object"},
    ],
}
VarValue = Annotated[Any, PlainValidator(_var_value), WithJsonSchema(_VAR_SCHEMA)]
