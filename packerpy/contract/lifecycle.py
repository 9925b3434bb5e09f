"""`data` of the release lifecycle's commands: verify, report, adopt, ..."""

from __future__ import annotations

from typing import Any

from packerpy.contract.base import Data


class ReportAmiData(Data):
    region: str
    ami: str
    state: str
    public: bool
    size_gib: int


class ReportVersionData(Data):
    version: str
    created: str
    age_days: int
    amis: list[ReportAmiData]
    channels: list[str]
    verified: str
    verify_reason: str
    revoked: str
    compliance_score: str
    vulnerabilities: int | None
    shared_with: int
    cleanup: str
    cleanup_reasons: list[str]


class ReportEventData(Data):
    channel: str
    version: str
    at: str


class ReportImageData(Data):
    name: str
    regions: list[str]
    channels: list[str]
    versions: list[ReportVersionData]
    promotions: list[ReportEventData]
    current: dict[str, dict[str, str]]


class ReportCleanupData(Data):
    amis: int
    snapshots: int
    gib: int
    monthly_usd: float
    prices_as_of: str


class ReportData(Data):
    project: str
    generated: str
    images: list[ReportImageData]
    cleanup: ReportCleanupData | None
    problems: list[str]
    html: str | None  # the page written, when --html was given


class AdoptData(Data):
    image: str
    template_dir: str
    files: list[str]
    sources: list[str]
    builds: list[str]
    roles: dict[str, str]  # packerpy's value -> the template variable that receives it
    notes: list[str]
    entry: str  # the TOML appended to packerpy.toml
    written: bool


# `verify` (issue 12): the policy checks, the launch test and the verdict tagged on the AMI.
class VerifyCheckData(Data):
    name: str
    region: str
    ok: bool
    reason: str


class VerifyData(Data):
    image: str
    version: str
    amis: dict[str, str]
    verdict: str  # pass or fail (a dry run: what it would tag)
    reason: str
    dry_run: bool
    checks: list[VerifyCheckData]
    # The launch test: what it does (a dry run) or did, the instance, the scripts' last lines.
    launch_plan: list[str]
    instance: str | None
    output: list[str]
    # The verdict tags and the lines of the CreateTags per region (planned in a dry run).
    tags: dict[str, str]
    actions: list[str]
    run_dir: str
    seconds: float
    calls: int
    mutating: list[tuple[str, str]]


# --- cleanup (retention) ---------------------------------------------------------------------
class CleanupAmiData(Data):
    region: str
    ami_id: str
    image: str
    version: str
    created: str | None
    age_days: int | None
    snapshots: list[str]
    gib: int  # the volumes' sizes: an upper bound of the snapshots' billed size
    decision: str  # keep, archive (kept, snapshots to the archive tier) or delete
    # Every rule that applies: to keep when kept, to delete otherwise.
    reasons: list[str]


class CleanupCostData(Data):
    region: str  # or "total"
    amis: int
    snapshots: int
    gib: int
    monthly_saving: float  # USD per month at snapshot_gib_month
    archive_snapshots: int
    archive_gib: int
    archive_monthly_saving: float  # USD per month at the standard - archive price


class CleanupData(Data):
    dry_run: bool
    regions: list[str]
    amis: list[CleanupAmiData]
    # Every planned line ("us-east-1: delete ami-1, snap-1 (web 1.0.0, 8 GiB: ...)").
    actions: list[str]
    # What apply found protected at the moment it would have acted, with why.
    skipped: list[str]
    costs: list[CleanupCostData]
    total: CleanupCostData
    snapshot_gib_month: float
    archive_gib_month: float
    prices_as_of: str
    size_basis: str
    calls: int
    reads: dict[str, int]  # Describe/Get/List calls of the plan, by operation
    mutating: list[tuple[str, str]]


# --- vuln (issue 13): `packerpy sbom`, `packerpy scan` ---------------------------------------


class SbomData(Data):
    image: str
    version: str
    format: str  # cyclonedx-json | spdx-json
    uri: str  # where the stored SBOM is: s3://... or run:<run id>
    sha256: str  # of the stored CycloneDX document
    document: dict[str, Any]


class VulnFindingData(Data):
    advisory: str
    aliases: list[str]
    package: str
    installed: str
    fixed: str
    severity: str  # low | medium | high | critical | unknown
    score: float | None


class LicenceFindingData(Data):
    package: str
    version: str
    license: str
    denied: str


class ScanData(Data):
    inventory: str
    advisories: str
    ecosystem: str
    packages: int
    advisory_count: int
    fail_on: str | None
    ok: bool
    reason: str
    counts: dict[str, int]
    findings: list[VulnFindingData]
    licences: list[LicenceFindingData]
    notes: list[str]


class VersionScanData(Data):
    version: str
    channels: list[str]
    scanned: bool
    error: str
    counts: dict[str, int]
    findings: list[VulnFindingData]


class ScanAllData(Data):
    image: str
    advisories: str
    fail_on: str | None
    ok: bool
    versions: list[VersionScanData]


class ComplianceData(Data):
    """`compliance IMAGE VERSION` (a published version) and `compliance scan` (a root)."""

    image: str | None  # none for `compliance scan`
    version: str | None
    root: str | None  # the scanned directory (`compliance scan`)
    amis: dict[str, str]
    profile: str | None
    content: str | None  # data stream and SSG version, e.g. "ssg-debian11-ds.xml 0.1.65"
    score: float | None  # 100 * pass / (pass + fail), one decimal
    passed: int | None  # counts and failed rules: none when only the AMI's tags are known
    failed: int | None
    notapplicable: int | None
    failed_rules: list[str]
    min_score: float | None  # images.NAME.compliance.min_score
    below_min_score: bool
    report: str | None  # the HTML report (run record, or the scan's --out directory)
    run_dir: str | None
