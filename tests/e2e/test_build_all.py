"""`build --all` and `build A B` with -j: one run record each, one summary, the worst exit."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import reset_moto
from tests.e2e.test_build_passthrough import sandboxed
from tests.helpers import envelope, run_cli

pytestmark = pytest.mark.e2e

# A second image whose pinned base AMI does not exist: it fails in lookup, before packer.
API = """
[images.api]
version = "1.0.0"
template = "amazon-ebs"
instance_type = "t3.micro"
encrypt = true
regions = ["us-east-1"]
base = { ami = "ami-12345678" }
communicator = { type = "none" }
"""


def test_all_images_concurrently_one_summary_worst_exit(moto_endpoint: str, tmp_path: Path) -> None:
    reset_moto(moto_endpoint)
    env = sandboxed(moto_endpoint, tmp_path / "aws-empty")
    root = tmp_path / "project"
    root.mkdir()
    assert run_cli("init", "web", cwd=root, env=env).returncode == 0
    with (root / "packerpy.toml").open("a") as config:
        config.write(API)

    done = run_cli("build", "--all", "-j", "2", "--json", cwd=root, env=env)
    assert done.returncode == 8, done.stderr
    shown = envelope(done)
    assert (shown["ok"], shown["exit_code"]) == (False, 8)
    data = shown["data"]
    assert (data["built"], data["skipped"], data["failed"], data["exit_code"]) == (1, 0, 1, 8)
    api, web = data["images"]
    assert (api["image"], api["status"], api["exit_code"], api["phase"]) == (
        "api", "failed", 8, "lookup"
    )  # fmt: skip
    assert api["error"].startswith("aws us-east-1: describe base AMI ami-12345678 failed")
    assert (web["image"], web["status"], web["exit_code"]) == ("web", "built", 0)
    assert set(web["amis"]) == {"us-east-1"}
    # One run record each, saying the same.
    records = {
        name: json.loads((Path(entry["run_dir"]) / "result.json").read_text())
        for name, entry in (("api", api), ("web", web))
    }
    assert (records["api"]["exit_code"], records["api"]["phase"]) == (8, "lookup")
    assert (records["web"]["exit_code"], records["web"]["ok"]) == (0, True)
    # Off a terminal, each image's progress is timestamped lines naming the image (cli/progress).
    assert re.search(r"^\S+Z web phase: bake$", done.stderr, re.M), done.stderr

    # Named images in text mode, web now published from the same inputs: a table, then counts.
    again = run_cli("build", "web", "api", "-j", "1", cwd=root, env=env)
    assert again.returncode == 8
    lines = again.stdout.splitlines()
    assert lines[0].split() == ["image", "version", "status", "exit", "run", "record", "/", "error"]
    assert lines[1].split()[:4] == ["web", "0.1.0", "skipped", "0"]
    assert lines[2].split()[:4] == ["api", "1.0.0", "failed", "8"]
    assert lines[-1] == "0 built, 1 skipped, 1 failed; exit 8"
