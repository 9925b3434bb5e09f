"""Match an inventory against indexed OSV advisories; deny-listed licences.

A package is affected when its installed version is listed in an advisory's `versions` or
falls in one of its ECOSYSTEM ranges, evaluated as the OSV schema says (events sorted by
version; `introduced` opens, `fixed` and `last_affected` close), under the distribution's
own version ordering. Debian advisories name source packages (glibc, not libc6), so a
package is looked up under its name and under its source package's.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from packerpy.vuln import osv
from packerpy.vuln.inventory import DISTROS, Inventory, Package
from packerpy.vuln.ordering import Ordering
from packerpy.vuln.severity import RANK


@dataclass(frozen=True)
class Finding:
    advisory: str
    aliases: tuple[str, ...]
    package: str
    installed: str
    fixed: str  # "" when the advisory names no fixed version
    severity: str
    score: float | None
    summary: str = ""


@dataclass(frozen=True)
class LicenceFinding:
    package: str
    version: str
    license: str
    denied: str  # the deny_licenses entry it matched


@dataclass(frozen=True)
class ScanResult:
    inventory: str  # where the inventory came from
    advisories: str  # the advisory data scanned against
    ecosystem: str
    packages: int
    advisory_count: int
    findings: tuple[Finding, ...]
    licences: tuple[LicenceFinding, ...] = ()
    # Said, not silently ignored: no advisories for the image's ecosystem, other ecosystems.
    notes: tuple[str, ...] = ()
    cached: bool = False
    checked: bool = True  # False when the data had no advisory for the image's ecosystem
    counts: dict[str, int] = field(default_factory=dict)

    def reaching(self, threshold: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if RANK[f.severity] >= RANK[threshold])


def _includes(order: Ordering, version: str, events: Sequence[tuple[str, str]]) -> bool:
    """The OSV schema's range evaluation (ossf.github.io/osv-schema, "Evaluation")."""

    def compare(a: tuple[str, str], b: tuple[str, str]) -> int:
        if a[1] == "0" or b[1] == "0":  # "0" is before every version
            return (b[1] == "0") - (a[1] == "0")
        return order.compare(a[1], b[1])

    if len(events) == 2 and events[0] == ("introduced", "0"):
        # The common shape (every DSA): one comparison, no sort.
        kind, at = events[1]
        if kind == "fixed":
            return order.compare(version, at) < 0
        if kind == "last_affected":
            return order.compare(version, at) <= 0
    vulnerable = False
    for kind, at in sorted(events, key=functools.cmp_to_key(compare)):
        if kind == "introduced" and (at == "0" or order.compare(version, at) >= 0):
            vulnerable = True
        elif kind in ("fixed", "last_affected") and order.compare(version, at) >= (
            kind == "last_affected"
        ):
            vulnerable = False  # at or past a fix; past the last affected version
    return vulnerable


def _fixed(order: Ordering, version: str, affects: osv.Affects) -> str:
    fixes = [at for events in affects.events for kind, at in events if kind == "fixed"]
    later = [at for at in fixes if order.compare(at, version) > 0]
    return min(later, key=functools.cmp_to_key(order.compare)) if later else ""


def _matches(
    order: Ordering, index: osv.Index, ecosystems: Sequence[str], package: Package
) -> Iterable[Finding]:
    names = dict.fromkeys(n for n in (package.name, package.source) if n)
    for ecosystem in ecosystems:
        for name in names:
            for row in index.by_package.get((ecosystem, name), ()):
                affects = osv.Affects._make(row)
                listed = package.version in affects.versions
                if not listed and not any(
                    _includes(order, package.version, events) for events in affects.events
                ):
                    continue
                advisory = osv.Advisory._make(index.advisories[affects.advisory])
                yield Finding(
                    advisory=advisory.id,
                    aliases=advisory.aliases,
                    package=package.name,
                    installed=package.version,
                    fixed=_fixed(order, package.version, affects),
                    severity=advisory.severity,
                    score=advisory.score,
                    summary=advisory.summary,
                )


def _ecosystem_notes(index: osv.Index, wanted: str, used: Sequence[str]) -> list[str]:
    known = tuple(d.osv for d in DISTROS.values() if d.osv)
    other = sorted(e for e in index.ecosystems if e.split(":")[0] not in known)
    notes = []
    if not used:
        present = ", ".join(sorted(index.ecosystems)) or "none"
        notes.append(
            f"{index.source}: no advisories for {wanted} (ecosystems present: {present}); "
            "nothing was checked"
        )
    if other:
        shown = ", ".join(f"{e or '(empty)'} ({index.ecosystems[e]})" for e in other[:5])
        notes.append(f"{index.source}: ecosystems packerpy does not scan were skipped: {shown}")
    return notes


_TOKEN = re.compile(r"[^\s()]+")


def licences(inventory: Inventory, denied: Sequence[str]) -> tuple[LicenceFinding, ...]:
    """Packages whose declared licence (an SPDX id or expression) names a denied SPDX id."""
    wanted = {d.lower(): d for d in denied}
    found = []
    for package in inventory.packages:
        ids = {t.lower() for t in _TOKEN.findall(package.license)} - {"and", "or", "with"}
        for hit in sorted(ids & set(wanted)):
            found.append(
                LicenceFinding(package.name, package.version, package.license, wanted[hit])
            )
    return tuple(found)


def scan(inventory: Inventory, index: osv.Index, deny_licenses: Sequence[str] = ()) -> ScanResult:
    """Every advisory that affects an installed package, worst first."""
    wanted = inventory.ecosystem()
    # ecosystem() refused distributions packerpy does not know, so the family is known.
    family = inventory.family or "deb"
    # "Ubuntu:22.04" also matches OSV's "Ubuntu:22.04:LTS" and "Ubuntu:Pro:22.04:LTS" is not it.
    used = [e for e in index.ecosystems if e == wanted or e.startswith(f"{wanted}:")]
    order = Ordering(family)
    findings = {
        (f.advisory, f.package): f
        for package in inventory.packages
        for f in _matches(order, index, used, package)
    }
    ranked = sorted(
        findings.values(), key=lambda f: (-RANK[f.severity], -(f.score or 0), f.package, f.advisory)
    )
    counts = {name: sum(f.severity == name for f in ranked) for name in RANK}
    return ScanResult(
        inventory=inventory.where,
        advisories=index.source,
        ecosystem=wanted,
        packages=len(inventory.packages),
        advisory_count=len(index.advisories),
        findings=tuple(ranked),
        licences=licences(inventory, deny_licenses),
        notes=tuple(_ecosystem_notes(index, wanted, used)),
        cached=index.cached,
        checked=bool(used),
        counts=counts,
    )
