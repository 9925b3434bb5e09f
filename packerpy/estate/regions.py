"""Opt-in regions: a region AWS launched after March 2019 works only once the account enables it.

EC2 answers any call in a region the account has not enabled with OptInRequired. packer notices
only in its pre-validation, after `packer init`; publish's copy step would notice after other
regions were already changed. One DescribeRegions(AllRegions=True) tells every region's
`OptInStatus`: `opt-in-not-required`, `opted-in` or `not-opted-in` (EC2 API reference).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from packerpy.aws.clients import AwsClients, translated
from packerpy.errors import AwsError, ConfigError

NOT_ENABLED = "not-opted-in"


def opt_in_status(aws: AwsClients) -> dict[str, str]:
    """Region name -> OptInStatus, for every region of the partition, in one call.

    DescribeRegions has no MaxResults/NextToken (the EC2 API reference lists none): one answer
    holds every region. Without AllRegions it would list only the enabled ones.
    """
    region = aws.settings.region
    with translated("list the account's regions", region):
        found = aws.ec2(region).describe_regions(AllRegions=True)["Regions"]
    return {r["RegionName"]: r.get("OptInStatus", "") for r in found if "RegionName" in r}


def not_enabled(status: Mapping[str, str], regions: Iterable[str]) -> list[str]:
    """The regions, in the order given, that the account has not enabled.

    A region DescribeRegions does not list at all belongs to another partition: that is the
    config's partition rule, not an opt-in question.
    """
    return [region for region in regions if status.get(region) == NOT_ENABLED]


def check_enabled(aws: AwsClients, regions: Iterable[str], *, where: str) -> None:
    """Raise a ConfigError naming the first region of `regions` the account has not enabled."""
    disabled = not_enabled(opt_in_status(aws), regions)
    if disabled:
        raise ConfigError(not_enabled_message(disabled, where=where))


def not_enabled_message(disabled: list[str], *, where: str) -> str:
    first = disabled[0]
    more = f" (also {', '.join(disabled[1:])})" if disabled[1:] else ""
    return (
        f"{where}: {first!r} is not enabled for this AWS account "
        f"(OptInStatus {NOT_ENABLED}){more}; "
        f"enable it with `aws account enable-region --region-name {first}` or in the console "
        "(Account, AWS Regions), or remove it from the config"
    )


def validate_check(aws: AwsClients, wanted: Mapping[str, Iterable[str]]) -> str:
    """`validate`'s check of every image's regions (where -> regions, e.g. "packerpy.toml:
    images.web.regions"): "regions enabled", or a note saying why it was skipped.

    validate works offline, so an endpoint that does not answer or missing credentials skip the
    check with a note instead of failing; a region that is not enabled is still an error.
    """
    try:
        aws.check_reachable(aws.settings.region)
        status = opt_in_status(aws)
    except AwsError as exc:
        return f"regions not checked: {exc.message}"
    for where, regions in wanted.items():
        if disabled := not_enabled(status, regions):
            raise ConfigError(not_enabled_message(disabled, where=where))
    return "regions enabled"
