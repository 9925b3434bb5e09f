"""scaffold.py: `packerpy init` writes a project that loads as it stands, and never overwrites."""

from __future__ import annotations

from pathlib import Path

import pytest

from packerpy import config, scaffold
from packerpy.config.models import DEFAULT_STEPS
from packerpy.errors import ConfigError, PackerpyError


def test_init_writes_a_config_that_loads_with_the_default_steps(tmp_path: Path) -> None:
    done = scaffold.init("web", tmp_path)
    assert [Path(p).relative_to(tmp_path).as_posix() for p in done.created] == [
        "packerpy.toml",
        "hcl_templates/README.md",
        "provisioners/README.md",
        ".gitignore",
    ]
    assert (tmp_path / ".gitignore").read_text() == ".packerpy/\nbuild/\n.packerpy.toml.lock\n"
    image = config.load(tmp_path / "packerpy.toml").image("web")
    assert image.steps == DEFAULT_STEPS
    assert image.encrypt


def test_init_refuses_a_bad_name_with_the_configs_rule(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        scaffold.init("Web", tmp_path)
    assert info.value.message == "init: 'Web' is not a name (lowercase letter, then a-z 0-9 _ -)"
    assert list(tmp_path.iterdir()) == []


def test_init_never_overwrites_a_config(tmp_path: Path) -> None:
    (tmp_path / "packerpy.toml").write_text("# mine\n")
    with pytest.raises(PackerpyError, match=r"already exists; not overwritten$"):
        scaffold.init("web", tmp_path)
    assert (tmp_path / "packerpy.toml").read_text() == "# mine\n"


def test_init_adds_its_ignores_to_an_existing_gitignore_once(tmp_path: Path) -> None:
    # ux review 10: without them, .packerpy/ made every build after the first git-dirty.
    (tmp_path / ".gitignore").write_text("*.pyc\nbuild/")  # no final newline
    done = scaffold.init("web", tmp_path)
    assert str(tmp_path / ".gitignore") not in done.created  # updated, not created
    assert (
        tmp_path / ".gitignore"
    ).read_text() == "*.pyc\nbuild/\n.packerpy/\n.packerpy.toml.lock\n"
    (tmp_path / "packerpy.toml").unlink()
    scaffold.init("web", tmp_path)
    assert (
        tmp_path / ".gitignore"
    ).read_text() == "*.pyc\nbuild/\n.packerpy/\n.packerpy.toml.lock\n"
