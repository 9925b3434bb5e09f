"""INTERIM channel reader for cleanup, until estate/channels.py (another branch) lands: the
merger swaps `protected` for that module's reader. Private to retention; nothing else uses it.

A channel is one SSM parameter per image, channel and region
(naming.channel_parameter), whose value is the AMI id; its history (GetParameterHistory) is
the channel's past targets, newest last. The target and the `history` values before it are
protected, so a rollback still finds its AMI.
"""

from __future__ import annotations

from collections.abc import Iterable

from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.pages import items
from packerpy.errors import AwsError
from packerpy.naming import channel_parameter

# GetParameterHistory accepts MaxResults 1..50 (SSM API reference).
HISTORY_PAGE = 50


def _history(aws: AwsClients, region: str, name: str) -> list[str]:
    """The parameter's values, oldest first; [] when the channel was never set here."""
    try:
        with translated(f"read channel {name}", region):
            entries = items(
                aws.ssm(region), "get_parameter_history", "Parameters", HISTORY_PAGE, Name=name
            )
    except AwsError as exc:
        if "ParameterNotFound" in str(exc):
            return []
        raise
    return [str(e.get("Value", "")) for e in entries]


def _back(values: list[str], history: int) -> list[tuple[str, int]]:
    """(AMI id, how far back: 0 = target) for the target and `history` distinct ones before."""
    seen: list[tuple[str, int]] = []
    for value in reversed(values):
        if value and all(value != ami for ami, _ in seen):
            seen.append((value, len(seen)))
        if len(seen) > history:
            break
    return seen


def protected(
    aws: AwsClients,
    region: str,
    where: tuple[str, str, str],
    channels: Iterable[str],
    history: int,
) -> dict[str, list[str]]:
    """AMI id -> reasons, for `channels` of image `where` = (ssm prefix, project, image)."""
    prefix, project, image = where
    found: dict[str, list[str]] = {}
    for channel in channels:
        name = channel_parameter(prefix, project, image, channel)
        for ami, back in _back(_history(aws, region, name), history):
            why = (
                f"channel {channel} target"
                if back == 0
                else f"channel {channel} history ({back} back, keeping {history})"
            )
            found.setdefault(ami, []).append(why)
    return found
