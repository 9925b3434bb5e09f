"""Lint's vocabulary: rules with ids, findings, and the result of a run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from packerpy.config import Project

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    checks: str  # what the rule looks for, one line
    fix: str  # the default one-line fix of its findings


RULES: tuple[Rule, ...] = (
    Rule(
        "PPS001",
        "error",
        "a possible secret (detect-secrets) in packerpy.toml, a project template, "
        "a provisioner script or a *.pkrvars.hcl/json file",
        "remove and rotate it; if it is no secret, list it in .secrets.baseline "
        "(detect-secrets scan > .secrets.baseline) or add `# pragma: allowlist secret`",
    ),
    Rule(
        "PPL001",
        "error",
        "an image's AMI is not encrypted",
        "set encrypt = true (and kms_key_ids to share it)",
    ),
    Rule(
        "PPL002",
        "warning",
        "IMDSv2 cannot be required: packer is older than 1.7",
        "upgrade packer to 1.7 or newer, whose amazon plugin supports metadata_options",
    ),
    Rule(
        "PPL003",
        "warning",
        "an AMI is public (share.public: launch permission for Group=all)",
        "set share.public = false unless everyone is meant to launch it",
    ),
    Rule(
        "PPL004",
        "error",
        "a base filter owner is a wildcard: anyone could publish a matching AMI",
        "list the owning account ids (or amazon, self) in base.filter.owners",
    ),
    Rule(
        "PPL005",
        "error",
        "an image lacks a tag listed in project.required_tags",
        "add the tag to the image's tags",
    ),
    Rule(
        "PPL006",
        "error",
        "a secret-looking variable (password, token, api_key, ...) is set in packerpy.toml",
        "list its environment variable in the image's `secrets = [...]` instead of packerpy.toml",
    ),
    Rule(
        "PPL007",
        "error",
        "a provisioner script an image uses fails shellcheck (level error or warning)",
        "fix the script (https://www.shellcheck.net/wiki/SCxxxx explains each code)",
    ),
    Rule(
        "PPL008",
        "warning",
        "base.filter.most_recent is false: the build fails once the filter matches two AMIs",
        "set most_recent = true, or pin base.ami",
    ),
    Rule(
        "PPL009",
        "warning",
        "build_env.require_imdsv2 is false: the build instance and AMI accept IMDSv1",
        "set build_env.require_imdsv2 = true",
    ),
    Rule(
        "PPL010",
        "error",
        "build_env.ssh_cidrs contains 0.0.0.0/0 or ::/0",
        "list only the networks packer connects from (e.g. your CI's CIDR)",
    ),
    Rule(
        "PPL011",
        "warning",
        "an SSH build without build_env.ssh_cidrs: packer opens port 22 to 0.0.0.0/0",
        "set build_env.ssh_cidrs to the networks packer connects from",
    ),
)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in RULES}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    file: str  # relative to the project root (absolute for a built-in provisioner)
    line: int | None
    message: str  # one line; never contains the secret value it is about
    fix: str


def finding(
    rule: str, file: str, line: int | None, message: str, fix: str | None = None
) -> Finding:
    """A finding with its rule's severity and, unless given, its rule's fix."""
    known = RULES_BY_ID[rule]
    return Finding(rule, known.severity, file, line, message, fix or known.fix)


@dataclass(frozen=True)
class LintResult:
    findings: tuple[Finding, ...]
    scanned: tuple[str, ...]

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")


def relative(project: Project, path: Path) -> str:
    """How findings name a file: relative to the project root, else (a built-in) absolute."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(project.root.resolve()).as_posix()
    except ValueError:
        return str(resolved)
