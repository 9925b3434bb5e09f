"""What channels protect from cleanup: each channel's target and the `history` values before it
(read with estate/channels.py), so a rollback still finds its AMI."""

from __future__ import annotations

from collections.abc import Iterable

from packerpy.aws.clients import AwsClients
from packerpy.estate import channels
from packerpy.naming import channel_parameter


def _history(aws: AwsClients, region: str, name: str) -> list[str]:
    """The parameter's values, oldest first; [] when the channel was never set here."""
    return [str(item.get("Value", "")) for item in channels.history(aws, region, name)]


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
