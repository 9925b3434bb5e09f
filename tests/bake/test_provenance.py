from __future__ import annotations

import subprocess
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from packerpy import naming
from packerpy.bake import provenance
from packerpy.render import jinja as render
from tests.render.test_jinja import V1_9, VARIANTS, project_for, settings

BASE = {
    "template": 'source "amazon-ebs" "web" {}\n',
    "assets": {"scripts/00-harden.sh": b"#!/bin/sh\necho hi\n"},
    "variables": {"release": "a", "replicas": 3},
    "base_ami": "ami-0b0b0b0b0b0b0b0b0",
    "packer_version": "1.6.6",
}


def fp(**changes: object) -> str:
    return provenance.fingerprint(**{**BASE, **changes})  # type: ignore[arg-type]


def test_same_inputs_same_fingerprint() -> None:
    assert fp() == fp()
    assert fp(variables={"replicas": 3, "release": "a"}) == fp()  # key order does not matter


@given(st.sampled_from(sorted(BASE)), st.integers(min_value=0, max_value=10_000))
def test_any_changed_byte_changes_the_fingerprint(field: str, position: int) -> None:
    value = BASE[field]
    if isinstance(value, str):
        i = position % len(value)
        changed: object = value[:i] + chr(ord(value[i]) ^ 1) + value[i + 1 :]
    elif isinstance(value, dict) and field == "assets":
        data = value["scripts/00-harden.sh"]
        i = position % len(data)
        changed = {"scripts/00-harden.sh": data[:i] + bytes([data[i] ^ 1]) + data[i + 1 :]}
    else:
        changed = {**value, "release": "a" + str(position)}
    assert fp(**{field: changed}) != fp()


def test_parts_cannot_run_into_each_other() -> None:
    assert fp(template="ab", base_ami="c") != fp(template="a", base_ami="bc")
    assert fp(assets={"a": b"x", "b": b""}) != fp(assets={"a": b"", "b": b"x"})


def test_git_state(tmp_path: Path) -> None:
    assert provenance.git_state(tmp_path) == provenance.GitState(sha="none", dirty=False)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "f").write_text("x")
    subprocess.run([*git, "add", "f"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=tmp_path, check=True)
    clean = provenance.git_state(tmp_path)
    assert len(clean.sha) == 40 and not clean.dirty
    (tmp_path / "f").write_text("y")
    assert provenance.git_state(tmp_path) == provenance.GitState(sha=clean.sha, dirty=True)


def test_packerpys_own_files_never_make_the_tree_dirty(tmp_path: Path) -> None:
    # ux review 10 / 8.3: an untracked .packerpy/ tagged every later build git-dirty=true.
    repo = tmp_path / "repo"
    root = repo / "project"  # a project in a subdirectory: the rest of the repo still counts
    root.mkdir(parents=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
    (root / "packerpy.toml").write_text("x")
    subprocess.run([*git, "add", "."], cwd=repo, check=True)
    subprocess.run([*git, "commit", "-qm", "x"], cwd=repo, check=True)
    for own in (".packerpy/runs/r1/result.json", "build/web.pkr.hcl"):
        (root / own).parent.mkdir(parents=True, exist_ok=True)
        (root / own).write_text("{}")
    assert not provenance.git_state(root).dirty
    (root / "buildx").write_text("a project file whose name starts like build/")
    assert provenance.git_state(root).dirty
    (root / "buildx").unlink()
    (repo / "outside").write_text("a change elsewhere in the repository")
    assert provenance.git_state(root).dirty


def test_secrets_count_by_name_only() -> None:
    assert fp(secret_names=["DB_PASSWORD"]) != fp()
    assert fp(secret_names=["A", "B"]) == fp(secret_names=["B", "A"])


def test_f2_the_amazon_plugin_is_fingerprinted_and_tagged() -> None:
    assert fp(amazon_plugin="1.3.9") != fp(amazon_plugin="1.2.1") != fp()
    git = provenance.GitState(sha="abc", dirty=False)
    common = {
        "git": git,
        "base_ami": "ami-1",
        "base_ami_name": "base",
        "fingerprint": "f",
        "packer_version": "1.9.4",
        "built_at": "2026-11-27T00:00:00Z",
    }
    tags = provenance.tags(**common, amazon_plugin="1.3.9")  # type: ignore[arg-type]
    assert tags[naming.AMAZON_PLUGIN_TAG] == "1.3.9" == tags["packerpy:amazon-plugin"]
    assert naming.AMAZON_PLUGIN_TAG not in provenance.tags(**common)  # type: ignore[arg-type]


def _project_fingerprint(root: Path) -> str:
    """What bake/plan.py fingerprints, for the ssh project checked out at `root`."""
    project = project_for(root, VARIANTS["ssh"])
    result = render.render(project, "web", settings(project), V1_9)
    return provenance.fingerprint(
        template=result.text,
        assets={rel: path.read_bytes() for rel, path in result.assets.items()},
        variables=project.image("web").variables,
        base_ami="ami-03cf127a",
        packer_version=V1_9.version_text,
        secret_names=project.image("web").secrets,
        amazon_plugin=result.amazon_plugin,
    )


def test_f11_two_checkouts_in_different_directories_fingerprint_alike(tmp_path: Path) -> None:
    first = _project_fingerprint(tmp_path / "ci" / "workspace-1" / "project")
    second = _project_fingerprint(tmp_path / "home" / "dev" / "checkout")
    assert first == second  # the key file's absolute path is in neither (it is in the var file)
