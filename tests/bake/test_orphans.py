"""bake/orphans.py: the build-time check reports (never removes) a dead run's builder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from packerpy import config, records
from packerpy.aws.clients import AwsClients
from packerpy.bake import orphans
from tests.estate.test_builders import launch_builder
from tests.helpers import make_project, settings_for
from tests.release.test_reap import local_run, state


def test_r4_1_build_warns_about_a_dead_runs_builder(aws: str, tmp_path: Path) -> None:
    project = config.load(make_project(tmp_path))
    runs = project.runs_dir()
    dead = launch_builder(aws, local_run(runs, "20261127T000000Z-web", alive=False))
    launch_builder(aws, local_run(runs, "20261127T000100Z-web", alive=True))
    clients = AwsClients(settings_for(aws))
    check = orphans.start_check(project, clients, "us-east-1")
    warned: list[str] = []
    with records.RunRecord(runs, "web", datetime.now(UTC), {}) as record:
        orphans.warn(check, record, warned.append)
    (line,) = warned
    assert dead["instance"] in line and "packerpy reap --apply" in line
    assert clients.log.mutating == []
    assert state(aws, dead) == ("running", True, True)
