"""`packerpy lint`: secret and policy findings over a project, as typed frozen results.

Every rule has an id, a severity and a one-line fix in RULES (lint/model.py).
A finding names the file and line and never carries the value it found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packerpy.errors import PackerMissingError
from packerpy.lint import cache, policy, secrets
from packerpy.lint.model import RULES, Finding, LintResult, Rule
from packerpy.packer import binary

if TYPE_CHECKING:
    from packerpy.config import Project
    from packerpy.packer.binary import PackerInfo

__all__ = ["RULES", "Finding", "LintResult", "Rule", "lint", "run"]


def lint(project: Project, packer: PackerInfo | None) -> LintResult:
    """Secret and policy findings, sorted by file, line and rule; `packer` None skips PPL002.

    Answered from lint/cache.py when nothing lint reads has changed since the last run.
    """
    found = cache.key(project, packer)
    known = cache.load(project, found)
    if known is not None:
        return known
    result = _lint(project, packer)
    cache.store(project, found, result)
    return result


def _lint(project: Project, packer: PackerInfo | None) -> LintResult:
    detections = cache.Detections(project)
    found_secrets, scanned = secrets.scan(
        project, lambda path: detections.detect(path, secrets.detect)
    )
    detections.save()
    found_policy, checked = policy.check(project, packer)
    findings = sorted(
        (*found_secrets, *found_policy),
        key=lambda f: (f.file, -1 if f.line is None else f.line, f.rule),
    )
    return LintResult(findings=tuple(findings), scanned=tuple(sorted({*scanned, *checked})))


def run(project: Project) -> tuple[LintResult, tuple[str, ...]]:
    """Lint with the installed packer, if any; without one only PPL002 goes unchecked (said so)."""
    try:
        info: PackerInfo | None = binary.detect()
    except PackerMissingError as exc:
        return lint(project, None), (f"PPL002 not checked: {exc.message}",)
    return lint(project, info), ()
