"""`packerpy post-process`: what `build` does after a bake, for a bake packer ran itself.

Teams that call `packer build` themselves add a shell-local post-processor after packer's
manifest post-processor:

    post-processor "shell-local" {
      inline = ["packerpy post-process --image legacy --manifest manifest.json"]
    }

The AMI named by the manifest's last run becomes the configured version of the image: the
same steps as `build` (copy, share, tag with identity and provenance, deprecate) run on it. A
re-run converges; a version already published as another AMI is refused (versions are
immutable), exactly as `build` refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from packerpy import naming
from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.operation import Mode
from packerpy.aws.settings import AwsSettings
from packerpy.config import Project, image_regions
from packerpy.errors import ManifestError, VersionExistsError
from packerpy.estate import catalog
from packerpy.packer import manifest
from packerpy.release.publish import PublishResult, converge
from packerpy.steps import protocol as steps
from packerpy.steps import registry

# packer sets these for a shell-local post-processor (packer docs, shell-local).
BUILD_NAME_ENV = "PACKER_BUILD_NAME"


def _artifact(path: Path, environ: Mapping[str, str]) -> manifest.Artifact:
    found = manifest.read(path)
    build = environ.get(BUILD_NAME_ENV)
    if build:
        # The manifest names a build "SOURCE" or "BUILD.SOURCE"'s last part; packer's env has
        # the same name (packer 1.6: "amazon-ebs.web" -> "web" in the manifest).
        mine = [a for a in found if a.name in (build, build.rsplit(".", 1)[-1])]
        found = tuple(mine) or found
    if len(found) != 1:
        names = ", ".join(a.name for a in found)
        raise ManifestError(
            f"{path}: {len(found)} artifacts in the last run ({names}); run post-process from "
            f"each build's own post-processor (packer sets {BUILD_NAME_ENV})"
        )
    return found[0]


def _created(aws: AwsClients, artifact: manifest.Artifact) -> str:
    region, ami = next(iter(artifact.amis.items()))
    with translated(f"describe {ami}", region):
        found = aws.ec2(region).describe_images(ImageIds=[ami])["Images"]
    if not found:
        raise ManifestError(f"{ami} in {region}: the manifest names an AMI that does not exist")
    stamp = str(found[0].get("CreationDate", ""))
    return stamp[:19] + "Z" if stamp else datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def post_process(
    project: Project,
    settings: AwsSettings,
    name: str,
    manifest_path: Path,
    environ: Mapping[str, str],
    mode: Mode | None = None,
) -> PublishResult:
    image = project.image(name)
    planned = registry.resolve(image.steps, where=f"{project.label}: images.{name}.steps")
    artifact = _artifact(manifest_path, environ)
    aws = AwsClients(settings)
    regions = image_regions(image, settings.region)
    owner = project.config.project.name
    for published in catalog.published(aws, name, regions, project=owner):
        if not catalog.same_version(published.version, image.version):
            continue
        if set(published.amis.values()) & set(artifact.amis.values()):
            break  # this very AMI: a re-run, which converges
        where, ami = next(iter(published.amis.items()))
        raise VersionExistsError(
            f"{project.label}: images.{name}.version: {image.version} is already published "
            f"({ami} in {where}); versions are immutable: packerpy version bump {name} patch"
        )
    built = steps.BuiltImage(
        image=name,
        version=image.version,
        amis=dict(artifact.amis),
        config=image,
        # The AMI's own creation time, so a re-run writes the same tag (and converges).
        provenance={naming.BUILT_AT_TAG: _created(aws, artifact)},
        regions=regions,
        project=owner,
    )
    return converge(aws, built, planned, mode or Mode())
