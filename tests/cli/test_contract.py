"""The output contract, pinned: every command's --json envelope and text, success and failure.

Commands run in process through the error boundary. Where a command needs AWS or packer, the
core function is replaced by one returning a fixed core result; the rest run for real. Snapshots
live in tests/cli/snapshots/; after an intended change, regenerate them with
PACKERPY_UPDATE_SNAPSHOTS=1 and review the diff: a changed key there is a changed public format.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from packerpy import contract, doctor, sandbox, scaffold
from packerpy.aws.operation import Action, Outcome
from packerpy.bake import many, pipeline
from packerpy.cli.app import run
from packerpy.errors import PackerError
from packerpy.estate import catalog, queries
from packerpy.release import publish
from packerpy.release import reap as reaper
from packerpy.retention import cleanup as retention
from packerpy.retention.cleanup import CleanupResult, Prepared
from packerpy.retention.cost import Prices, RegionCost
from packerpy.retention.model import Ami, Decision, Snapshot
from packerpy.retention.survey import Scope
from packerpy.steps.protocol import StepResult

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("PACKERPY_UPDATE_SNAPSHOTS") == "1"

STEPS = (
    StepResult(
        "copy",
        changed=True,
        actions=("eu-west-1: copy ami-0aaaaaaaaaaaaaaaa",),
        data={"internal": "not in the contract"},
        amis={"us-east-1": "ami-0aaaaaaaaaaaaaaaa", "eu-west-1": "ami-0bbbbbbbbbbbbbbbb"},
    ),
    StepResult("tag", changed=False),
)
AMIS = {"us-east-1": "ami-0aaaaaaaaaaaaaaaa", "eu-west-1": "ami-0bbbbbbbbbbbbbbbb"}
BUILT = pipeline.BuildResult(
    image="web",
    version="0.1.0",
    amis=AMIS,
    run_dir="/runs/20260101T000000Z-web",
    packer_version="1.6.6",
    steps=STEPS,
    fingerprint="f" * 64,
    base_ami="ami-0cccccccccccccccc",
    timings={"render": 0.25, "packer": 61.5},
)
FIXED: dict[str, tuple[Any, str, object]] = {
    "validate": (
        pipeline,
        "validate",
        pipeline.ValidateResult(
            config="packerpy.toml",
            packer_version="1.6.6",
            images=(
                pipeline.ImageCheck(
                    "web",
                    "amazon-ebs.pkr.hcl.j2",
                    ("render", "python-hcl2", "packer fmt", "packer validate"),
                ),
            ),
        ),
    ),
    "render": (
        pipeline,
        "render_to",
        pipeline.RenderResult(
            "web", "/out/web.pkr.hcl", "/out/web.pkrvars.hcl", "amazon-ebs.pkr.hcl.j2", "1.6.6"
        ),
    ),
    "build": (pipeline, "build", BUILT),
    "skipped": (
        pipeline,
        "build",
        pipeline.BuildResult(
            **{
                **BUILT.__dict__,
                "skipped": True,
                "reason": "ami-0aaaaaaaaaaaaaaaa has these inputs",
            }
        ),
    ),
    "publish": (
        publish,
        "publish",
        publish.PublishResult(
            image="web",
            version="0.1.0",
            amis=AMIS,
            dry_run=True,
            prune=False,
            steps=STEPS,
            calls=7,
            mutating=(("eu-west-1", "CopyImage"),),
        ),
    ),
    "version show": (
        queries,
        "show",
        queries.VersionShow("web", "0.1.0", None, False, {"major": "1.0.0", "minor": "0.2.0"}),
    ),
    "images list": (
        queries,
        "list_images",
        queries.ImageList(
            "web",
            (
                catalog.Published(
                    "0.1.0",
                    AMIS,
                    {"packerpy:version": "0.1.0"},
                    "2026-01-01T00:00:00.000Z",
                    descriptions={"us-east-1": {"internal": "raw DescribeImages entry"}},
                ),
            ),
        ),
    ),
    "outdated": (
        queries,
        "outdated",
        queries.OutdatedResult(
            outdated=(
                queries.Outdated(
                    "web", "0.1.0", "ami-0cccccccccccccccc", "ami-0dddddddddddddddd", "base-2"
                ),
            ),
            up_to_date=("api",),
            not_checked={"db": "pinned base AMI"},
        ),
    ),
    "doctor": (
        doctor,
        "run",
        doctor.Report(
            (
                doctor.Check("packer", "ok", "packer 1.9.4 at /usr/bin/packer (plugins)"),
                doctor.Check("amazon plugin", "warn", "no amazon plugin", "packer init"),
                doctor.Check("config", "fail", "packerpy.toml: bad", "fix it"),
                doctor.Check("ec2 endpoint", "skip", "not checked: no AWS credentials"),
            )
        ),
    ),
}
FIXED["reap"] = (
    reaper,
    "reap",
    reaper.ReapResult(
        regions=("us-east-1",),
        plan=(
            Action("us-east-1", "keep", ("i-0live",), "(run r1@host is running)", mutating=False),
            Action("us-east-1", "terminate", ("i-0dead",), "and wait until terminated"),
            Action(
                "us-east-1", "delete-security-group", ("sg-1", "packer_6b08d455-a"), "(of i-0dead)"
            ),
            Action("us-east-1", "delete-key-pair", ("packer_6b08d455-b",), "(of i-0dead)"),
        ),
        outcome=Outcome(dry_run=True),
        calls=4,
        mutating=(),
    ),
)
BOX = sandbox.Sandbox(
    pid=4242,
    port=5000,
    endpoint_url="http://127.0.0.1:5000",
    state_file="/state/sandbox.json",
    log_file="/state/sandbox.log",
    running=True,
    started=True,
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    scaffold.init("web", tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(capsys: pytest.CaptureFixture[str], root: Path, *argv: str) -> dict[str, Any]:
    """Run argv in process; what it printed, with volatile paths normalised."""
    code = run(list(argv))
    printed = capsys.readouterr()

    def clean(text: str) -> str:
        text = text.replace(str(root), "<project>")
        return re.sub(r"\S*crash-\d{8}T\d{6}Z-[0-9a-f]{8}\.log", "<crash-log>", text)

    stdout = clean(printed.out)
    shown: Any = json.loads(stdout) if "--json" in argv else stdout.splitlines()
    return {
        "argv": [clean(arg) for arg in argv],
        "exit_code": code,
        "stdout": shown,
        "stderr": clean(printed.err),
    }


def check(name: str, value: Any) -> None:
    path = SNAPSHOTS / f"{name.replace(' ', '-')}.json"
    text = json.dumps(value, indent=2) + "\n"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"no snapshot {path.name}: run with PACKERPY_UPDATE_SNAPSHOTS=1"
    assert json.loads(path.read_text()) == value, f"{path.name} changed (see the docstring)"


def both(capsys: pytest.CaptureFixture[str], root: Path, name: str, *argv: str) -> None:
    """Pin the command's --json envelope and its text output."""
    check(name, invoke(capsys, root, *argv, "--json"))
    check(f"{name}.text", invoke(capsys, root, *argv))


@pytest.mark.parametrize(
    ("name", "argv"),
    [
        ("validate", ["validate"]),
        ("render", ["render", "web"]),
        ("build", ["build", "web"]),
        ("skipped", ["build", "web"]),
        ("publish", ["publish", "web", "0.1.0", "--dry-run"]),
        ("version show", ["version", "show", "web"]),
        ("images list", ["images", "list", "web"]),
        ("outdated", ["outdated"]),
        ("reap", ["reap"]),
        ("doctor", ["doctor"]),
    ],
)
def test_commands_needing_aws_or_packer(
    name: str,
    argv: list[str],
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    module, function, result = FIXED[name]
    monkeypatch.setattr(module, function, lambda *_a, **_k: result)
    both(capsys, project, name, *argv)


def test_commands_run_for_real(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    check("init", invoke(capsys, project, "init", "api", "--dir", str(project / "a"), "--json"))
    check("init.text", invoke(capsys, project, "init", "api", "--dir", str(project / "b")))
    both(capsys, project, "lint", "lint")
    check("version-bump", invoke(capsys, project, "version", "bump", "web", "minor", "--json"))
    check("version-bump.text", invoke(capsys, project, "version", "bump", "web", "patch"))
    # An access key id as AWS documents it (not a real one), split so scanners skip this file.
    key = "AKIA" + "IOSFODNN7EXAMPLE"
    (project / "prod.pkrvars.hcl").write_text(f'access_key = "{key}"\n')
    both(capsys, project, "lint-errors", "lint")


def test_sandbox(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sandbox, "start", lambda *_a, **_k: BOX)
    monkeypatch.setattr(sandbox, "status", lambda *_a, **_k: BOX)
    monkeypatch.setattr(sandbox, "stop", lambda *_a, **_k: BOX)
    both(capsys, project, "sandbox start", "sandbox", "start")
    both(capsys, project, "sandbox status", "sandbox", "status")
    both(capsys, project, "sandbox stop", "sandbox", "stop")
    stale = dataclasses.replace(BOX, running=False, stale="process 4242 is not running")
    monkeypatch.setattr(sandbox, "stop", lambda *_a, **_k: stale)
    both(capsys, project, "sandbox stop-stale", "sandbox", "stop")
    monkeypatch.setattr(sandbox, "status", lambda *_a, **_k: None)
    monkeypatch.setattr(sandbox, "stop", lambda *_a, **_k: None)
    both(capsys, project, "sandbox status-none", "sandbox", "status")
    both(capsys, project, "sandbox stop-none", "sandbox", "stop")


def test_failures(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failed(*_a: object, **_k: object) -> None:
        raise PackerError("packer build failed (exit 1): boom", tail=["line 1", "line 2"])

    def crashed(*_a: object, **_k: object) -> None:
        raise RuntimeError("kaput")

    def interrupted(*_a: object, **_k: object) -> None:
        raise KeyboardInterrupt

    def read_only(*_a: object, **_k: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(pipeline, "build", failed)
    both(capsys, project, "fail-build", "build", "web")
    monkeypatch.setattr(pipeline, "validate", crashed)
    both(capsys, project, "fail-internal", "validate")
    monkeypatch.setattr(publish, "publish", interrupted)
    both(capsys, project, "fail-interrupted", "publish", "web", "0.1.0")
    both(capsys, project, "fail-no-image", "render", "nope")
    with monkeypatch.context() as patched:  # a read-only project: exit 12 naming the path
        patched.setattr(tempfile, "mkstemp", read_only)
        both(capsys, project, "fail-environment", "version", "bump", "web", "patch")
    config = project / "packerpy.toml"
    config.write_text(config.read_text().replace('version = "0.1.0"', 'version = "one"'))
    both(capsys, project, "fail-config", "version", "bump", "web", "patch")


@pytest.mark.parametrize(
    ("name", "argv"),
    [
        ("usage-unknown-command", ["nosuch"]),
        ("usage-bad-option", ["lint", "--nosuch"]),
        ("usage-missing-argument", ["version", "show"]),
    ],
)
def test_usage_errors(
    name: str, argv: list[str], project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both(capsys, project, name, *argv)


def test_schema_envelope_holds_the_config_schema(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from packerpy import config

    shown = invoke(capsys, project, "schema", "--json")
    assert shown["exit_code"] == 0
    assert shown["stdout"] == {
        "schema": 1,
        "ok": True,
        "command": "schema",
        "data": config.json_schema(),
        "messages": [],
        "exit_code": 0,
    }
    assert (
        json.loads("\n".join(invoke(capsys, project, "schema")["stdout"])) == config.json_schema()
    )


def test_contract_models_json_schemas() -> None:
    schemas = {name: model.model_json_schema() for name, model in contract.DATA_MODELS.items()}
    check("contract-schemas", {"envelope": contract.Envelope.model_json_schema(), **schemas})


# --- cleanup (retention) ---------------------------------------------------------------------
def _cleanup_result() -> tuple[Prepared, CleanupResult]:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    old = Ami(
        "us-east-1",
        "ami-0old",
        "web",
        "0.1.0",
        datetime(2026, 1, 1, tzinfo=UTC),
        (Snapshot("snap-0old", 8),),
    )
    new = Ami(
        "us-east-1",
        "ami-0new",
        "web",
        "0.2.0",
        datetime(2026, 11, 1, tzinfo=UTC),
        (Snapshot("snap-0new", 8),),
    )
    decisions = (
        Decision(old, False, ("2nd newest release (keep_last = 1)", "330 d old (keep_days = 30)")),
        Decision(new, True, ("1st newest release (keep_last = 1)", "instance i-0abc (running)")),
    )
    plan = (Action("us-east-1", "delete", ("ami-0old", "snap-0old"), "(web 0.1.0, 8 GiB)"),)
    costs = (RegionCost("us-east-1", 1, 1, 8, 0.4),)
    prices = Prices(0.05, 0.0125, "2026-11-27")
    outcome = Outcome(dry_run=True, skipped=plan)
    scope = Scope("acme", "/packerpy", ("us-east-1",), {"web": None})
    prepared = retention.Prepared(scope, decisions, plan, costs, prices, now)
    result = retention.CleanupResult(
        regions=("us-east-1",),
        decisions=decisions,
        plan=plan,
        outcome=outcome,
        costs=costs,
        total=RegionCost("total", 1, 1, 8, 0.4),
        prices=prices,
        dry_run=True,
        calls=9,
        mutating=(),
        reads={"DescribeImages": 2},
        now=now,
    )
    return prepared, result


def test_cleanup(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prepared, result = _cleanup_result()
    monkeypatch.setattr(retention, "prepare", lambda *_a, **_k: prepared)
    monkeypatch.setattr(retention, "execute", lambda *_a, **_k: result)
    both(capsys, project, "cleanup", "cleanup")


SEVERAL = many.ManyResult(
    (
        many.ImageOutcome("api", "failed", "1.0.0", "/runs/20260101T000000Z-api", 8, "lookup",
                          "aws us-east-1: describe base AMI ami-12345678 failed"),
        many.ImageOutcome("web", "built", "0.1.0", "/runs/20260101T000000Z-web", 0, amis=AMIS),
    )
)  # fmt: skip


def test_several_images_and_a_failed_builds_run_record(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with (project / "packerpy.toml").open("a") as config:
        config.write('\n[images.api]\nversion = "1.0.0"\nbase = { ami = "ami-12345678" }\n')
    monkeypatch.setattr(many, "build_many", lambda *_a, **_k: SEVERAL)
    both(capsys, project, "build-several", "build", "--all", "-j", "2")

    def failed(*_a: object, **_k: object) -> None:
        error = PackerError("packer build failed (exit 1): boom", tail=["line 1"])
        error.data = {"image": "web", "version": "0.1.0", "run_dir": "/runs/r", "phase": "bake",
                      "log": "/runs/r/packer.log", "exit_code": 6}  # fmt: skip
        raise error

    monkeypatch.setattr(pipeline, "build", failed)
    both(capsys, project, "fail-build-data", "build", "web")
