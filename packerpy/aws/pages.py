"""Paged reads: every Describe/List call that can page asks for pages of a bounded size.

botocore's paginators send no page size unless told to, and then EC2 answers DescribeImages
with everything in one response; the DescribeImages API reference says "We strongly recommend
using only paginated requests. Unpaginated requests are susceptible to throttling and
timeouts." A broad public base filter (Canonical's `ubuntu/images/hvm-ssd/ubuntu-*`) is
thousands of images, one multi-megabyte answer bound by the 60 s read timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# DescribeImages accepts MaxResults 5..1000 (API reference); 1000 keeps the usual answer (a
# few dozen packerpy versions) to one call while bounding the broad ones.
IMAGES_PAGE = 1000
# ListGrants accepts Limit 1..100 (KMS API reference).
GRANTS_PAGE = 100
# Parameters that name resources one by one: EC2 refuses MaxResults with them
# (InvalidParameterCombination), and the answer is bounded by the list anyway.
_BY_ID = frozenset({"ImageIds", "InstanceIds", "KeyNames", "KeyPairIds", "GroupIds"})


def pages(
    client: Any,  # noqa: ANN401 - boto3 clients are dynamic
    operation: str,
    page_size: int,
    **kwargs: object,
) -> Iterator[dict[str, Any]]:
    """Every page of `operation` (snake_case, e.g. "describe_images"), `page_size` at a time.

    The paginator turns the page size into the operation's own limit parameter (MaxResults for
    EC2, Limit for KMS) and follows its token (NextToken, Marker) until the last page.
    """
    if by_id := sorted(_BY_ID.intersection(kwargs)):
        raise ValueError(f"{operation}: {by_id[0]} names its resources; call it without paging")
    paginator = client.get_paginator(operation)
    yield from paginator.paginate(PaginationConfig={"PageSize": page_size}, **kwargs)


def items(
    client: Any,  # noqa: ANN401 - boto3 clients are dynamic
    operation: str,
    key: str,
    page_size: int,
    **kwargs: object,
) -> list[Any]:
    """The `key` list of every page, concatenated (e.g. "Images" of describe_images)."""
    return [item for page in pages(client, operation, page_size, **kwargs) for item in page[key]]
