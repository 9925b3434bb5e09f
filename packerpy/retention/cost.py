"""What a cleanup plan reclaims, per region and in total, at the configured prices.

Sizes are the volume sizes of the AMIs' block device mappings: an upper bound, because EBS
bills a snapshot for its changed blocks only and no API reports that per snapshot (the first
snapshot of a volume is about the data written; later ones are increments). Archiving saves
the difference between the standard and the archive price; the archive tier bills at least
90 days and charges per GiB restored (EBS pricing page), which this estimate leaves out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

BASIS = (
    "upper bound: snapshot sizes are their volumes' sizes; EBS bills changed blocks only, "
    "so the real saving is at most this"
)


@dataclass(frozen=True)
class Prices:
    snapshot_gib_month: float
    archive_gib_month: float
    as_of: str


@dataclass(frozen=True)
class RegionCost:
    region: str
    amis: int = 0
    snapshots: int = 0
    gib: int = 0
    monthly_saving: float = 0.0
    archive_snapshots: int = 0
    archive_gib: int = 0
    archive_monthly_saving: float = 0.0

    def __add__(self, other: RegionCost) -> RegionCost:
        return RegionCost(
            region="total",
            amis=self.amis + other.amis,
            snapshots=self.snapshots + other.snapshots,
            gib=self.gib + other.gib,
            monthly_saving=round(self.monthly_saving + other.monthly_saving, 2),
            archive_snapshots=self.archive_snapshots + other.archive_snapshots,
            archive_gib=self.archive_gib + other.archive_gib,
            archive_monthly_saving=round(
                self.archive_monthly_saving + other.archive_monthly_saving, 2
            ),
        )


def region_cost(
    region: str,
    prices: Prices,
    *,
    amis: int,
    deleted: Iterable[int],
    archived: Iterable[int],
) -> RegionCost:
    """`deleted` and `archived`: the GiB of each snapshot deleted or moved to archive."""
    gone = list(deleted)
    moved = list(archived)
    archive_gib = sum(moved)
    return RegionCost(
        region=region,
        amis=amis,
        snapshots=len(gone),
        gib=sum(gone),
        monthly_saving=round(sum(gone) * prices.snapshot_gib_month, 2),
        archive_snapshots=len(moved),
        archive_gib=archive_gib,
        archive_monthly_saving=round(
            archive_gib * (prices.snapshot_gib_month - prices.archive_gib_month), 2
        ),
    )


def total(costs: Iterable[RegionCost]) -> RegionCost:
    result = RegionCost(region="total")
    for cost in costs:
        result = result + cost
    return result
