"""Carrying out a `Bake` plan: the files into the run directory, packer init, packer build.

The run directory then holds exactly what ran (template, var file, scripts, packer's log and
manifest), and the manifest names this run's AMIs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from packerpy import records
from packerpy.bake.inputs import UserVars
from packerpy.bake.plan import Bake, Target
from packerpy.errors import ConfigError, ManifestError
from packerpy.packer import binary as packer
from packerpy.packer import interactive, manifest
from packerpy.packer.events import Event
from packerpy.render import jinja as render
from packerpy.steps.protocol import BuiltImage


def prepare(info: packer.PackerInfo, plan: Bake, run_dir: Path) -> render.RenderedFiles:
    """Write the plan's files into the run directory and install packer's plugins."""
    files = render.write(plan.rendered, run_dir)
    # No separate `packer validate`: packer build validates the whole template before it
    # launches anything, and reports a rejection as a template error.
    packer.init(info, files.template)
    return files


def copy_var_files(user: UserVars, run_dir: Path) -> tuple[Path, ...]:
    """The user's --var-file contents as read (and fingerprinted), kept in the run directory:
    `user-1-prod.pkrvars.hcl`, ... keep packer's suffix rule (.json is JSON, else HCL)."""
    copies = []
    for index, (path, data) in enumerate(user.files, start=1):
        copy = run_dir / f"user-{index}-{path.name}"
        copy.write_bytes(data)
        copies.append(copy)
    return tuple(copies)


def run_packer(  # noqa: PLR0913 - keyword-only, each an independent input of one packer run
    info: packer.PackerInfo,
    files: render.RenderedFiles,
    *,
    on_event: Callable[[Event], None],
    timeout: float | None,
    secrets: Mapping[str, str],
    on_start: Callable[[int], None] | None = None,
    flags: packer.BuildFlags | None = None,
    endpoint: str | None = None,
) -> None:
    """Run packer build (attached to the terminal when it will ask the user something).

    `on_start` receives packer's pid (the run record's live.json keeps it for the reaper)."""
    flags = flags or packer.BuildFlags()
    manifest_path(files).unlink(missing_ok=True)  # a stale manifest must not pass for this run's
    log_path = files.template.parent / records.LOG_NAME
    if flags.interactive:
        interactive.build(
            info,
            files.template,
            files.var_file,
            flags=flags,
            log_path=log_path,
            secrets=secrets,
            endpoint=endpoint,
        )
        return
    packer.build(
        info,
        files.template,
        files.var_file,
        log_path=log_path,
        on_event=on_event,
        timeout=timeout,
        secrets=secrets,
        on_start=on_start,
        flags=flags,
        endpoint=endpoint,
    )


def manifest_path(files: render.RenderedFiles) -> Path:
    return files.template.parent / manifest.MANIFEST_NAME


def read_amis(
    files: render.RenderedFiles, flags: packer.BuildFlags | None = None
) -> dict[str, str]:
    """This run's region -> AMI, from packer's manifest."""
    path = manifest_path(files)
    try:
        artifacts = manifest.read(path)
    except ManifestError:
        if flags is not None and (flags.only or flags.exclude) and not path.exists():
            raise _nothing_selected(files.template, flags) from None
        raise
    if len(artifacts) != 1:
        raise ManifestError(f"{path}: expected one artifact, got {len(artifacts)}")
    return artifacts[0].amis


def _nothing_selected(template: Path, flags: packer.BuildFlags) -> ConfigError:
    """packer 1.6 exits 0 when -only/-except leave no build; say so instead of 'no manifest'."""
    asked = [f"--only {','.join(flags.only)}"] if flags.only else []
    asked += [f"--except {','.join(flags.exclude)}"] if flags.exclude else []
    builds = ", ".join(build_names(template)) or "none"
    return ConfigError(
        f"{' '.join(asked)}: packer built nothing, no build of {template.name} was selected "
        f"(its builds: {builds})"
    )


def build_names(template: Path) -> list[str]:
    """The template's builds as -only/-except name them: `BUILD.TYPE.SOURCE`."""
    parsed = render.check_hcl(template.read_text(encoding="utf-8"), str(template))
    names = []
    for block in parsed.get("build", []):
        prefix = str(block.get("name", "")).strip('"')
        for source in block.get("sources", []):
            name = str(source).strip('"').removeprefix("source.")
            names.append(f"{prefix}.{name}" if prefix else name)
    return names


def baked_image(target: Target, tags: Mapping[str, str], amis: Mapping[str, str]) -> BuiltImage:
    """What packer made (with its provenance `tags`), as the steps' input."""
    return BuiltImage(
        image=target.name,
        version=target.image.version,
        amis=dict(amis),
        config=target.image,
        provenance=dict(tags),
        regions=target.regions,
        project=target.project.config.project.name,
    )


def check_flags(info: packer.PackerInfo, flags: packer.BuildFlags) -> None:
    """Refuse a pass-through option this packer does not have, before a run directory exists."""
    if flags.on_error is not None and not info.supports_on_error(flags.on_error):
        raise ConfigError(
            f"--on-error {flags.on_error}: packer {info.version_text} has no -on-error "
            f"(packer >= {'.'.join(map(str, packer.ON_ERROR_SINCE))} does)"
        )
