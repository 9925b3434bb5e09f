"""lint/cache.py: an unchanged project is answered from the cache; any change lints again."""

from __future__ import annotations

from pathlib import Path

import pytest

from packerpy import config, lint, scaffold
from packerpy.lint import secrets
from packerpy.packer.binary import PackerInfo

INFO = PackerInfo(binary="/usr/bin/packer", version=(1, 6, 6))


def test_unchanged_project_is_not_scanned_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11 point 10: the lint gate (detect-secrets, shellcheck) ran before every build."""
    scaffold.init("web", tmp_path)
    path = tmp_path / "packerpy.toml"
    project = config.load(path)
    first = lint.lint(project, INFO)
    scans: list[str] = []
    real_scan = secrets.scan

    def counting(of: config.Project, *rest: object) -> object:
        scans.append("scan")
        return real_scan(of, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(secrets, "scan", counting)
    assert lint.lint(project, INFO) == first
    assert scans == []
    # A secret written into the config: the content changed, so lint runs and finds it.
    leaked = 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n'
    path.write_text("# " + leaked + path.read_text())
    again = lint.lint(config.load(path), INFO)
    assert scans == ["scan"]
    assert [f.rule for f in again.findings if f.rule == "PPS001"] == ["PPS001"]
    # Another packer version is another key too (PPL002 depends on it).
    lint.lint(config.load(path), PackerInfo(binary="/usr/bin/packer", version=(1, 9, 4)))
    assert scans == ["scan", "scan"]


def test_a_version_bump_rescans_only_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After `version bump` the whole result misses; only packerpy.toml goes to detect-secrets."""
    scaffold.init("web", tmp_path)
    (tmp_path / "provisioners" / "setup.sh").write_text("#!/bin/sh\necho hi\n")
    path = tmp_path / "packerpy.toml"
    first = lint.lint(config.load(path), INFO)
    detected: list[str] = []
    real_detect = secrets.detect

    def counting(file: Path) -> set[secrets.Detection]:
        detected.append(file.name)
        return real_detect(file)

    monkeypatch.setattr(secrets, "detect", counting)
    path.write_text(path.read_text().replace('version = "0.1.0"', 'version = "0.1.1"'))
    again = lint.lint(config.load(path), INFO)
    assert detected == ["packerpy.toml"]
    assert again == first
