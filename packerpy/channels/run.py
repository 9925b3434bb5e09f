"""Running a channel command's plan: one operation over the regions, and the report of a
partial outcome, naming the regions that failed and those that were done."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from packerpy.aws.clients import AwsClients
from packerpy.aws.operation import Action, Mode, Operation, Outcome
from packerpy.errors import AwsError, Cancelled, Conflict, PackerpyError

# The CallLog records operation names only; these are the SSM ones channels make.
SSM_OPERATIONS = frozenset(
    {"GetParameterHistory", "PutParameter", "LabelParameterVersion", "DeleteParameter"}
)


@dataclass(frozen=True)
class Ran:
    """What one channel command did: its plan as run, the outcome, the AWS calls it made."""

    plan: tuple[Action, ...]
    outcome: Outcome
    dry_run: bool
    calls: int
    ssm_calls: int
    mutating: tuple[tuple[str, str], ...]


class Reported:
    """The fields of `Ran` on a command's result, for callers and tests."""

    ran: Ran

    @property
    def plan(self) -> tuple[Action, ...]:
        return self.ran.plan

    @property
    def outcome(self) -> Outcome:
        return self.ran.outcome

    @property
    def actions(self) -> tuple[str, ...]:
        """The plan's lines for what was done (or, in a dry run, planned)."""
        return self.ran.outcome.lines(self.ran.plan)

    @property
    def dry_run(self) -> bool:
        return self.ran.dry_run

    @property
    def calls(self) -> int:
        return self.ran.calls

    @property
    def ssm_calls(self) -> int:
        return self.ran.ssm_calls

    @property
    def mutating(self) -> tuple[tuple[str, str], ...]:
        return self.ran.mutating


def apply(plan: Sequence[Action], mode: Mode, aws: AwsClients, what: str) -> Ran:
    """Run `plan` as one operation; a failure in some regions is reported with all of them.

    The plan as run has each action wrapped to note its region's failure.
    """
    errors: dict[str, BaseException] = {}
    guarded = [
        a
        if a.execute is None
        else Action(
            a.region,
            a.verb,
            a.resources,
            a.detail,
            a.mutating,
            a.payload,
            _guarded(a, errors),
        )
        for a in plan
    ]
    operation = Operation(aws.log, dry_run=mode.dry_run, cancel=mode.cancel)
    for action in guarded if not mode.dry_run else ():
        if action.mutating and action.execute is not None:
            mode.progress(f"{what}: {action.line()}")
    try:
        outcome = operation.execute(guarded)
    except Cancelled:
        raise
    except PackerpyError:
        if not errors:
            raise
        raise partial(plan, errors, what) from None
    calls = aws.log.calls
    return Ran(
        plan=tuple(guarded),
        outcome=outcome,
        dry_run=mode.dry_run,
        calls=len(calls),
        ssm_calls=sum(1 for _, op in calls if op in SSM_OPERATIONS),
        mutating=tuple(aws.log.mutating),
    )


def _guarded(
    action: Action, errors: dict[str, BaseException]
) -> Callable[[threading.Event], object]:
    inner = action.execute
    assert inner is not None  # noqa: S101 - only actions with an execute are wrapped

    def execute(cancel: threading.Event) -> object:
        return guard(action.region, errors, lambda: inner(cancel))

    return execute


def partial(
    plan: Sequence[Action], errors: Mapping[str, BaseException], what: str
) -> PackerpyError:
    """One error naming the regions that failed and those that were done; exit code of the worst."""
    regions = list(dict.fromkeys(a.region for a in plan if a.mutating))
    ok = [r for r in regions if r not in errors]
    lines = [f"{r}: failed: {errors[r]}" for r in regions if r in errors]
    message = (
        f"{what}: incomplete: failed in {', '.join(errors)}"
        + (f"; done in {', '.join(ok)}" if ok else "")
        + "; run it again to finish"
    )
    if any(isinstance(e, Conflict) for e in errors.values()):
        first = next(e for e in errors.values() if isinstance(e, Conflict))
        return Conflict(f"{message} ({first})", detail=lines)
    if any(isinstance(e, AwsError) for e in errors.values()):
        return AwsError(message, detail=lines)
    return PackerpyError(message, detail=lines)


def guard(region: str, errors: dict[str, BaseException], work: Callable[[], object]) -> object:
    """Run one region's call, remembering its failure for the partial-outcome report."""
    try:
        return work()
    except Exception as exc:
        errors[region] = exc
        raise
