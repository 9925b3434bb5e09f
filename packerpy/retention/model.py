"""What cleanup knows and decides, as plain frozen data: the planner (plan.py) is a pure
function from an `Estate` and the policies to `Decision`s, so it can be property-tested.

The estate is read once per run (inventory.py): this project's AMIs, and per region the facts
that protect an AMI whatever the policy says (in use, channels, shares), each as the reason a
user reads ("instance i-0abc (running)").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# (region, AMI id): AMI ids are unique per region only as far as packerpy may assume.
Key = tuple[str, str]


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    # The volume size of the AMI's block device mapping: an upper bound of what the snapshot
    # is billed for (EBS bills the changed blocks, which no API reports per snapshot).
    gib: int


@dataclass(frozen=True)
class Ami:
    """One region's copy of one version, as DescribeImages showed it."""

    region: str
    ami_id: str
    image: str
    version: str  # "" when the AMI has no valid packerpy:version tag
    created: datetime | None
    snapshots: tuple[Snapshot, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def key(self) -> Key:
        return (self.region, self.ami_id)

    @property
    def gib(self) -> int:
        return sum(s.gib for s in self.snapshots)


@dataclass(frozen=True)
class Policy:
    """An image's retention section, in the planner's terms (config/lifecycle.py)."""

    keep_last: int
    keep_prereleases: int
    keep_days: int
    include_shared: bool = False
    archive_after_days: int | None = None


@dataclass(frozen=True)
class Estate:
    """This project's AMIs and, per (region, AMI), every protecting fact as a reason."""

    amis: tuple[Ami, ...]
    # instances, launch template versions, launch configurations, auto scaling groups
    used: Mapping[Key, tuple[str, ...]] = field(default_factory=dict)
    # channel targets and their recent history
    channels: Mapping[Key, tuple[str, ...]] = field(default_factory=dict)
    # launch permissions for other accounts, organizations, OUs or everyone
    shared: Mapping[Key, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    ami: Ami
    keep: bool
    # Every rule that applies: all reasons to keep when kept, all reasons to delete otherwise.
    reasons: tuple[str, ...]
    # Kept, old enough for the archive tier (archive_after), and not in use.
    archive: bool = False
