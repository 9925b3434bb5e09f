"""--var and --var-file: parsed once, packerpy's own variables refused (issue 11.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from packerpy import config, scaffold
from packerpy.bake import inputs, provenance
from packerpy.errors import ConfigError, HostError

RESERVED = "(reserved: ami_name, image_version, run_tags, ssh_private_key_file, tags)"


@pytest.fixture
def project(tmp_path: Path) -> config.Project:
    scaffold.init("web", tmp_path)
    return config.load(tmp_path / "packerpy.toml")


def test_vars_and_var_files_are_read_in_order(project: config.Project, tmp_path: Path) -> None:
    hcl = tmp_path / "a.pkrvars.hcl"
    hcl.write_text('release = "b"\n')
    js = tmp_path / "b.pkrvars.json"
    js.write_text('{"flavour": "x"}')
    user = inputs.read_user_vars(project, "web", ["release=a=b", " flavour =c"], [hcl, js])
    assert user.pairs == (("release", "a=b"), ("flavour", "c"))
    assert user.files == ((hcl, b'release = "b"\n'), (js, b'{"flavour": "x"}'))


@pytest.mark.parametrize(
    ("pairs", "files", "message"),
    [
        (["novalue"], {}, "--var 'novalue': expected NAME=VALUE"),
        (["=x"], {}, "--var '=x': expected NAME=VALUE"),
        (["tags=x"], {}, f"--var tags: sets tags, which packerpy sets itself {RESERVED}"),
        ([], {"v.pkrvars.hcl": 'ami_name = "x"\nok = 1\n'}, "sets ami_name, which"),
        ([], {"v.json": '{"image_version": "9"}'}, "sets image_version, which"),
        ([], {"v.json": "[1]"}, "expected a JSON object of variables"),
        ([], {"v.json": "{"}, "not valid JSON"),
    ],
)
def test_bad_or_reserved_variables_are_one_line_errors(
    project: config.Project, tmp_path: Path, pairs: list[str], files: dict[str, str], message: str
) -> None:
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    with pytest.raises(ConfigError) as refused:
        inputs.read_user_vars(project, "web", pairs, paths)
    assert message in refused.value.message
    assert "\n" not in refused.value.message


def test_a_missing_var_file_names_it(project: config.Project, tmp_path: Path) -> None:
    with pytest.raises(HostError, match=r"nosuch\.pkrvars\.hcl"):
        inputs.read_user_vars(project, "web", [], [tmp_path / "nosuch.pkrvars.hcl"])


def test_secrets_are_reserved_too(project: config.Project) -> None:
    image = project.image("web").model_copy(update={"secrets": ("DB_PASSWORD",)})
    changed = config.Project(
        project.path, project.config.model_copy(update={"images": {"web": image}})
    )
    assert "db_password" in inputs.reserved(changed, "web")


def test_changed_parts_are_named_from_the_tags() -> None:
    base = provenance.Inputs("t", {}, {"a": 1}, "ami-1", "1.6.6", amazon_plugin="bundled")
    tags = {
        "packerpy:fingerprint-parts": provenance.parts_tag(base),
        "packerpy:base-ami": "ami-1",
        "packerpy:packer-version": "1.6.6",
        "packerpy:amazon-plugin": "bundled",
    }
    assert provenance.changed_parts(tags, base) == []
    other = provenance.Inputs("u", {"s": b""}, {"a": 2}, "ami-2", "1.9.4", amazon_plugin="1.3.9")
    assert provenance.changed_parts(tags, other) == [
        "template", "assets", "variables", "base AMI", "packer version", "plugin"
    ]  # fmt: skip
    cli = provenance.Inputs("t", {}, {"a": 1}, "ami-1", "1.6.6", "", "bundled", (("a", "2"),))
    assert provenance.changed_parts(tags, cli) == ["variables"]
