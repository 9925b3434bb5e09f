"""One shape for every command that changes existing AWS state: plan, then dry run or apply.

A plan is data: a tuple of frozen `Action`s (region, verb, resources, detail, whether it changes
AWS, the request it will make). It can be printed, serialised and compared in tests; the callable
that carries it out is kept out of comparisons. `Operation.execute` either returns the plan as a
dry run, or applies it: one region's actions in order (a later action may depend on an earlier
one there), except that adjacent actions marked `independent` run together (at most
MAX_ACTION_WORKERS); regions concurrently, at most MAX_REGION_WORKERS at a time.

Cancellation is cooperative. A cancel token (threading.Event) is checked before each action
starts; Ctrl-C (or SIGTERM, see support/signals.py) in the main thread sets it, the calls in
flight finish, and `Cancelled` (exit 130) is raised carrying the partial `Outcome`, so the user
is told what was done and what was not started. A call is never cut off halfway: the caller
cannot know whether AWS acted on it, and every action must be safe to plan again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from packerpy.aws.clients import CallLog
from packerpy.errors import Cancelled
from packerpy.support.pool import MAX_REGION_WORKERS, each, wait_all

# Concurrent independent actions in one region (e.g. deregistrations): EC2's request-rate limit
# for mutating calls is per account and region, and 8 stays well below it.
MAX_ACTION_WORKERS = 8

# What an action's `execute` receives: the cancel token, for actions that wait (copy).
Execute = Callable[[threading.Event], object]


@dataclass(frozen=True)
class Action:
    """One change to AWS (or, with mutating=False, a finding reported without a call)."""

    region: str
    verb: str  # e.g. copy, adopt, share, unshare, tag, deprecate, keep
    resources: tuple[str, ...]  # what it acts on, e.g. ("ami-1", "snap-2")
    detail: str = ""  # the rest of the line a user reads, e.g. "with 111122223333"
    mutating: bool = True
    # The request it will make, for printing and comparing plans (JSON-able values only). Left
    # out of the hash (a dict is unhashable), so actions can still key a dict or fill a set.
    payload: Mapping[str, Any] = field(default_factory=dict, hash=False)
    # Carries the action out; None for findings. Not part of the plan's identity.
    execute: Execute | None = field(default=None, compare=False, repr=False)
    # May run concurrently with the adjacent actions of its region that are independent too
    # (one AMI's deregistration does not wait for another's); how, not what: not compared.
    independent: bool = field(default=False, compare=False, repr=False)

    def line(self, result: object = None) -> str:
        """The one-line text; an action that made a resource (a copy) names it after `->`."""
        text = f"{self.region}: {self.verb} {', '.join(self.resources)}"
        text += f" {self.detail}" if self.detail else ""
        return text + (f" -> {result}" if isinstance(result, str) else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "verb": self.verb,
            "resources": list(self.resources),
            "detail": self.detail,
            "mutating": self.mutating,
            "payload": dict(self.payload),
        }


@dataclass(frozen=True)
class Done:
    action: Action
    result: object = None  # what execute returned, e.g. the id of a new copy


@dataclass(frozen=True)
class Failed:
    action: Action
    error: BaseException


@dataclass(frozen=True)
class Outcome:
    """What an operation did. Every planned action is in exactly one of the four tuples."""

    done: tuple[Done, ...] = ()
    # Findings (nothing to execute), and every action of a dry run.
    skipped: tuple[Action, ...] = ()
    failed: tuple[Failed, ...] = ()
    # Not started because the operation was cancelled or an earlier action in its region failed.
    not_started: tuple[Action, ...] = ()
    calls: int = 0
    mutating: tuple[tuple[str, str], ...] = ()  # (region, operation) of each mutating call
    dry_run: bool = False
    cancelled: bool = False

    def __add__(self, other: Outcome) -> Outcome:
        return Outcome(
            done=self.done + other.done,
            skipped=self.skipped + other.skipped,
            failed=self.failed + other.failed,
            not_started=self.not_started + other.not_started,
            calls=self.calls + other.calls,
            mutating=self.mutating + other.mutating,
            dry_run=self.dry_run or other.dry_run,
            cancelled=self.cancelled or other.cancelled,
        )

    @property
    def changed(self) -> bool:
        """Whether anything in AWS was changed: decided from the actions, never their text."""
        return any(d.action.mutating for d in self.done)

    def lines(self, plan: Iterable[Action]) -> tuple[str, ...]:
        """`plan`'s lines for what was done or reported, in plan order (results after `->`).

        Matched by identity: a plan's actions are the very objects the outcome records.
        """
        results = {id(d.action): d.result for d in self.done}
        shown = {id(a) for a in self.skipped}
        return tuple(a.line(results.get(id(a))) for a in plan if id(a) in results or id(a) in shown)

    def summary(self) -> str:
        return (
            f"{len(self.done)} action(s) done, {len(self.failed)} failed, "
            f"{len(self.not_started)} not started"
        )

    def report(self) -> tuple[str, ...]:
        """Lines for a user after an interruption: what was done, what was not started."""
        return (
            *(f"done: {d.action.line(d.result)}" for d in self.done if d.action.mutating),
            *(f"failed: {f.action.line()}" for f in self.failed),
            *(f"not started: {a.line()}" for a in self.not_started),
        )


def _no_progress(_line: str) -> None:
    """The default progress callback: nowhere."""


@dataclass(frozen=True)
class Mode:
    """How a command that changes AWS state runs: the options every such command shares."""

    dry_run: bool = False
    # Remove what the config no longer asks for (e.g. dropped shares) instead of reporting it.
    prune: bool = False
    progress: Callable[[str], None] = _no_progress
    # Set from another thread (or by Ctrl-C) to stop between actions.
    cancel: threading.Event = field(default_factory=threading.Event)


def cancelled(outcome: Outcome, *, what: str = "operation") -> Cancelled:
    """The exit-130 error carrying a partial outcome; running the command again finishes it."""
    return Cancelled(
        f"interrupted: {what} stopped ({outcome.summary()}); run it again to finish",
        detail=outcome.report(),
        outcome=outcome,
    )


class Operation:
    """Executes plans against one AWS call log and one cancel token, dry or for real."""

    def __init__(
        self, log: CallLog, *, dry_run: bool = False, cancel: threading.Event | None = None
    ) -> None:
        self.log = log
        self.dry_run = dry_run
        self.cancel = cancel if cancel is not None else threading.Event()

    def execute(self, plan: Sequence[Action]) -> Outcome:
        """A dry run returns the plan unexecuted; otherwise `apply`."""
        if self.dry_run:
            return Outcome(skipped=tuple(plan), dry_run=True)
        return self.apply(plan)

    def apply(self, plan: Sequence[Action]) -> Outcome:
        """Run the plan; raise `Cancelled` if the token was set, else the first failure's error."""
        if not plan:  # a converged run: no threads to start
            if self.cancel.is_set():
                raise cancelled(Outcome(cancelled=True))
            return Outcome()
        start = len(self.log.calls)
        interrupted = False
        by_region: dict[str, list[Action]] = {}
        for action in plan:
            by_region.setdefault(action.region, []).append(action)
        # Worker threads even for one region: Ctrl-C then lands in the main thread, which only
        # waits, so a boto3 call is never cut off halfway.
        workers = max(1, min(MAX_REGION_WORKERS, len(by_region)))
        futures: dict[str, Future[Outcome]] = {}
        # Workers wait at the gate until every region is submitted: a Ctrl-C that lands while
        # submitting then leaves no region half-known (its future lost, its actions running).
        gate = threading.Event()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            try:
                for region, actions in by_region.items():
                    futures[region] = pool.submit(self._region, actions, gate)
                gate.set()
                wait_all(futures.values())
            except KeyboardInterrupt:
                interrupted = True
                self.cancel.set()
                gate.set()
                wait_all(futures.values())  # the calls in flight finish; nothing new starts
            finally:
                gate.set()
        unsubmitted = tuple(a for r, acts in by_region.items() if r not in futures for a in acts)
        outcome = _collect(
            [*(f.result() for f in futures.values()), Outcome(not_started=unsubmitted)],
            self.log,
            start,
            cancelled=self.cancel.is_set(),
        )
        if interrupted or outcome.cancelled:
            raise cancelled(outcome)
        if outcome.failed:
            raise outcome.failed[0].error
        return outcome

    def _region(self, actions: list[Action], gate: threading.Event) -> Outcome:
        """One region's actions in order, each run of independent ones concurrently; stop at a
        failure or once cancelled."""
        gate.wait()
        total, end = Outcome(), 0
        for group in _groups(actions):
            end += len(group)
            part = self._one(group[0]) if len(group) == 1 else self._together(group)
            total += part
            if part.failed or part.not_started:
                return total + Outcome(not_started=tuple(actions[end:]))
        return total

    def _one(self, action: Action) -> Outcome:
        """Run one action unless cancelled; a failure or an abandoned wait is in the outcome."""
        if self.cancel.is_set():
            return Outcome(not_started=(action,))
        if action.execute is None:
            return Outcome(skipped=(action,))
        try:
            result = action.execute(self.cancel)
        except Cancelled:  # abandoned a wait: no call was cut off, AWS state is as planned
            return Outcome(not_started=(action,))
        except Exception as exc:  # noqa: BLE001 - recorded, then re-raised by apply
            return Outcome(failed=(Failed(action, exc),))
        return Outcome(done=(Done(action, result),))

    def _together(self, group: Sequence[Action]) -> Outcome:
        """Independent actions, at most MAX_ACTION_WORKERS at a time. After a failure nothing
        new starts (as in order); the ones in flight finish. Outcomes keep the plan's order."""
        stop = threading.Event()

        def run(action: Action) -> Outcome:
            if stop.is_set():
                return Outcome(not_started=(action,))
            part = self._one(action)
            if part.failed:
                stop.set()
            return part

        total = Outcome()
        for part in each(group, run, MAX_ACTION_WORKERS):
            total += part
        return total


def _groups(actions: Sequence[Action]) -> list[list[Action]]:
    """Consecutive independent actions form one group; every other action is a group alone."""
    groups: list[list[Action]] = []
    for action in actions:
        if action.independent and groups and groups[-1][-1].independent:
            groups[-1].append(action)
        else:
            groups.append([action])
    return groups


def _collect(parts: Sequence[Outcome], log: CallLog, start: int, *, cancelled: bool) -> Outcome:
    total = Outcome(cancelled=cancelled)
    for part in parts:
        total += part
    calls = log.calls[start:]  # the log only grows; this operation's calls are its tail
    return Outcome(
        done=total.done,
        skipped=total.skipped,
        failed=total.failed,
        not_started=total.not_started,
        calls=len(calls),
        # CallLog owns the rule for which operations mutate; ask it rather than repeat it.
        mutating=tuple(CallLog(calls=list(calls)).mutating),
        cancelled=cancelled,
    )
