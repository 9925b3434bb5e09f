"""build() as a composition: its keyword arguments, and a failure recorded by the run record."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from packerpy import config, records, scaffold
from packerpy.aws.settings import aws_settings
from packerpy.bake import pipeline
from packerpy.errors import EXIT_LINT, PolicyError


def test_build_keyword_arguments_are_exactly_the_options() -> None:
    options = {f.name for f in dataclasses.fields(pipeline.BuildOptions)}
    assert set(pipeline.BuildOverrides.__annotations__) == options


def test_a_lint_error_stops_the_build_and_is_recorded(aws: str, tmp_path: Path) -> None:
    scaffold.init("web", tmp_path)
    config_file = tmp_path / "packerpy.toml"
    config_file.write_text(config_file.read_text().replace("encrypt = true", "encrypt = false"))
    project = config.load(config_file)
    settings = aws_settings(project, environ={"AWS_ENDPOINT_URL": aws})
    started = datetime(2026, 11, 27, 3, 30, tzinfo=UTC)
    with pytest.raises(PolicyError) as failed:
        pipeline.build(project, "web", settings, now=lambda: started)
    (run,) = records.list_runs(project.runs_dir())
    # ux review 5: a failed build's --json data names the run record and the phase.
    assert failed.value.data == {
        "image": "web",
        "version": "0.1.0",
        "run_dir": str(run.dir),
        "phase": "lint",
        "log": str(run.dir / records.LOG_NAME),
        "exit_code": EXIT_LINT,
    }
    assert run.dir.name == "20261127T033000Z-web"
    result = json.loads((run.dir / records.RESULT_NAME).read_text())
    assert (result["exit_code"], result["phase"], result["phases"]) == (EXIT_LINT, "lint", [])
    assert result["error"].startswith("lint: 1 error(s), first packerpy.toml:")
    assert sorted(p.name for p in run.dir.iterdir()) == [records.RESULT_NAME]  # packer never ran
