"""`packer build -debug` (or `-on-error=ask`): packer talks to the user, so it gets the terminal.

packer pauses before each step and waits for Enter; with -on-error=ask it asks what to do on a
failure. Neither works behind packerpy's progress or with stdin closed, so packer runs attached,
with its human-readable output going straight to the terminal: packerpy cannot parse or redact
those lines, and packer.log says so instead of holding them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from packerpy.errors import InterruptedByUser, PackerError, PackerMissingError
from packerpy.packer.binary import INSTALL_HINT, BuildFlags, PackerInfo, build_command, environment
from packerpy.packer.run import secret_environment
from packerpy.support import proc


def build(
    info: PackerInfo,
    template: Path,
    var_file: Path,
    *,
    flags: BuildFlags,
    log_path: Path,
    secrets: Mapping[str, str] | None = None,
    endpoint: str | None = None,
) -> None:
    """Run packer attached to the terminal; a non-zero exit is a PackerError. `endpoint`
    confines packer to it, as for every bake (binary.environment)."""
    command = build_command(info, template, var_file, flags=flags)
    log_path.write_text(
        "packerpy: interactive run (-debug or -on-error=ask): packer's output went to the "
        "terminal and is not kept here\n",
        encoding="utf-8",
    )
    try:
        code = proc.attached(
            command,
            cwd=template.parent,
            env=environment(extra=secret_environment(secrets or {}), confine_to=endpoint),
        )
    except proc.ToolMissing:
        raise PackerMissingError(f"packer: {info.binary} cannot be run; {INSTALL_HINT}") from None
    except KeyboardInterrupt:
        raise InterruptedByUser(
            "interrupted: packer was cancelled at the terminal", command=command
        ) from None
    if code != 0:
        raise PackerError(
            f"packer build failed (exit {code}); its output is above",
            command=command,
            returncode=code,
        )
