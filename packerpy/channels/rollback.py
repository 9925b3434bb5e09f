"""`rollback`: a channel back to the value it held before, from SSM's parameter history.

The history of the image's first region (the build region) decides: walking back from the
current value, the first other version that is a published packerpy version, available in
every region and not revoked. Rollback is a step like `cd -`: a second one returns to where
the first started. A channel split across regions (a rollback or promotion that failed in
some) is first completed: every region goes to the value written last anywhere, so a re-run
finishes an interrupted rollback instead of stepping again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packerpy.aws.operation import Action, Mode
from packerpy.aws.settings import AwsSettings
from packerpy.channels import common, run
from packerpy.config import Project
from packerpy.errors import Refused
from packerpy.estate import catalog
from packerpy.estate import channels as reader
from packerpy.naming import version_label


@dataclass(frozen=True)
class RollbackResult(run.Reported):
    image: str
    channel: str
    parameter: str
    from_version: str | None  # what the channel pointed at (in the build region)
    to_version: str
    amis: dict[str, str]
    completing: bool  # True: regions disagreed, the last write is being completed
    ran: run.Ran


def previous_good(
    image: common.Image, history: Sequence[reader.Entry], skip: reader.Entry
) -> catalog.Published | None:
    """The newest earlier value that is not `skip`'s, not revoked and usable everywhere."""
    for entry in reversed(history):
        if entry.version is None or entry.ami == skip.ami:
            continue
        if skip.version and catalog.same_version(entry.version, skip.version):
            continue
        found = image.version(entry.version)
        if common.revoked(found) is None and common.usable(image, found) is None:
            return found
    return None


def _split(image: common.Image, view: reader.ChannelView) -> catalog.Published | None:
    """When regions disagree: the version of the value written last, to complete."""
    entries = [r.current for r in view.regions.values()]
    if len({(e.version or e.ami) if e else None for e in entries}) <= 1:
        return None
    newest = max((e for e in entries if e), key=lambda e: e.modified)
    return image.version(newest.version) if newest.version else None


def converge(
    image: common.Image, view: reader.ChannelView, target: catalog.Published
) -> list[Action]:
    """Set actions for the regions of `view` that do not already hold `target`."""
    label = version_label(target.version)
    actions = []
    for region, held in view.regions.items():
        entry = held.current
        if entry is not None and entry.ami == target.amis[region] and label in entry.labels:
            continue
        before = entry.parameter_version if entry else None
        actions.append(common.set_action(image, region, view.channel, target, before))
    return actions


def rollback(
    project: Project, settings: AwsSettings, name: str, channel: str, mode: Mode | None = None
) -> RollbackResult:
    """Move `channel` back one value (module doc); Refused when no earlier good value exists."""
    mode = mode or Mode()
    image = common.load(project, settings, name, channel)
    view = image.read([channel]).channels[channel]
    first = view.regions[image.regions[0]]
    current = first.current
    if current is None:
        raise Refused(f"{name} {channel}: the channel is not set; nothing to roll back")
    target = _split(image, view)
    completing = target is not None
    if target is None:
        target = previous_good(image, first.history[:-1], current)
    if target is None:
        raise common.refuse(
            image,
            current.version or current.ami,
            f"is the only value of {channel} that is not revoked: nothing to roll back to",
        )
    actions = converge(image, view, target)
    ran = run.apply(actions, mode, image.aws, f"rollback {name} {channel}")
    return RollbackResult(
        image=name,
        channel=channel,
        parameter=image.parameter(channel),
        from_version=current.version or current.ami,
        to_version=target.version,
        amis={r: target.amis[r] for r in image.regions},
        completing=completing,
        ran=ran,
    )
