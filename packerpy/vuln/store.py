"""Where a version's SBOM lives: the run record, and S3 when `sbom.bucket` is set; the AMI's
`packerpy:sbom` tag (the URI) and `packerpy:sbom-sha256` tag find and check it later.

The SBOM is part of the version: it is written once, by the build that baked the AMI. A build
that reuses an existing AMI keeps the SBOM tags it finds; `publish` copies them with the other
provenance tags and never rewrites them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

from packerpy import naming
from packerpy.aws.clients import AwsClients, translated
from packerpy.config import ImageConfig, Project
from packerpy.errors import PackerpyError
from packerpy.records import RunRecord
from packerpy.render.contract import INVENTORY_NAME
from packerpy.support import atomic
from packerpy.vuln import inventory

SBOM_NAME = "sbom.cdx.json"
RUN_SCHEME = "run:"


class Built(Protocol):
    """What the bake hands over (bake's BuiltImage; vuln may not import bake or steps)."""

    @property
    def image(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def amis(self) -> Mapping[str, str]: ...
    @property
    def config(self) -> ImageConfig: ...
    @property
    def provenance(self) -> Mapping[str, str]: ...
    @property
    def project(self) -> str: ...


B = TypeVar("B", bound=Built)


def s3_key(prefix: str, project: str, image: str, version: str) -> str:
    return f"{prefix}{project}/{image}/{version}.cdx.json"


def _upload(aws: AwsClients, built: Built, text: str, region: str, bucket: str) -> str:
    section = built.config.sbom
    key = s3_key(section.prefix, built.project, built.image, built.version)
    extra: dict[str, Any] = {"ServerSideEncryption": "AES256"}
    if section.kms_key_id:
        extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": section.kms_key_id}
    with translated(f"PutObject s3://{bucket}/{key}", region):
        aws.client("s3", region).put_object(
            Bucket=bucket,
            Key=key,
            Body=text.encode(),
            ContentType="application/vnd.cyclonedx+json",
            **extra,
        )
    return f"s3://{bucket}/{key}"


def record_for_build(built: B, record: RunRecord, aws: AwsClients) -> B:
    """The bake's one call: SBOM from the run's inventory.json into the record (and S3), its
    tags on every AMI of the build and in the provenance the steps copy and converge.

    Unchanged when the build reused a version that has an SBOM, or made no inventory."""
    if naming.SBOM_TAG in built.provenance:
        record.note(sbom=built.provenance[naming.SBOM_TAG])
        return built
    source = record.dir / INVENTORY_NAME
    if not source.exists():
        return built
    # cyclonedx-python-lib costs ~0.2 s to import: only a build that made an inventory pays it.
    from packerpy.vuln import cdx  # noqa: PLC0415 - see above

    subject = cdx.Subject(built.project, built.image, built.version, built.amis, datetime.now(UTC))
    text = cdx.cyclonedx(inventory.load(source), subject)
    atomic.write_text(record.dir / SBOM_NAME, text)
    region = next(iter(built.amis), aws.settings.region)
    bucket = built.config.sbom.bucket
    uri = _upload(aws, built, text, region, bucket) if bucket else RUN_SCHEME + record.dir.name
    tags = {naming.SBOM_TAG: uri, naming.SBOM_SHA_TAG: hashlib.sha256(text.encode()).hexdigest()}
    for where, ami in built.amis.items():
        with translated(f"CreateTags {ami}", where):
            aws.ec2(where).create_tags(
                Resources=[ami], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
            )
    record.note(sbom=uri)
    changed = dataclasses.replace(cast(Any, built), provenance={**built.provenance, **tags})
    return cast(B, changed)


def _read_s3(aws: AwsClients, uri: str, region: str) -> str:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    with translated(f"GetObject {uri}", region):
        body = aws.client("s3", region).get_object(Bucket=bucket, Key=key)["Body"].read()
    return bytes(body).decode()


def read(project: Project, aws: AwsClients, tags: Mapping[str, str], region: str) -> str:
    """The SBOM text the AMI's tags name, checked against its SHA-256 tag."""
    uri = tags.get(naming.SBOM_TAG)
    what = f"{tags.get(naming.IMAGE_TAG, '?')} {tags.get(naming.VERSION_TAG, '?')}"
    if not uri:
        raise PackerpyError(
            f"{what}: no SBOM (tag {naming.SBOM_TAG} missing; add `inventory` to the image's "
            "provisioners and build a new version)"
        )
    if uri.startswith("s3://"):
        text = _read_s3(aws, uri, region)
    elif uri.startswith(RUN_SCHEME):
        path = project.runs_dir() / uri.removeprefix(RUN_SCHEME) / SBOM_NAME
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise PackerpyError(
                f"{what}: SBOM {path} not readable ({exc.strerror or exc}); the run record "
                "stays only where the build ran: set [images.*.sbom] bucket to keep it in S3"
            ) from None
    else:
        raise PackerpyError(f"{what}: tag {naming.SBOM_TAG}={uri!r} is not s3:// or run:")
    expected = tags.get(naming.SBOM_SHA_TAG)
    actual = hashlib.sha256(text.encode()).hexdigest()
    if expected and expected != actual:
        raise PackerpyError(
            f"{what}: SBOM {uri} has SHA-256 {actual}, the AMI's tag says {expected}"
        )
    return text
