"""`packerpy verify`'s output contract, pinned as tests/cli/test_contract.py pins the others:
the --json envelope and the text of a pass, a dry run, and a failure (exit 13, data {})."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from packerpy.errors import VerifyFailed
from packerpy.verify import run as core
from packerpy.verify.checks import CheckResult
from packerpy.verify.verdict import Verdict
from tests.cli.test_contract import (
    AMIS,
    both,
    project,  # noqa: F401 - the fixture (usefixtures below)
)

CHECKS = (
    CheckResult("available", "us-east-1", True, "ami-0aaaaaaaaaaaaaaaa is available"),
    CheckResult("launch-test", "us-east-1", True, "1 script(s) passed on i-0123456789abcdef0"),
)
PASSED = core.VerifyResult(
    image="web",
    version="0.1.0",
    amis=AMIS,
    verdict=Verdict(True, "2 checks passed", datetime(2026, 1, 1, tzinfo=UTC)),
    checks=CHECKS,
    launched=core.Launched(
        CHECKS[1],
        ("us-east-1: run-instances ami-0aaaaaaaaaaaaaaaa (t3.micro)",),
        "i-0123456789abcdef0",
        ("smoke test on host",),
    ),
    actions=("us-east-1: tag ami-0aaaaaaaaaaaaaaaa, snap-1 packerpy:verified=pass",),
    run_dir="/runs/20260101T000000Z-web",
    dry_run=False,
    seconds=4.25,
    calls=12,
    mutating=(("us-east-1", "RunInstances"), ("us-east-1", "CreateTags")),
)


@pytest.mark.usefixtures("project")  # a scaffolded project, the current directory
def test_verify_pass_dry_run_and_failure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path.cwd()
    monkeypatch.setattr(core, "verify", lambda *_a, **_k: PASSED)
    both(capsys, root, "verify", "verify", "web", "0.1.0")
    dry = core.VerifyResult(**{**PASSED.__dict__, "dry_run": True, "mutating": ()})
    monkeypatch.setattr(core, "verify", lambda *_a, **_k: dry)
    both(capsys, root, "verify-dry-run", "verify", "web", "0.1.0", "--dry-run")

    def failed(*_a: object, **_k: object) -> None:
        raise VerifyFailed(
            "web 0.1.0: verify failed: launch-permissions in eu-west-1: missing 111122223333",
            detail=["run record: /runs/20260101T000000Z-web"],
        )

    monkeypatch.setattr(core, "verify", failed)
    both(capsys, root, "fail-verify", "verify", "web", "0.1.0")
