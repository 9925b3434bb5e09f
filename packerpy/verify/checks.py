"""verify's policy checks: each a function of one region's facts returning a `CheckResult`.

`POLICY_CHECKS` is the ordered list `verify` runs per region; a further gate (the vulnerability
scan, packerpy.vuln) plugs in as one more entry. A check never calls AWS: `facts.gather` read
everything once, so the checks are pure and tested against hand-built facts and moto estates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from packerpy import naming
from packerpy.verify.facts import Facts, parse_time

# Tags the bake puts on every AMI besides the identity tags (bake/provenance.py tags());
# `packerpy:amazon-plugin` only exists with packer >= 1.7, so it is not required.
PROVENANCE_TAGS = (
    naming.GIT_SHA_TAG,
    naming.GIT_DIRTY_TAG,
    naming.BASE_AMI_TAG,
    naming.BASE_AMI_NAME_TAG,
    naming.FINGERPRINT_TAG,
    naming.PACKER_VERSION_TAG,
    naming.BUILT_AT_TAG,
)
# EC2 keeps deprecation times to the minute (EnableImageDeprecation rounds DeprecateAt), and
# the deprecate step derives every region's time from the first region's CreationDate; 5
# minutes also absorbs a time set by hand with `aws ec2 enable-image-deprecation`.
DEPRECATION_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True)
class CheckResult:
    name: str
    region: str
    ok: bool
    reason: str

    def line(self) -> str:
        return f"{self.region}: {self.name}: {'ok' if self.ok else 'FAIL'}: {self.reason}"


Check = Callable[[Facts], CheckResult]


def available(facts: Facts) -> CheckResult:
    """The AMI exists and is `available` (a pending copy or a failed one cannot launch)."""
    name = "available"
    if facts.ami is None:
        return CheckResult(name, facts.region, False, "no AMI of this version in the region")
    state = str(facts.image.get("State", "unknown"))
    if state != "available":
        return CheckResult(name, facts.region, False, f"{facts.ami} is {state}")
    return CheckResult(name, facts.region, True, f"{facts.ami} is available")


def provenance(facts: Facts) -> CheckResult:
    """Identity tags name this project, image and version; every provenance tag is present."""
    tags = facts.tags
    wrong = [
        f"{key}={tags.get(key)!r} (want {value!r})"
        for key, value in naming.identity_tags(facts.project, facts.name, facts.version).items()
        if tags.get(key) != value
    ]
    missing = [key for key in PROVENANCE_TAGS if not tags.get(key)]
    if wrong or missing:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + wrong
        return CheckResult("provenance", facts.region, False, "; ".join(parts))
    return CheckResult("provenance", facts.region, True, f"{len(PROVENANCE_TAGS) + 3} tags present")


def encryption(facts: Facts) -> CheckResult:
    """Every EBS volume encrypted when `encrypt`, with the region's `kms_key_ids` key if set."""
    name = "encryption"
    if not facts.config.encrypt:
        return CheckResult(name, facts.region, True, "not required (encrypt = false)")
    volumes = [m["Ebs"] for m in facts.image.get("BlockDeviceMappings", []) if "Ebs" in m]
    plain = [str(v.get("SnapshotId", "?")) for v in volumes if not v.get("Encrypted")]
    if plain or not volumes:
        return CheckResult(name, facts.region, False, f"not encrypted: {', '.join(plain) or '?'}")
    want = facts.kms_key_arn
    if want is not None:
        other = sorted({str(v.get("KmsKeyId")) for v in volumes if v.get("KmsKeyId") != want})
        if other:
            return CheckResult(
                name, facts.region, False, f"encrypted with {', '.join(other)}, not {want}"
            )
    return CheckResult(name, facts.region, True, f"encrypted{f' with {want}' if want else ''}")


def public(facts: Facts) -> CheckResult:
    """Not launchable by everyone (Group=all), on the AMI or a snapshot, unless allow_public."""
    shared = [facts.ami or "?"] if ("Group", "all") in facts.launch_permissions else []
    shared += [s for s, perms in facts.snapshot_permissions.items() if ("Group", "all") in perms]
    if shared and not facts.config.allow_public:
        return CheckResult("public", facts.region, False, f"public: {', '.join(shared)}")
    text = "public, allowed (allow_public = true)" if shared else "not public"
    return CheckResult("public", facts.region, True, text)


def launch_permissions(facts: Facts) -> CheckResult:
    """Launch permissions equal config.share exactly: one added or removed by hand fails."""
    share = facts.config.share
    want = {("UserId", a) for a in share.accounts}
    want |= {("OrganizationArn", a) for a in share.org_arns}
    want |= {("OrganizationalUnitArn", a) for a in share.ou_arns}
    if share.public:
        want.add(("Group", "all"))
    return _same("launch-permissions", facts.region, want, set(facts.launch_permissions))


def snapshot_permissions(facts: Facts) -> CheckResult:
    """Create-volume permissions: the accounts when share.snapshots, otherwise nobody."""
    share = facts.config.share
    want = {("UserId", a) for a in share.accounts} if share.snapshots else set()
    for snapshot, have in sorted(facts.snapshot_permissions.items()):
        found = _same("snapshot-permissions", facts.region, want, set(have), snapshot)
        if not found.ok:
            return found
    count = len(facts.snapshot_permissions)
    return CheckResult("snapshot-permissions", facts.region, True, f"{count} snapshot(s) match")


def _same(
    name: str, region: str, want: set[tuple[str, str]], have: set[tuple[str, str]], on: str = ""
) -> CheckResult:
    missing, extra = sorted(want - have), sorted(have - want)
    where = f"{on}: " if on else ""
    if missing or extra:
        parts = [f"missing {_names(missing)}"] if missing else []
        parts += [f"not in the config: {_names(extra)}"] if extra else []
        return CheckResult(name, region, False, where + "; ".join(parts))
    return CheckResult(name, region, True, f"{where}{len(want)} principal(s), as configured")


def _names(items: list[tuple[str, str]]) -> str:
    return ", ".join("everyone (public)" if kind == "Group" else value for kind, value in items)


def kms_grants(facts: Facts) -> CheckResult:
    """With share.grant_kms, each principal may use the region's key (aws/kms.py's findings)."""
    if facts.kms_findings is None:
        return CheckResult("kms-grants", facts.region, True, "not required")
    if facts.kms_findings:
        return CheckResult("kms-grants", facts.region, False, "; ".join(facts.kms_findings))
    return CheckResult("kms-grants", facts.region, True, "every principal may use the key")


def deprecation(facts: Facts) -> CheckResult:
    """DeprecationTime is deprecate_after from the version's creation (within a tolerance)."""
    name, region = "deprecation", facts.region
    have = parse_time(facts.image.get("DeprecationTime"))
    want = facts.deprecate_at
    if want is None:
        if have is None:
            return CheckResult(name, region, True, "none scheduled, none configured")
        return CheckResult(
            name, region, False, f"deprecates at {have:%Y-%m-%dT%H:%MZ}; deprecate_after is unset"
        )
    if have is None:
        return CheckResult(name, region, False, f"not scheduled (want {want:%Y-%m-%dT%H:%MZ})")
    if abs(have - want) > DEPRECATION_TOLERANCE:
        return CheckResult(
            name, region, False, f"at {have:%Y-%m-%dT%H:%MZ}, want {want:%Y-%m-%dT%H:%MZ}"
        )
    return CheckResult(name, region, True, f"at {have:%Y-%m-%dT%H:%MZ}")


def not_revoked(facts: Facts) -> CheckResult:
    reason = facts.tags.get(naming.REVOKED_TAG)
    if reason is not None:
        return CheckResult("not-revoked", facts.region, False, f"revoked: {reason}")
    return CheckResult("not-revoked", facts.region, True, "not revoked")


def compliance(facts: Facts) -> CheckResult:
    """The bake's compliance score tag is at least compliance.min_score, when one is set."""
    section = facts.config.compliance
    if section is None or section.min_score is None:
        return CheckResult("compliance", facts.region, True, "not required")
    raw = facts.tags.get(naming.COMPLIANCE_SCORE_TAG)
    try:
        score = float(raw) if raw is not None else None
    except ValueError:
        score = None
    if score is None:
        shown = "missing" if raw is None else f"not a number: {raw!r}"
        return CheckResult(
            "compliance", facts.region, False, f"{naming.COMPLIANCE_SCORE_TAG} {shown}"
        )
    ok = score >= section.min_score
    relation = ">=" if ok else "<"
    return CheckResult(
        "compliance", facts.region, ok, f"score {score:g} {relation} {section.min_score:g}"
    )


POLICY_CHECKS: tuple[Check, ...] = (
    available,
    provenance,
    encryption,
    public,
    launch_permissions,
    snapshot_permissions,
    kms_grants,
    deprecation,
    not_revoked,
    compliance,
)


def run_checks(facts: Facts, checks: tuple[Check, ...] = POLICY_CHECKS) -> tuple[CheckResult, ...]:
    """Every check of one region; only `available` when there is no usable AMI to inspect."""
    first = available(facts)
    if not first.ok and facts.ami is None:
        return (first,)
    return tuple(check(facts) for check in checks)
