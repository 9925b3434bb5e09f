"""The output contract of promote, channels, rollback and revoke (see test_contract.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from packerpy.aws.operation import Action, Outcome
from packerpy.channels import common, promote, revoke, rollback, run
from packerpy.errors import Conflict, Refused
from packerpy.estate import channels as reader
from tests.cli.test_contract import both, project

__all__ = ["project"]  # the fixture, shared with test_contract.py

AMIS = {"us-east-1": "ami-0aaaaaaaaaaaaaaaa", "eu-west-1": "ami-0bbbbbbbbbbbbbbbb"}
NAME = "/packerpy/web/web/prod"
PLAN = tuple(Action(r, "set", (NAME,), f"prod -> 0.2.0 ({ami})") for r, ami in AMIS.items())
DRY = Outcome(skipped=PLAN, dry_run=True)
PROMOTED = promote.PromoteResult(
    image="web",
    version="0.2.0",
    channel="prod",
    parameter=NAME,
    amis=AMIS,
    previous={"us-east-1": "0.1.0", "eu-west-1": None},
    forced=("verify",),
    ran=run.Ran(PLAN, DRY, dry_run=True, calls=6, ssm_calls=4, mutating=()),
)
ROLLED = rollback.RollbackResult(
    image="web",
    channel="prod",
    parameter=NAME,
    from_version="0.2.0",
    to_version="0.1.0",
    amis=AMIS,
    completing=False,
    ran=run.Ran(PLAN, DRY, dry_run=True, calls=4, ssm_calls=0, mutating=()),
)
REVOKED = revoke.RevokeResult(
    image="web",
    version="0.2.0",
    reason="CVE-2026-1234",
    amis=AMIS,
    moved=(revoke.Moved("prod", "us-east-1", "0.1.0"), revoke.Moved("prod", "eu-west-1", None)),
    deprecate_at="2026-01-01T00:02:00+00:00",
    ran=run.Ran(PLAN, DRY, dry_run=True, calls=8, ssm_calls=0, mutating=()),
)


def entry(version: int, ami: str, name: str | None) -> reader.Entry:
    labels = (f"v{name}",) if name else ()
    return reader.Entry(version, ami, name, labels, f"2026-01-0{version}T00:00:00+00:00")


VIEW = reader.ChannelsView(
    image="web",
    channels={
        "dev": reader.ChannelView(
            "dev",
            {
                "us-east-1": reader.RegionChannel(
                    "us-east-1",
                    "/packerpy/web/web/dev",
                    (entry(1, "ami-0c", "0.1.0"), entry(2, AMIS["us-east-1"], "0.2.0")),
                ),
            },
        ),
        "prod": reader.ChannelView("prod", {"us-east-1": reader.RegionChannel("us-east-1", NAME)}),
    },
)


@pytest.mark.parametrize(
    ("name", "core", "result", "argv"),
    [
        ("promote", (promote, "promote"), PROMOTED, ["promote", "web", "0.2.0", "--to", "prod"]),
        ("channels", (common, "view"), VIEW, ["channels", "web"]),
        ("rollback", (rollback, "rollback"), ROLLED, ["rollback", "web", "--channel", "prod"]),
        ("revoke", (revoke, "revoke"), REVOKED, ["revoke", "web", "0.2.0", "--reason", "CVE"]),
    ],
)
def test_channel_commands(
    name: str,
    core: tuple[object, str],
    result: object,
    argv: list[str],
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(*core, lambda *_a, **_k: result)
    dry = [] if name == "channels" else ["--dry-run"]
    both(capsys, project, name, *argv, *dry)


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("fail-refused", Refused("web 0.2.0: is revoked (CVE-2026-1234); it cannot be promoted")),
        ("fail-conflict", Conflict("aws us-east-1: /packerpy/web/web/prod was changed")),
    ],
)
def test_refused_and_conflict_envelopes(
    name: str,
    error: Exception,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def fail(*_a: object, **_k: object) -> None:
        raise error

    monkeypatch.setattr(promote, "promote", fail)
    both(capsys, project, name, "promote", "web", "0.2.0", "--to", "prod")
