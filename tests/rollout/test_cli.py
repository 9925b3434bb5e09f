"""The rollout commands' output contract: --json envelopes and text, pinned as snapshots.

The core is replaced by fixed results (as tests/cli/test_contract.py does for the other
commands); tests/e2e/test_rollout.py runs the real thing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from packerpy import scaffold
from packerpy.aws.operation import Action, Outcome
from packerpy.rollout import apply, control
from packerpy.rollout.model import Reading, StepRecord
from tests.cli.test_contract import both
from tests.rollout.fleet import SAMPLE_STATE, options

PLAN = (
    Action("us-east-1", "claim", ("web-prod",), "with packerpy:rollout:owner"),
    Action("us-east-1", "create-launch-template-version", ("lt-1",), "from version 1"),
    Action("us-east-1", "create-auto-scaling-group", ("web-prod-green-1.1.0-lt2",), "at 0"),
    Action("us-east-1", "step", ("web-prod-green-1.1.0-lt2", "web-prod"), "50%: to 1"),
    Action("us-east-1", "step", ("web-prod-green-1.1.0-lt2", "web-prod"), "100%: to 2"),
    Action("us-east-1", "finish", ("web-prod", "web-prod-green-1.1.0-lt2"), "delete web-prod"),
)
STEPS = (
    StepRecord(0, 50, 1, 1, 1.5, (Reading(0.5, 1, 1, 1),)),
    StepRecord(1, 100, 2, 0, 2.25, (Reading(2.0, 2, 1, 2), Reading(3.0, 2, 2, 2))),
)
RESULT = apply.RolloutResult(
    options=options(),
    ami="ami-0new",
    from_ami="ami-0old",
    version="1.1.0",
    blue="web-prod",
    green="web-prod-green-1.1.0-lt2",
    resumed_from=None,
    plan=PLAN,
    outcome=Outcome(),
    steps=STEPS,
    seconds=4.5,
    calls=40,
    mutating=(("us-east-1", "CreateOrUpdateTags"),),
)
STATE = SAMPLE_STATE


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    scaffold.init("web", tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


ARGS = ("web", "--channel", "prod", "--asg", "web-prod")


def test_rollout_contract(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(apply, "rollout", lambda *_a, **_k: RESULT)
    both(capsys, project, "rollout", "rollout", *ARGS, "--canary", "50,100", "--apply")
    dry = Outcome(skipped=PLAN, dry_run=True)
    monkeypatch.setattr(apply, "rollout", lambda *_a, **_k: _replace(dry))
    both(capsys, project, "rollout-dry-run", "rollout", *ARGS, "--canary", "50,100")


def _replace(outcome: Outcome) -> apply.RolloutResult:
    import dataclasses

    return dataclasses.replace(RESULT, outcome=outcome, steps=(), calls=6, mutating=())


def test_status_and_abort_contract(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    found = control.Status("web-prod", "us-east-1", "web-prod", 1, STATE, False, None)
    monkeypatch.setattr(control, "status", lambda *_a, **_k: found)
    both(capsys, project, "rollout status", "rollout", "status", "web", "--asg", "web-prod")
    idle = control.Status("web-prod", "us-east-1", "web-prod", 2, None, None, None)
    monkeypatch.setattr(control, "status", lambda *_a, **_k: idle)
    both(capsys, project, "rollout status-idle", "rollout", "status", "web", "--asg", "web-prod")
    done = ["resize web-prod to 2", "delete web-prod-green-1.1.0-lt2"]
    monkeypatch.setattr(control, "abort", lambda *_a, **_k: ("web-prod", done))
    both(capsys, project, "rollout abort", "rollout", "abort", "web", "--asg", "web-prod")


def test_bad_options_are_one_line_usage_errors(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.cli.test_contract import invoke

    for bad, message in (
        (("--canary", "50,10"), "--canary '50,10': percentages must increase, each from 1 to 100"),
        (("--canary", "10,50"), "--canary '10,50': the last step must be 100 (every instance)"),
        (("--bake-time", "soon"), "--bake-time 'soon': not a duration like 60s, 10m or 1h"),
        (("--strategy", "big-bang"), "--strategy 'big-bang': choose blue-green or rolling"),
    ):
        shown = invoke(capsys, project, "rollout", *ARGS, *bad)
        assert shown["exit_code"] == 2
        assert message in shown["stderr"]
