"""`packerpy lint`: secret and policy findings over a project, as typed frozen results.

Every rule has an id, a severity and a one-line fix in RULES (lint/model.py).
A finding names the file and line and never carries the value it found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packerpy.lint import policy, secrets
from packerpy.lint.model import RULES, Finding, LintResult, Rule

if TYPE_CHECKING:
    from packerpy.config import Project
    from packerpy.packer.binary import PackerInfo

__all__ = ["RULES", "Finding", "LintResult", "Rule", "lint"]


def lint(project: Project, packer: PackerInfo | None) -> LintResult:
    """Secret and policy findings, sorted by file, line and rule; `packer` None skips PPL002."""
    found_secrets, scanned = secrets.scan(project)
    found_policy, checked = policy.check(project, packer)
    findings = sorted(
        (*found_secrets, *found_policy),
        key=lambda f: (f.file, -1 if f.line is None else f.line, f.rule),
    )
    return LintResult(findings=tuple(findings), scanned=tuple(sorted({*scanned, *checked})))
