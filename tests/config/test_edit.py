"""packerpy.config.edit: in-place edits of packerpy.toml (set_version and bump)."""

from __future__ import annotations

import os
import threading
import tomllib
from pathlib import Path

import pytest
from filelock import FileLock

from packerpy import config
from packerpy.config import edit
from packerpy.errors import EXIT_CONFIG, ConfigError
from tests.helpers import make_project

# --- set_version -----------------------------------------------------------------------------

CONFIG = """\
# Images baked by CI.
[project]
name = "acme"

[images]
# The database image is pinned inline.
db = { version = "2.0.0-rc.1", base = { ami = "ami-03cf127a" } }  # next: 2.0.0

[images.web]  # the web tier
template = "amazon-ebs"
# Bumped by the release job; keep the comment.
version    =    "1.4.2"   # release line
base = { ami = "ami-03cf127a" }

[images.worker]
version = '1.4.2'
base = { ami = "ami-03cf127a" }
"""


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """CONFIG written to packerpy.toml in the (current) temporary directory."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "packerpy.toml"
    path.write_bytes(CONFIG.encode())
    return path


def _files(directory: Path) -> list[str]:
    """The directory's files apart from the edit lock, which stays by design (flock on a file
    that is deleted after use would let a waiter and a newcomer both hold "the" lock)."""
    return sorted(p.name for p in directory.iterdir() if p.name != ".packerpy.toml.lock")


def test_set_version_in_a_table_changes_only_the_version(config_file: Path) -> None:
    old = edit.set_version(config_file, "web", "1.5.0")
    assert old == "1.4.2"
    assert type(old) is str
    expected = CONFIG.replace(
        'version    =    "1.4.2"   # release line', 'version    =    "1.5.0"   # release line'
    )
    assert expected != CONFIG
    assert config_file.read_bytes() == expected.encode()
    assert tomllib.loads(config_file.read_text())["images"]["web"]["version"] == "1.5.0"
    assert _files(config_file.parent) == ["packerpy.toml"]  # no temp file left behind


def test_set_version_in_an_inline_table(config_file: Path) -> None:
    assert edit.set_version(config_file, "db", "2.0.0") == "2.0.0-rc.1"
    expected = CONFIG.replace('db = { version = "2.0.0-rc.1",', 'db = { version = "2.0.0",')
    assert expected != CONFIG
    assert config_file.read_bytes() == expected.encode()
    assert _files(config_file.parent) == ["packerpy.toml"]


def test_set_version_keeps_literal_quotes(config_file: Path) -> None:
    assert edit.set_version(config_file, "worker", "1.5.0-rc.1+build.3") == "1.4.2"
    expected = CONFIG.replace("version = '1.4.2'", "version = '1.5.0-rc.1+build.3'")
    assert config_file.read_bytes() == expected.encode()


def test_set_version_with_dotted_keys(tmp_path: Path) -> None:
    text = '[images]\nweb.version = "1.0.0"  # dotted\nweb.base.ami = "ami-03cf127a"\n'
    path = tmp_path / "packerpy.toml"
    path.write_text(text)
    assert edit.set_version(path, "web", "1.0.1") == "1.0.0"
    assert path.read_text() == text.replace('"1.0.0"', '"1.0.1"')


def test_set_version_keeps_crlf_and_permissions(config_file: Path) -> None:
    config_file.write_bytes(CONFIG.replace("\n", "\r\n").encode())
    config_file.chmod(0o640)
    edit.set_version(config_file, "web", "1.5.0")
    expected = CONFIG.replace('=    "1.4.2"', '=    "1.5.0"').replace("\n", "\r\n")
    assert config_file.read_bytes() == expected.encode()
    assert config_file.stat().st_mode & 0o777 == 0o640


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_set_version_writes_through_a_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real.toml"
    real.write_text(CONFIG)
    link = tmp_path / "packerpy.toml"
    link.symlink_to(real)
    edit.set_version(link, "web", "1.5.0")
    assert link.is_symlink()
    assert tomllib.loads(real.read_text())["images"]["web"]["version"] == "1.5.0"


def _error(path: Path, image: str, version: str) -> str:
    before = path.read_bytes()
    with pytest.raises(ConfigError) as info:
        edit.set_version(path, image, version)
    assert info.value.exit_code == EXIT_CONFIG
    assert "\n" not in info.value.message
    assert path.read_bytes() == before  # nothing written on error
    return info.value.message


def test_set_version_missing_image(config_file: Path) -> None:
    assert _error(config_file, "api", "1.0.0") == "packerpy.toml: images.api: no such image"


def test_set_version_missing_version_key(config_file: Path) -> None:
    config_file.write_text(CONFIG.replace("version = '1.4.2'\n", ""))
    assert (
        _error(config_file, "worker", "1.0.0")
        == "packerpy.toml: images.worker.version: is required"
    )


def test_set_version_rejects_an_invalid_new_version(config_file: Path) -> None:
    assert _error(config_file, "web", "1.0") == (
        "packerpy.toml: images.web.version: '1.0' is not a semantic version"
    )


def test_set_version_no_images_table(config_file: Path) -> None:
    config_file.write_text('[project]\nname = "x"\n')
    assert _error(config_file, "web", "1.0.0") == "packerpy.toml: images.web: no such image"


def test_set_version_non_string_version(config_file: Path) -> None:
    config_file.write_text("[images.web]\nversion = 1\n")
    assert (
        _error(config_file, "web", "1.0.0")
        == "packerpy.toml: images.web.version: 1 is not a string"
    )


def test_set_version_invalid_toml(config_file: Path) -> None:
    config_file.write_text("[images.web\n")
    assert _error(config_file, "web", "1.0.0").startswith("packerpy.toml: not valid TOML: ")


def test_set_version_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^packerpy\.toml: cannot read: "):
        edit.set_version(Path("packerpy.toml"), "web", "1.0.0")


def test_set_version_label_outside_cwd(
    config_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(ConfigError) as info:
        edit.set_version(config_file, "api", "1.0.0")
    assert info.value.message == f"{config_file}: images.api: no such image"


# --- bump ------------------------------------------------------------------------------------


def test_bump_rewrites_the_version_and_reports_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = make_project(tmp_path, images={"web": {"version": "1.4.2"}})
    done = edit.bump(config.load(path), "web", "minor")
    assert done == edit.BumpResult(image="web", old="1.4.2", new="1.5.0", config="packerpy.toml")
    assert config.load(path).image("web").version == "1.5.0"


def test_bump_prerelease_uses_the_images_token(tmp_path: Path) -> None:
    path = make_project(tmp_path, images={"web": {"version": "1.5.0", "prerelease_token": "beta"}})
    assert edit.bump(config.load(path), "web", "prerelease").new == "1.5.1-beta.1"
    assert edit.bump(config.load(path), "web", "prerelease").new == "1.5.1-beta.2"


def test_bump_release_of_a_release_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = make_project(tmp_path)
    before = path.read_bytes()
    with pytest.raises(ConfigError) as info:
        edit.bump(config.load(path), "web", "release")
    assert info.value.message == "version bump web release: 1.0.0 is already a release"
    assert path.read_bytes() == before


def test_bump_unknown_image_names_the_configured_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    project = config.load(make_project(tmp_path))
    with pytest.raises(ConfigError) as info:
        edit.bump(project, "api", "patch")
    assert info.value.message == "packerpy.toml: images.api: no such image (configured: web)"


# --- the lock (reliability review 4.6) -----------------------------------------------------------


def test_r4_6_concurrent_bumps_never_lose_an_update(config_file: Path) -> None:
    """10 threads bump patch at once, each from a project loaded before any bump: the version
    advances by exactly 10 and every bump reports a different new version."""
    projects = [config.load(config_file) for _ in range(10)]
    start = threading.Barrier(10)
    results: list[edit.BumpResult] = []

    def one(project: config.Project) -> None:
        start.wait()
        results.append(edit.bump(project, "web", "patch"))

    threads = [threading.Thread(target=one, args=(p,)) for p in projects]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert tomllib.loads(config_file.read_text())["images"]["web"]["version"] == "1.4.12"
    assert sorted(r.new for r in results) == sorted(f"1.4.{n}" for n in range(3, 13))
    assert (config_file.parent / ".packerpy.toml.lock").exists()


def test_r4_6_a_held_lock_times_out_with_a_clear_error(config_file: Path) -> None:
    with FileLock(edit.lock_path(config_file)), pytest.raises(ConfigError) as info:
        edit.bump(config.load(config_file), "web", "patch", timeout=0.2)
    assert info.value.exit_code == EXIT_CONFIG
    assert info.value.message.startswith("packerpy.toml: another packerpy is editing it (lock ")
    assert tomllib.loads(config_file.read_text())["images"]["web"]["version"] == "1.4.2"
