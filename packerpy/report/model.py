"""What the estate report shows, as frozen data: the HTML page and `--json` render the same."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RegionAmi:
    region: str
    ami: str
    state: str
    public: bool
    size_gib: int  # the snapshots' full size: what the version costs at most


@dataclass(frozen=True)
class VersionRow:
    version: str
    created: str  # ISO 8601, the oldest region's CreationDate
    age_days: int
    amis: tuple[RegionAmi, ...]
    channels: tuple[str, ...]  # channels pointing at this version in any region
    verified: str  # pass | fail | "" (never verified)
    verify_reason: str
    revoked: str  # the reason, "" when not revoked
    compliance_score: str  # "" when never scanned
    vulnerabilities: int | None  # None when not scanned
    shared_with: int  # launch-permission entities (accounts, orgs, OUs, all)
    cleanup: str  # keep | delete | "" (no retention policy)
    cleanup_reasons: tuple[str, ...] = ()

    @property
    def size_gib(self) -> int:
        return sum(ami.size_gib for ami in self.amis)


@dataclass(frozen=True)
class ChannelEvent:
    channel: str
    version: str
    at: str  # ISO 8601: when the channel's parameter took this value


@dataclass(frozen=True)
class ImageReport:
    name: str
    regions: tuple[str, ...]
    channels: tuple[str, ...]
    versions: tuple[VersionRow, ...]  # oldest first
    promotions: tuple[ChannelEvent, ...] = ()
    # region -> channel -> version the channel points at now
    current: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class CleanupTotals:
    amis: int
    snapshots: int
    gib: int
    monthly_usd: float
    prices_as_of: str


@dataclass(frozen=True)
class EstateReport:
    project: str
    generated: str  # ISO 8601 UTC
    images: tuple[ImageReport, ...]
    cleanup: CleanupTotals | None = None
    problems: tuple[str, ...] = ()  # what could not be read, one line each
