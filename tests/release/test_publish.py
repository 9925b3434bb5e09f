"""publish on the operation shape, without packer: plan, apply, converge, cancel."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path
from typing import ClassVar

import pytest

from packerpy import config
from packerpy.aws.images import ImageCache
from packerpy.aws.operation import Mode, Outcome
from packerpy.aws.settings import aws_settings
from packerpy.errors import Cancelled
from packerpy.release import publish
from packerpy.steps import protocol
from packerpy.steps.tag import TagStep
from tests.helpers import ec2
from tests.steps.amis import clients, image_config, make_ami

ACCOUNT = "111122223333"


@pytest.fixture
def project(aws: str, tmp_path: Path) -> config.Project:
    """web 1.0.0 exists in us-east-1 only; the config asks for two regions, a share, deprecation."""
    ami, _ = make_ami(aws, "us-east-1", name="web-1.0.0")
    ec2(aws).create_tags(
        Resources=[ami],
        Tags=[
            {"Key": "packerpy:project", "Value": "packerpy"},  # project.name's default
            {"Key": "packerpy:image", "Value": "web"},
            {"Key": "packerpy:version", "Value": "1.0.0"},
        ],
    )
    path = tmp_path / "packerpy.toml"
    path.write_text(
        textwrap.dedent(f"""
        [images.web]
        version = "1.0.0"
        base = {{ ami = "ami-03cf127a" }}
        regions = ["us-east-1", "eu-west-1"]
        share = {{ accounts = ["{ACCOUNT}"], snapshots = true }}
        deprecate_after = "180d"
        """)
    )
    return config.load(path)


def test_dry_run_is_the_plan_of_every_step(project: config.Project) -> None:
    result = publish.publish(project, aws_settings(project), "web", "1.0.0", Mode(dry_run=True))
    assert [(a.region, a.verb) for a in result.plan] == [
        ("eu-west-1", "copy"),
        ("us-east-1", "share"),  # the AMI
        ("us-east-1", "share"),  # its snapshot
        ("us-east-1", "tag"),
        ("us-east-1", "deprecate"),
    ]
    assert result.mutating == () and result.outcome.done == ()
    assert result.outcome.skipped == result.plan and result.outcome.dry_run
    assert [s.actions for s in result.steps] == [
        tuple(a.line() for a in s.plan) for s in result.steps
    ]


def test_publish_converges_then_a_republish_changes_nothing(project: config.Project) -> None:
    settings = aws_settings(project)
    first = publish.publish(project, settings, "web", "1.0.0")
    assert set(first.amis) == {"us-east-1", "eu-west-1"}
    assert first.outcome.changed and len(first.outcome.mutating) == len(first.mutating)
    assert all(step.changed for step in first.steps)
    again = publish.publish(project, settings, "web", "1.0.0")
    assert again.amis == first.amis
    assert again.mutating == () and again.plan == () and not again.outcome.changed
    assert not any(step.changed for step in again.steps)


class CancelStep:
    """Stands in for Ctrl-C arriving during a step: it sets the token, as the handler does."""

    name: ClassVar[str] = "cancel"

    def run(self, ctx: protocol.StepContext) -> protocol.StepResult:
        ctx.cancel.set()
        return protocol.StepResult(step=self.name, changed=False, outcome=Outcome())


def test_run_all_stops_before_the_next_step_once_cancelled(aws: str) -> None:
    ami, _ = make_ami(aws, "us-east-1")
    built = protocol.BuiltImage(
        image="web", version="1.2.3", amis={"us-east-1": ami}, config=image_config()
    )
    aws_clients = clients(aws)
    ctx = protocol.StepContext(built=built, aws=aws_clients, images=ImageCache(aws_clients))
    with pytest.raises(Cancelled) as info:
        protocol.run_all([CancelStep(), TagStep()], ctx)
    assert info.value.exit_code == 130
    assert info.value.detail[-1] == "not started: step tag"
    assert aws_clients.log.calls == []


def test_a_cancelled_publish_changes_nothing_and_says_what_was_not_started(
    project: config.Project,
) -> None:
    settings = aws_settings(project)
    token = threading.Event()
    token.set()
    with pytest.raises(Cancelled) as info:
        publish.publish(project, settings, "web", "1.0.0", Mode(cancel=token))
    assert info.value.detail == tuple(
        f"not started: step {name}" for name in ("copy", "share", "tag", "deprecate")
    )
    assert publish.publish(project, settings, "web", "1.0.0", Mode(dry_run=True)).amis.keys() == {
        "us-east-1"
    }
