"""The scan as a gate: `verify` (and through it promotion) fails a version whose SBOM has
findings at `scan.fail_on` or above, or a package under a denied licence.

A gate that checked nothing does not pass: a version without an SBOM, or advisory data
without the image's ecosystem, fails with a reason saying so.
"""

from __future__ import annotations

from collections.abc import Mapping

from packerpy.aws.clients import AwsClients
from packerpy.config import Project
from packerpy.errors import PackerpyError
from packerpy.vuln import inventory, osv, store
from packerpy.vuln.scan import Finding, ScanResult, scan

REASON_MAX = 256  # naming.VERIFY_REASON_TAG: short, <= 256 characters


def _short(text: str) -> str:
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 3] + "..."


def evaluate(result: ScanResult, fail_on: str, *, deny_licenses: bool = True) -> tuple[bool, str]:
    """(ok, one-line reason) of a scan under a threshold."""
    if not result.checked:
        return False, _short(f"scan: nothing checked: no advisories for {result.ecosystem}")
    hits = result.reaching(fail_on)
    licences = result.licences if deny_licenses else ()
    if not hits and not licences:
        below = len(result.findings)
        return True, f"scan: no findings at or above {fail_on} ({below} below)"
    parts = []
    if hits:
        shown = ", ".join(f"{f.advisory} {f.package} {f.installed}" for f in hits[:3])
        parts.append(f"{len(hits)} finding(s) at or above {fail_on} ({shown})")
    if licences:
        shown = ", ".join(f"{f.package} {f.denied}" for f in licences[:3])
        parts.append(f"{len(licences)} package(s) under denied licences ({shown})")
    return False, _short("scan: " + "; ".join(parts))


def check(
    project: Project, aws: AwsClients, name: str, tags: Mapping[str, str], region: str
) -> tuple[bool, str, tuple[Finding, ...]]:
    """The gate for one published version of image `name`, given its AMI's tags (in `region`).

    Uses the image's `scan` section: no `scan.advisories` -> passes ("no scan configured").
    Fails when the version has no SBOM, the advisories lack its ecosystem, a finding reaches
    `scan.fail_on`, or a package's licence is in `scan.deny_licenses`. Bad advisory data or
    a bad SBOM fail it too, with the one-line error as the reason. Never raises PackerpyError.
    """
    section = project.image(name).scan
    if section.advisories is None:
        return True, "scan: not configured (scan.advisories unset)", ()
    try:
        text = store.read(project, aws, tags, region)
        found = inventory.parse_text(text, tags.get("packerpy:sbom", "SBOM"))
        index = osv.load(project.root / section.advisories)
        result = scan(found, index, section.deny_licenses)
    except PackerpyError as exc:
        return False, _short(f"scan: {exc.message}"), ()
    ok, reason = evaluate(result, section.fail_on)
    return ok, reason, result.findings
