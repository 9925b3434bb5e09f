"""packerpy's AWS vocabulary: every `packerpy:*` tag key and the rules for AMI names.

Tags are how packerpy finds what it made (published versions, channels, retention) and how it
records how an image was built; they are defined here once so readers and writers agree.
"""

from __future__ import annotations

import string

from packerpy.versions import parse

# Tags packerpy writes itself; users may not set keys under this prefix.
TAG_PREFIX = "packerpy:"
PROJECT_TAG = f"{TAG_PREFIX}project"
IMAGE_TAG = f"{TAG_PREFIX}image"
VERSION_TAG = f"{TAG_PREFIX}version"
FINGERPRINT_TAG = f"{TAG_PREFIX}fingerprint"
BASE_AMI_TAG = f"{TAG_PREFIX}base-ami"
BASE_AMI_NAME_TAG = f"{TAG_PREFIX}base-ami-name"
GIT_SHA_TAG = f"{TAG_PREFIX}git-sha"
GIT_DIRTY_TAG = f"{TAG_PREFIX}git-dirty"
PACKER_VERSION_TAG = f"{TAG_PREFIX}packer-version"
AMAZON_PLUGIN_TAG = f"{TAG_PREFIX}amazon-plugin"
BUILT_AT_TAG = f"{TAG_PREFIX}built-at"
# On packer's builder instance and its volumes (run_tags, run_volume_tags): the run that launched
# them, `<run record directory>@<host>`, so `packerpy reap` can tell a dead run's leftovers.
RUN_TAG = f"{TAG_PREFIX}run"
# Tags that say which project, image and version an AMI is (not how it was built). packerpy
# adopts, tags, shares or deprecates only AMIs whose identity tags match (steps/identity.py).
IDENTITY_TAGS = frozenset({PROJECT_TAG, IMAGE_TAG, VERSION_TAG})
# `project.name`'s default in packerpy.toml (config/models.py uses it too).
DEFAULT_PROJECT = "packerpy"

DEFAULT_NAME_PATTERN = "{image}-{version}"
NAME_PLACEHOLDERS = ("image", "version")

AMI_NAME_MIN = 3
AMI_NAME_MAX = 128
# AWS: "alphanumeric characters, parentheses, square brackets, spaces, periods, slashes, dashes,
# single quotes, at-signs, or underscores" (ASCII: EC2 rejects other letters).
_AMI_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "()[] ./-'@_")
_AMI_NAME_CHARS_TEXT = "letters, digits, ( ) [ ] space . / - ' @ _"


def identity_tags(project: str, image: str, version: str) -> dict[str, str]:
    """The tags that make an AMI findable as `image` of `project` at `version`."""
    return {PROJECT_TAG: project, IMAGE_TAG: image, VERSION_TAG: version}


def validate_name_pattern(pattern: str) -> None:
    """Reject an AMI name pattern that cannot give valid, distinct names to every version.

    Messages are predicates that read after the pattern (config errors print `'PATTERN' MESSAGE`).
    """
    try:
        fields = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        raise ValueError(f"is not a valid pattern ({exc})") from None
    seen: set[str] = set()
    for literal, field, spec, conversion in fields:
        for char in literal:
            if char not in _AMI_NAME_CHARS:
                raise ValueError(
                    f"contains {char!r}, which AMI names may not (allowed: {_AMI_NAME_CHARS_TEXT})"
                )
        if field is None:
            continue
        if field not in NAME_PLACEHOLDERS or spec or conversion:
            shown = "{" + field + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            raise ValueError(
                f"has an unknown placeholder {shown} (allowed: {{image}}, {{version}})"
            )
        seen.add(field)
    if "version" not in seen:
        raise ValueError("must contain {version}, or every version of an image gets the same name")
    if "image" not in seen:
        # Reliability review 4.5: two images named alike made the copy step adopt the other
        # image's AMI. AMI names are unique per account and region, so each image needs its own.
        raise ValueError("must contain {image}, or two images can render the same AMI name")


def ami_name(pattern: str, image: str, version: str) -> str:
    """The AMI name for `image` at `version`, checked against AWS's AMI name rules.

    SemVer build metadata's '+' is not allowed in AMI names; it becomes '_', which never occurs
    in a SemVer string, so distinct versions still get distinct names.
    """
    validate_name_pattern(pattern)
    parse(version)
    name = pattern.format(image=image, version=version.replace("+", "_"))
    for char in name:
        if char not in _AMI_NAME_CHARS:
            raise ValueError(
                f"AMI name {name!r}: character {char!r} is not allowed "
                f"(allowed: {_AMI_NAME_CHARS_TEXT})"
            )
    if not AMI_NAME_MIN <= len(name) <= AMI_NAME_MAX:
        raise ValueError(
            f"AMI name {name!r} is {len(name)} characters; "
            f"AWS allows {AMI_NAME_MIN} to {AMI_NAME_MAX}"
        )
    return name


# The release lifecycle's tags on an AMI (and its snapshots where noted by the writer).
VERIFIED_TAG = f"{TAG_PREFIX}verified"  # pass | fail
VERIFIED_AT_TAG = f"{TAG_PREFIX}verified-at"  # ISO 8601 UTC
VERIFY_REASON_TAG = f"{TAG_PREFIX}verify-reason"  # short, <= 256 characters
FORCED_TAG = f"{TAG_PREFIX}forced"  # a promotion past a gate with --force: channel and time
REVOKED_TAG = f"{TAG_PREFIX}revoked"  # the reason given to `revoke`
REVOKED_AT_TAG = f"{TAG_PREFIX}revoked-at"
SBOM_TAG = f"{TAG_PREFIX}sbom"  # the SBOM's URI (s3://...) or "run:<run id>"
SBOM_SHA_TAG = f"{TAG_PREFIX}sbom-sha256"
COMPLIANCE_SCORE_TAG = f"{TAG_PREFIX}compliance-score"  # 0-100, one decimal
COMPLIANCE_PROFILE_TAG = f"{TAG_PREFIX}compliance-profile"
COMPLIANCE_CONTENT_TAG = f"{TAG_PREFIX}compliance-content"  # data stream and SSG version
KEEP_TAG = f"{TAG_PREFIX}keep"  # any value: cleanup never deletes this AMI
# On instances packerpy launches itself (not packer): `verify` for the launch test.
PURPOSE_TAG = f"{TAG_PREFIX}purpose"

# Rollouts: an in-flight rollout's state lives on the Auto Scaling groups' tags under this
# prefix (packerpy/rollout/state.py names the keys). Not a `*_TAG`: these go on groups, never
# on AMIs, so they must not lower PACKERPY_TAG_COUNT below.
ROLLOUT_TAG_PREFIX = f"{TAG_PREFIX}rollout:"

# Channels: one SSM parameter per image, channel and region; history labels name the version.
DEFAULT_SSM_PREFIX = "/packerpy"


def channel_parameter(prefix: str, project: str, image: str, channel: str) -> str:
    """`/packerpy/<project>/<image>/<channel>`: the name consumers resolve (resolve:ssm:...)."""
    return f"{prefix.rstrip('/')}/{project}/{image}/{channel}"


def version_label(version: str) -> str:
    """The SSM parameter label of a version: `v1.5.0`. Labels allow letters, digits, '.', '-'
    and '_' (SSM LabelParameterVersion), so SemVer's '+build' becomes '_'."""
    return "v" + version.replace("+", "_")


# Retention: on the snapshots `cleanup --apply` is about to delete, set (value: the project)
# before their AMI is deregistered, so a run killed in between finds and finishes them.
CLEANUP_TAG = f"{TAG_PREFIX}cleanup"
# build (issue 11.4): short digests of the fingerprint's template, assets and variables parts,
# so a rebuild of a published version can say which of them changed.
FINGERPRINT_PARTS_TAG = f"{TAG_PREFIX}fingerprint-parts"


# How many tags packerpy itself puts on a baked AMI, its snapshots and the build instance: every
# `*_TAG` key this module defines, so defining another one lowers the number a user may set (AWS
# allows 50 per resource; config/values.py). Counting them all is the safe side. It stays at the
# end of the module so that it sees every definition.
PACKERPY_TAG_COUNT = len(
    {
        value
        for name, value in dict(globals()).items()
        if name.endswith("_TAG") and isinstance(value, str) and value.startswith(TAG_PREFIX)
    }
)
