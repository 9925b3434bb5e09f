"""One bounded thread pool shape for fanning work out over AWS regions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
# AWS throttles per region and account; 8 concurrent regions stay well inside the limits.
MAX_REGION_WORKERS = 8


def per_region(regions: Sequence[str], work: Callable[[str], T]) -> list[T]:
    """Run `work` for each region concurrently (bounded), results in the regions' order."""
    if len(regions) <= 1:
        return [work(region) for region in regions]
    with ThreadPoolExecutor(max_workers=min(MAX_REGION_WORKERS, len(regions))) as pool:
        return list(pool.map(work, regions))
