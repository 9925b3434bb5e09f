"""The gates before a bake: the configured secrets are in the environment (and long enough to
redact), and `lint` finds no error."""

from __future__ import annotations

import os
from collections.abc import Mapping

from packerpy.config import Project
from packerpy.errors import ConfigError, PolicyError
from packerpy.packer.binary import PackerInfo
from packerpy.packer.redact import MIN_SECRET_LENGTH, too_short


def read_secrets(project: Project, name: str, environ: Mapping[str, str] | None) -> dict[str, str]:
    """Each configured secret from the environment (HCL name -> value); missing is an error."""
    env = os.environ if environ is None else environ
    values = {}
    for index, secret in enumerate(project.image(name).secrets):
        if secret not in env:
            raise ConfigError(
                f"{project.label}: images.{name}.secrets[{index}]: environment variable "
                f"{secret!r} is not set (secrets are read from the environment, never from files)"
            )
        if too_short(env[secret]):
            # Every occurrence of a short value is redacted, timestamps and words included:
            # `a` made packer.log unreadable and turned exit 6 into 4 (reliability review 3.4).
            raise ConfigError(
                f"{project.label}: images.{name}.secrets[{index}]: environment variable "
                f"{secret!r} is shorter than {MIN_SECRET_LENGTH} characters (surrounding "
                "whitespace aside): too short to redact from packer's output"
            )
        values[secret.lower()] = env[secret]
    return values


def lint_gate(project: Project, info: PackerInfo) -> dict[str, int]:
    """`packerpy lint` before any bake: an error-level finding stops the build (fail closed)."""
    from packerpy import lint  # noqa: PLC0415 - detect-secrets is imported only to lint

    result = lint.lint(project, info)
    errors = [f for f in result.findings if f.severity == "error"]
    if errors:
        first = errors[0]
        where = f"{first.file}:{first.line}" if first.line is not None else first.file
        raise PolicyError(
            f"lint: {len(errors)} error(s), first {where}: {first.rule} {first.message}; "
            "run `packerpy lint` for all of them"
        )
    return {"errors": 0, "warnings": result.warnings, "files": len(result.scanned)}
