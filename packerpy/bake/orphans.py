"""Builder resources and the run that made them: the run id in run_tags, and the build-time
check for what killed runs left behind (read only; `packerpy reap` removes them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime

from packerpy import records
from packerpy.aws.clients import AwsClients
from packerpy.bake import plan
from packerpy.config import Project
from packerpy.errors import PackerpyError
from packerpy.estate import builders
from packerpy.naming import RUN_TAG


def start_check(
    project: Project, aws: AwsClients, region: str
) -> Future[tuple[builders.Builder, ...]]:
    """Builders of dead runs in the build region, looked up while lint and lookup run."""

    def alive(builder: builders.Builder) -> bool:
        return records.run_alive(
            project.runs_dir(),
            builder.run_id,
            launched=builder.launched,
            now=datetime.now(UTC),
            max_bake=records.MAX_BAKE,
        )[0]

    return builders.orphans_in_background(aws, (region,), alive)


def warn(
    orphans: Future[tuple[builders.Builder, ...]],
    record: records.RunRecord,
    progress: Callable[[str], None],
) -> None:
    """Report (never remove) what killed runs left behind; a failed check is a warning too."""
    try:
        found = orphans.result()
    except PackerpyError as exc:
        progress(f"packerpy: WARNING: could not check for orphaned builders: {exc.message}")
        return
    if found:
        ids = ", ".join(f"{b.instance_id} (run {b.run_id})" for b in found)
        record.note(orphaned_builders=[b.instance_id for b in found])
        progress(
            f"packerpy: WARNING: {len(found)} builder instance(s) of runs that died are still "
            f"in AWS: {ids}; remove them (and their key pairs and security groups) with "
            "`packerpy reap --apply`"
        )


def with_run_id(chosen: plan.Bake, run_id: str) -> plan.Bake:
    """The plan with the run id in run_tags: packer's builder resources then carry it."""
    variables = dict(chosen.rendered.variables)
    run_tags = dict(variables.get("run_tags", {}))  # type: ignore[call-overload]
    variables["run_tags"] = {**run_tags, RUN_TAG: run_id}
    return dataclasses.replace(
        chosen, rendered=dataclasses.replace(chosen.rendered, variables=variables)
    )
