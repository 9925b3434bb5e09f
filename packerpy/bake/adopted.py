"""Building an adopted template directory: the user's files, unchanged, run by packer.

The directory is copied into the run directory (so the run record holds exactly what ran) and
packer runs inside the copy, as its authors run it. packerpy's values reach the template only
through variables it declares (README, Adopting): the AMI name, version, tags, build region and
endpoint, in a var file of their own. The AMIs come from packer's machine-readable `artifact`
lines, so a template needs no manifest post-processor (its own, if any, still runs).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packerpy import naming, records
from packerpy.adopt import checks, template
from packerpy.aws.settings import AwsSettings
from packerpy.bake import plan, provenance
from packerpy.config import Project, image_regions
from packerpy.errors import ConfigError, ManifestError, VersionExistsError
from packerpy.estate import catalog
from packerpy.packer import binary as packer
from packerpy.packer import manifest
from packerpy.packer.events import ArtifactEvent, Event
from packerpy.render import hcl
from packerpy.support import atomic, oserrors

COPY_NAME = "template"
VAR_FILE_NAME = "packerpy.pkrvars.hcl"


@dataclass(frozen=True)
class AdoptedBake:
    """Run packer on the user's directory with packerpy's values for its declared variables."""

    directory: Path
    values: Mapping[str, object]  # declared variable -> value
    only: tuple[str, ...]
    tags: Mapping[str, str]
    fingerprint: str
    base_ami: str


def values(
    project: Project,
    name: str,
    settings: AwsSettings,
    roles: Mapping[str, str],
    provenance_tags: Mapping[str, str],
) -> dict[str, object]:
    """Declared variable -> packerpy's value for it (README, Adopting: the variables contract)."""
    image = project.image(name)
    regions = image_regions(image, settings.region)
    by_role: dict[str, object] = {
        "ami_name": naming.ami_name(image.ami_name_pattern, name, image.version),
        "image_version": image.version,
        "tags": {
            **image.tags,
            **naming.identity_tags(project.config.project.name, name, image.version),
            **provenance_tags,
        },
        "region": regions[0],
        "aws_endpoint": settings.endpoint_url or "",
    }
    return {variable: by_role[role] for role, variable in roles.items()}


def read_checked(
    project: Project, name: str, settings: AwsSettings
) -> tuple[template.TemplateDir, dict[str, str]]:
    """The image's template directory and its role variables; refused under an endpoint the
    template does not route to."""
    image = project.image(name)
    where = f"{project.label}: images.{name}"
    found = template.read(project.root / str(image.template_dir))
    if found.unsupported:
        raise ConfigError(f"{where}.template_dir: {found.unsupported[0]}")
    roles = found.role_variables(image.adopt.vars)
    missing = sorted(v for v in image.adopt.vars if v not in found.variables)
    if missing:
        raise ConfigError(
            f"{where}.adopt.vars: {missing[0]!r} is not a variable the template declares"
        )
    problems = checks.endpoint_problems(found, roles, settings.endpoint_url, image.adopt.only)
    if problems:
        # Under an endpoint a template that ignores it would bake in real AWS (ux review 6).
        raise ConfigError(f"{where}: refused under an endpoint: {problems[0]}")
    return found, roles


def validate(info: packer.PackerInfo, project: Project, name: str, settings: AwsSettings) -> None:
    """`packer validate` of the directory as packerpy would run it (a copy, its var file)."""
    found, roles = read_checked(project, name, settings)
    with tempfile.TemporaryDirectory(prefix="packerpy-validate-") as tmp:
        copy, var_file = stage(found.path, Path(tmp), values(project, name, settings, roles, {}))
        packer.validate(info, copy, var_file, cwd=copy)


def stage(directory: Path, run_dir: Path, declared: Mapping[str, object]) -> tuple[Path, Path]:
    """The directory copied into run_dir, and the var file of packerpy's values beside it."""
    copy = run_dir / COPY_NAME
    try:
        shutil.copytree(directory, copy, symlinks=True, dirs_exist_ok=True)
    except OSError as exc:
        raise oserrors.error(exc, "copy the template directory", copy) from None
    var_file = run_dir / VAR_FILE_NAME
    atomic.write_text(var_file, str(hcl.attributes(declared, indent=0)) + "\n")
    return copy, var_file


def _fingerprint(target: plan.Target, found: template.TemplateDir, base_ami: str) -> str:
    """The directory's files, the image's variables, base and packer: not the version, name or
    endpoint, which only name the image or say where it is built."""
    files = sorted(p for p in found.path.rglob("*") if p.is_file())
    return provenance.fingerprint(
        template="",
        assets={p.relative_to(found.path).as_posix(): p.read_bytes() for p in files},
        variables={"variables": target.image.variables, "only": list(target.image.adopt.only)},
        base_ami=base_ami,
        packer_version=target.info.version_text,
    )


def decide(
    target: plan.Target,
    found: plan.Found,
    *,
    git: Callable[[], provenance.GitState],
    force_bake: bool = False,
    choice: plan.Choice | None = None,
) -> plan.Reuse | AdoptedBake:
    """As plan.decide, for a template directory: the same version rules, else bake."""
    choice = choice or plan.Choice(force_bake=force_bake)
    directory, roles = read_checked(target.project, target.name, target.settings)
    fp = _fingerprint(target, directory, found.base.id)

    def rebuilt(existing: catalog.Published) -> str:
        where, ami = next(iter(existing.amis.items()))
        if existing.fingerprint == fp:
            return (
                f"{target.name} {existing.version} is already published from the same "
                f"inputs ({ami} in {where}); nothing to bake"
            )
        raise VersionExistsError(
            f"{target.project.label}: images.{target.name}.version: {existing.version} is "
            f"already published ({ami} in {where}) and its template directory or variables "
            f"changed; versions are immutable: packerpy version bump {target.name} patch"
        )

    reuse = plan.reuse_of(target, found, fp, choice, rebuilt=rebuilt)
    if reuse is not None:
        return reuse
    tags = provenance.tags(
        git=git(),
        base_ami=found.base.id,
        base_ami_name=found.base.name,
        fingerprint=fp,
        packer_version=target.info.version_text,
        built_at=target.started.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    return AdoptedBake(
        directory=directory.path,
        values=values(target.project, target.name, target.settings, roles, tags),
        only=target.image.adopt.only,
        tags=tags,
        fingerprint=fp,
        base_ami=found.base.id,
    )


def _amis(artifact_id: str) -> dict[str, str]:
    """region -> AMI of an amazon artifact; {} for a post-processor's (shell-local, manifest)."""
    try:
        return manifest.parse_artifact_id(artifact_id)
    except ValueError:
        return {}


@dataclass
class _Artifacts:
    ids: dict[int, str] = field(default_factory=dict)

    def __call__(self, event: Event) -> None:
        if isinstance(event, ArtifactEvent) and event.key == "id" and event.values:
            self.ids[event.index] = event.values[0]


def run(
    info: packer.PackerInfo,
    chosen: AdoptedBake,
    run_dir: Path,
    *,
    on_event: Callable[[Event], None],
    timeout: float | None,
    on_start: Callable[[int], None] | None = None,
    endpoint: str | None = None,
) -> dict[str, str]:
    """Copy, run packer inside the copy, and return region -> AMI of the one artifact."""
    copy, var_file = stage(chosen.directory, run_dir, chosen.values)
    packer.init(info, copy)
    artifacts = _Artifacts()

    def both(event: Event) -> None:
        artifacts(event)
        on_event(event)

    packer.build(
        info,
        copy,
        var_file,
        log_path=run_dir / records.LOG_NAME,
        on_event=both,
        timeout=timeout,
        on_start=on_start,
        flags=packer.BuildFlags(only=chosen.only),
        cwd=copy,
        endpoint=endpoint,
    )
    # A post-processor that passes the AMI on (manifest, shell-local) reports it again as an
    # artifact of its own: one AMI set is one artifact, however many times it is listed.
    unique = {
        frozenset(a.items()): a for _, ids in sorted(artifacts.ids.items()) if (a := _amis(ids))
    }
    amis = list(unique.values())
    if not amis and chosen.only:
        raise ManifestError(
            f"{copy}: packer built nothing: -only {', '.join(chosen.only)} matched no build "
            "(names are SOURCE_TYPE.NAME, or BUILD_NAME.SOURCE_TYPE.NAME in a named build)"
        )
    if len(amis) != 1:
        raise ManifestError(
            f"{copy}: packer made {len(amis)} AMI artifact(s); packerpy versions one per image: "
            "set adopt.only to one source (packer's -only)"
        )
    return amis[0]
