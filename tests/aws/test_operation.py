"""The operation shape without AWS: plans are data; dry run, apply, failure, cancellation."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable

import pytest

from packerpy.aws.clients import CallLog
from packerpy.aws.operation import MAX_ACTION_WORKERS, Action, Operation, Outcome
from packerpy.errors import EXIT_INTERRUPTED, AwsError, Cancelled


class Recorder:
    """Builds actions whose execution is recorded in order, per region."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.lock = threading.Lock()

    def action(
        self,
        region: str,
        ami: str,
        *,
        independent: bool = False,
        before: Callable[[], object] | None = None,
        **effects: object,
    ) -> Action:
        def execute(cancel: threading.Event) -> object:
            if before is not None:
                before()
            with self.lock:
                self.ran.append(f"{region}/{ami}")
            if effects.get("cancel"):
                cancel.set()
            if effects.get("interrupt"):
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, delivered to the main thread
                # The call in flight outlives the interrupt and finishes. It waits until the
                # main thread has handled the signal (set the token): a fixed sleep lost that
                # race on a loaded CI machine, and the next action started.
                assert cancel.wait(timeout=30), "the main thread never handled Ctrl-C"
            if effects.get("fail"):
                raise AwsError(f"aws {region}: tag {ami} failed")
            return effects.get("result")

        payload = {"Resources": [ami]}
        return Action(
            region, "tag", (ami,), payload=payload, execute=execute, independent=independent
        )


def test_a_plan_is_data_compared_without_its_callables() -> None:
    one, two = Recorder(), Recorder()
    plan = [one.action("us-east-1", "ami-1"), Action("us-east-1", "keep", ("ami-1",), "x", False)]
    same = [two.action("us-east-1", "ami-1"), Action("us-east-1", "keep", ("ami-1",), "x", False)]
    assert plan == same and len({*plan, *same}) == 2
    assert json.loads(json.dumps([a.to_json() for a in plan]))[0] == {
        "region": "us-east-1",
        "verb": "tag",
        "resources": ["ami-1"],
        "detail": "",
        "mutating": True,
        "payload": {"Resources": ["ami-1"]},
    }
    assert [a.line() for a in plan] == ["us-east-1: tag ami-1", "us-east-1: keep ami-1 x"]


def test_dry_run_returns_the_plan_without_executing() -> None:
    recorder = Recorder()
    plan = (recorder.action("us-east-1", "ami-1"), recorder.action("eu-west-1", "ami-2"))
    outcome = Operation(CallLog(), dry_run=True).execute(plan)
    assert outcome.skipped == plan and outcome.dry_run
    assert outcome.done == () and not outcome.changed
    assert outcome.lines(plan) == ("us-east-1: tag ami-1", "eu-west-1: tag ami-2")
    assert recorder.ran == []


def test_apply_runs_each_region_in_order_and_records_results() -> None:
    recorder = Recorder()
    note = Action("eu-west-1", "keep", ("ami-3",), "shared with 1 (kept)", mutating=False)
    plan = (
        recorder.action("us-east-1", "ami-1", result="ami-9"),
        recorder.action("eu-west-1", "ami-2"),
        note,
        recorder.action("us-east-1", "ami-3"),
    )
    outcome = Operation(CallLog()).execute(plan)
    assert [d.action for d in outcome.done] == [plan[0], plan[3], plan[1]]  # grouped by region
    assert outcome.skipped == (note,) and outcome.changed
    assert recorder.ran.index("us-east-1/ami-1") < recorder.ran.index("us-east-1/ami-3")
    assert outcome.lines(plan) == (
        "us-east-1: tag ami-1 -> ami-9",
        "eu-west-1: tag ami-2",
        "eu-west-1: keep ami-3 shared with 1 (kept)",
        "us-east-1: tag ami-3",
    )


def test_a_failure_stops_its_region_and_is_raised() -> None:
    recorder = Recorder()
    plan = (
        recorder.action("us-east-1", "ami-1", fail=True),
        recorder.action("us-east-1", "ami-2"),
        recorder.action("eu-west-1", "ami-3"),
    )
    with pytest.raises(AwsError, match="tag ami-1 failed"):
        Operation(CallLog()).execute(plan)
    assert sorted(recorder.ran) == ["eu-west-1/ami-3", "us-east-1/ami-1"]


def test_a_cancel_mid_plan_leaves_later_actions_not_started() -> None:
    recorder = Recorder()
    plan = (
        recorder.action("us-east-1", "ami-1"),
        recorder.action("us-east-1", "ami-2", cancel=True),
        recorder.action("us-east-1", "ami-3"),
    )
    token = threading.Event()
    with pytest.raises(Cancelled) as info:
        Operation(CallLog(), cancel=token).execute(plan)
    assert info.value.exit_code == EXIT_INTERRUPTED
    outcome = info.value.outcome
    assert isinstance(outcome, Outcome) and outcome.cancelled
    assert [d.action for d in outcome.done] == list(plan[:2])
    assert outcome.not_started == plan[2:]
    assert recorder.ran == ["us-east-1/ami-1", "us-east-1/ami-2"]
    assert "2 action(s) done, 0 failed, 1 not started" in info.value.message
    assert info.value.detail[-1] == "not started: us-east-1: tag ami-3"


def test_ctrl_c_lets_the_call_in_flight_finish_and_starts_nothing_new() -> None:
    recorder = Recorder()
    plan = (
        recorder.action("us-east-1", "ami-1", interrupt=True, result="done"),
        recorder.action("us-east-1", "ami-2"),
    )
    with pytest.raises(Cancelled) as info:
        Operation(CallLog()).execute(plan)
    outcome = info.value.outcome
    assert isinstance(outcome, Outcome)
    assert [(d.action, d.result) for d in outcome.done] == [(plan[0], "done")]
    assert outcome.not_started == plan[1:]
    assert recorder.ran == ["us-east-1/ami-1"]


def test_calls_and_mutating_calls_are_counted_from_the_log() -> None:
    log = CallLog()

    def call(_cancel: threading.Event) -> None:
        log.record("us-east-1", "DescribeImages")
        log.record("us-east-1", "CreateTags")

    log.record("us-east-1", "DescribeImages")  # before the operation: not its call
    outcome = Operation(log).execute([Action("us-east-1", "tag", ("ami-1",), execute=call)])
    assert outcome.calls == 2
    assert outcome.mutating == (("us-east-1", "CreateTags"),)


def test_adjacent_independent_actions_of_a_region_run_together_in_plan_order() -> None:
    """Deregistering 460 AMIs one after the other took 5.1 s against moto (issue 14)."""
    both_running = threading.Barrier(2, timeout=30)  # broken (an error) unless both overlap
    recorder = Recorder()
    plan = (
        recorder.action("us-east-1", "ami-0"),  # not independent: runs before the others
        recorder.action("us-east-1", "ami-1", independent=True, before=both_running.wait),
        recorder.action("us-east-1", "ami-2", independent=True, before=both_running.wait),
        recorder.action("us-east-1", "x"),
    )
    outcome = Operation(CallLog()).execute(plan)
    assert [d.action for d in outcome.done] == list(plan)
    assert recorder.ran[0] == "us-east-1/ami-0" and recorder.ran[-1] == "us-east-1/x"


def test_a_failure_among_independent_actions_starts_nothing_new() -> None:
    recorder = Recorder()
    # The others are still running well after ami-0 has failed (half a second each).
    group = (
        recorder.action("us-east-1", "ami-0", independent=True, fail=True),
        *(
            recorder.action(
                "us-east-1", f"ami-{n}", independent=True, before=lambda: time.sleep(0.5)
            )
            for n in range(1, 40)
        ),
    )
    with pytest.raises(AwsError, match="tag ami-0 failed"):
        Operation(CallLog()).execute((*group, recorder.action("us-east-1", "after")))
    # Those already running when ami-0 failed finish; nothing else in the group starts, nor
    # the action after it.
    assert "us-east-1/after" not in recorder.ran
    assert len(recorder.ran) <= MAX_ACTION_WORKERS
