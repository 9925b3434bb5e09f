"""The retention planner: a pure function from an estate and the policies to decisions.

An AMI is kept when any rule holds, and every rule that holds is named: within keep_last
(released versions, newest by SemVer) or keep_prereleases (counted separately), younger than
keep_days, a channel's target or recent history, in use (instance, launch template version,
launch configuration, auto scaling group), shared (unless include_shared), tagged
packerpy:keep, the base of a kept AMI of this project, the only verified-pass version of its
image, or of an image without a retention policy. Everything else is deleted, with the reasons.
Versions are ranked per image across regions, so a version's copies share its fate unless a
region-specific fact (a channel, a use, a share) protects one copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from packerpy import versions
from packerpy.naming import BASE_AMI_TAG, KEEP_TAG, VERIFIED_TAG, VERSION_TAG
from packerpy.retention.model import Ami, Decision, Estate, Key, Policy

DAY_SECONDS = 86400.0


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _ranks(amis: Iterable[Ami]) -> dict[str, tuple[bool, int]]:
    """version -> (prerelease, rank among its kind, 1 = newest); build metadata ignored.

    Each distinct version parsed once and ranked through a dict: 5,000 AMIs planned in 0.3 s
    before (two parses per AMI, semver.Version comparisons, `list.index` per version).
    """
    keys: dict[str, versions.Precedence] = {}
    for ami in amis:
        if ami.version not in keys:
            keys[ami.version] = versions.precedence(ami.version)
    ranked: dict[str, tuple[bool, int]] = {}
    for prerelease in (False, True):
        # A release's key has 1 in its fourth place, a prerelease's 0 (versions.precedence).
        kind = sorted({k for k in keys.values() if (k[3] == 0) is prerelease}, reverse=True)
        rank = {key: n for n, key in enumerate(kind, 1)}
        for version, key in keys.items():
            if key in rank:
                ranked[version] = (prerelease, rank[key])
    return ranked


def _age_days(ami: Ami, now: datetime) -> float | None:
    if ami.created is None:
        return None
    return (now - ami.created).total_seconds() / DAY_SECONDS


def _policy_reasons(
    ami: Ami, policy: Policy, rank: tuple[bool, int], now: datetime
) -> tuple[list[str], list[str]]:
    """(reasons to keep, reasons to delete) from keep_last / keep_prereleases / keep_days."""
    keep: list[str] = []
    delete: list[str] = []
    prerelease, n = rank
    limit, name = (
        (policy.keep_prereleases, "keep_prereleases")
        if prerelease
        else (policy.keep_last, "keep_last")
    )
    kind = "prerelease" if prerelease else "release"
    (keep if n <= limit else delete).append(f"{_ordinal(n)} newest {kind} ({name} = {limit})")
    age = _age_days(ami, now)
    if age is None:
        keep.append("creation date unknown")
    elif age < policy.keep_days:
        keep.append(f"{age:.0f} d old, younger than keep_days = {policy.keep_days}")
    else:
        delete.append(f"{age:.0f} d old (keep_days = {policy.keep_days})")
    return keep, delete


def _facts(ami: Ami, estate: Estate, policy: Policy) -> list[str]:
    """Reasons that protect an AMI whatever its rank and age."""
    found = [*estate.channels.get(ami.key, ()), *estate.used.get(ami.key, ())]
    shares = estate.shared.get(ami.key, ())
    if shares and not policy.include_shared:
        found.extend(shares)
    if KEEP_TAG in ami.tags:
        found.append(f"tagged {KEEP_TAG} = {ami.tags[KEEP_TAG]}")
    return found


def _only_verified(amis: Iterable[Ami]) -> set[tuple[str, str]]:
    """(image, version) of each image's version verified `pass`, when it is the only one.

    Keyed by image: a bare version set let web's only verified 0.0.0 keep db's 0.0.0 too,
    though db had a newer verified version (found by the property test's oracle).
    """
    by_image: dict[str, set[str]] = {}
    for ami in amis:
        if ami.tags.get(VERIFIED_TAG) == "pass":
            by_image.setdefault(ami.image, set()).add(ami.version)
    return {(image, next(iter(vs))) for image, vs in by_image.items() if len(vs) == 1}


def _first_pass(
    estate: Estate, policies: Mapping[str, Policy | None], now: datetime
) -> dict[Key, tuple[list[str], list[str]]]:
    valid = {v: versions.is_version(v) for v in {a.version for a in estate.amis}}
    by_image: dict[str, list[Ami]] = {}
    for ami in estate.amis:
        by_image.setdefault(ami.image, []).append(ami)
    ranks = {image: _ranks(a for a in amis if valid[a.version]) for image, amis in by_image.items()}
    verified = _only_verified(estate.amis)
    reasons: dict[Key, tuple[list[str], list[str]]] = {}
    for ami in estate.amis:
        policy = policies.get(ami.image)
        if policy is None:
            why = "no retention policy" if ami.image in policies else "image not in the config"
            reasons[ami.key] = ([why], [])
            continue
        if not valid[ami.version]:
            reasons[ami.key] = ([f"no valid {VERSION_TAG} tag"], [])
            continue
        keep, delete = _policy_reasons(ami, policy, ranks[ami.image][ami.version], now)
        keep.extend(_facts(ami, estate, policy))
        if (ami.image, ami.version) in verified and ami.tags.get(VERIFIED_TAG) == "pass":
            keep.append("the only verified-pass version")
        reasons[ami.key] = (keep, delete)
    return reasons


def _bases(estate: Estate, kept: set[Key]) -> dict[Key, list[str]]:
    """AMIs that are the base of a kept AMI (same region), transitively, with why."""
    by_key = {a.key: a for a in estate.amis}
    found: dict[Key, list[str]] = {}
    pending = list(kept)
    while pending:
        child = by_key[pending.pop()]
        base = child.tags.get(BASE_AMI_TAG)
        if not base or (child.region, base) not in by_key:
            continue
        key = (child.region, base)
        found.setdefault(key, []).append(f"base of {child.image} {child.version} ({child.ami_id})")
        if key not in kept:
            kept.add(key)
            pending.append(key)
    return found


def decide(
    estate: Estate, policies: Mapping[str, Policy | None], now: datetime
) -> tuple[Decision, ...]:
    """Keep or delete each AMI of the estate, with every reason; in the estate's order.

    `policies` maps each configured image to its policy (None: no retention section); an AMI
    of any other image is kept.
    """
    first = _first_pass(estate, policies, now)
    kept = {key for key, (keep, _) in first.items() if keep}
    bases = _bases(estate, kept)
    decisions = []
    for ami in estate.amis:
        keep, delete = first[ami.key]
        keep = [*keep, *bases.get(ami.key, ())]
        policy = policies.get(ami.image)
        archive = bool(keep) and _archivable(ami, estate, policy, now)
        decisions.append(Decision(ami, bool(keep), tuple(keep or delete), archive))
    return tuple(decisions)


def _archivable(ami: Ami, estate: Estate, policy: Policy | None, now: datetime) -> bool:
    """Old enough for the archive tier, and nothing may launch it without a restore first.

    An archived snapshot must be restored (24-72 h, EBS User Guide, "Archive Amazon EBS
    snapshots") before the AMI launches: a channel, launch template, ASG or share must not
    point at one.
    """
    if policy is None or policy.archive_after_days is None or not ami.snapshots:
        return False
    age = _age_days(ami, now)
    if age is None or age < policy.archive_after_days:
        return False
    protected = estate.channels.get(ami.key) or estate.used.get(ami.key)
    return not protected and not estate.shared.get(ami.key) and KEEP_TAG not in ami.tags
