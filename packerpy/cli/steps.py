"""Step results as the contract shows them, and as text: `build` and `publish` both run steps."""

from __future__ import annotations

from collections.abc import Iterable

from packerpy.contract import StepData
from packerpy.steps.protocol import StepResult


def step_data(steps: Iterable[StepResult]) -> list[StepData]:
    """What users see of each step; its internal `data` and `amis` stay out of the contract."""
    return [
        StepData(step=s.step, changed=s.changed, actions=list(s.actions), dry_run=s.dry_run)
        for s in steps
    ]
