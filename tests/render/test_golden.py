"""Golden renders: the full-featured config for each packer version (and amazon plugin) users run.

A fake `packer` (PACKERPY_PACKER) reports the version and the installed plugin; every amazon-ebs
attribute rendered must be in that plugin's option list (tests/data/amazon_ebs_options/, from
builder/ebs/builder.hcl2spec.go at each tag). The renders are stored under tests/render/golden/
so that a template change is reviewed as a diff: PACKERPY_UPDATE_GOLDEN=1 rewrites them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from packerpy.packer import binary as packer
from packerpy.render import jinja as render
from packerpy.support import proc
from tests.render.test_jinja import MINIMAL, project_for, settings

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
OPTIONS = HERE.parents[0] / "data" / "amazon_ebs_options"
UPDATE = os.environ.get("PACKERPY_UPDATE_GOLDEN") == "1"
ORG = "arn:aws:organizations::111122223333:organization/o-abc123def4"
OU = "arn:aws:organizations::111122223333:ou/o-abc123def4/ou-ab12-cdef3456"
KEYS = '{ "us-east-1" = "alias/ami", "eu-west-1" = "alias/ami-eu" }'
FULL = (
    MINIMAL.replace(
        'base = { ami = "ami-03cf127a" }',
        'base = { filter = { name = "debian-12-*", owners = ["136693071363"] } }',
    )
    + f"""regions = ["us-east-1", "eu-west-1"]
encrypt = true
kms_key_ids = {KEYS}
share = {{ accounts = ["111122223333"], org_arns = ["{ORG}"], ou_arns = ["{OU}"], snapshots = true }}
tags = {{ team = "platform" }}
variables = {{ release = "2026.11", replicas = 3, flags = ["a", "b"], mixed = ["a", 1], limits = {{ cpu = 2, name = "x" }}, odd = {{ "a b" = 1, c = "d" }} }}
provisioners = ["probe", {{ script = "app.sh" }}, "inventory"]
provisioner_env = {{ HARDEN_DISABLE_SERVICES = "cups" }}
secrets = ["DB_PASSWORD"]
[images.web.communicator]
type = "ssh"
ssh_username = "admin"
ssh_private_key_file = "id_ed25519"
ssh_keypair_name = "build"
[images.web.build_env]
subnet_id = "subnet-0123456789abcdef0"
ssh_cidrs = ["10.0.0.0/16"]
"""
)


@dataclass(frozen=True)
class Case:
    packer: str
    plugin: str | None  # the installed amazon plugin; None: none installed (init installs it)
    options: str  # tests/data/amazon_ebs_options/<options>.txt
    constraint: str | None  # required_plugins' version; None: no packer block plugins
    pin: str | None = None  # [packer] amazon_plugin


CASES = {
    "packer-1.6.6": Case("1.6.6", None, "packer-v1.6.6", None),
    "packer-1.7.0": Case("1.7.0", "1.3.9", "v1.3.9", ">= 1.2.2, <= 1.3.9"),
    "packer-1.8.5": Case("1.8.5", "1.2.2", "v1.2.2", ">= 1.2.2, <= 1.3.9"),
    # Nothing installed: options are gated on the constraint's floor, whatever init picks.
    "packer-1.9.4": Case("1.9.4", None, "v1.2.2", ">= 1.2.2, <= 1.3.9"),
    "packer-1.11.2": Case("1.11.2", "1.3.9", "v1.3.9", ">= 1.2.2, <= 1.3.9"),
    "packer-1.14.0": Case("1.14.0", "1.8.2", "v1.8.2", ">= 1.2.2, < 2.0.0"),
    # A CI image pinned to the plugin packer 1.8.7-1.11 are built against (review f2).
    "packer-1.11.2-pinned-1.2.1": Case("1.11.2", "1.2.1", "v1.2.1", "= 1.2.1", pin="= 1.2.1"),
}


def fake_packer(where: Path, case: Case) -> Path:
    """Answers `version` and (from packer 1.8) `plugins installed` like the real one; render
    never runs anything else. packer 1.7 has no `plugins installed`: packerpy reads the plugin
    directory (PACKER_PLUGIN_PATH) instead, so the plugin file is created there too."""
    plugins = where / "plugins"
    (plugins / packer.AMAZON_PLUGIN_SOURCE).mkdir(parents=True)
    listed = ""
    if case.plugin:
        binary = (
            plugins
            / packer.AMAZON_PLUGIN_SOURCE
            / (f"packer-plugin-amazon_v{case.plugin}_x5.0_linux_amd64")
        )
        binary.write_text("")
        listed = str(binary)
    script = where / "packer"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = version ]; then echo "Packer v{case.packer}"; exit 0; fi\n'
        f'if [ "$1 $2" = "plugins installed" ]; then echo "{listed}"; exit 0; fi\n'
        'echo "fake packer: $* is not faked" >&2; exit 1\n'
    )
    script.chmod(0o755)
    return script


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No real plugin directory is read, and the packer version cache starts empty."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PACKER_PLUGIN_PATH", str(tmp_path / "fake" / "plugins"))
    monkeypatch.delenv("PACKER_CONFIG_DIR", raising=False)
    packer._detect.cache_clear()
    yield tmp_path
    packer._detect.cache_clear()


def option_list(name: str) -> set[str]:
    lines = (OPTIONS / f"{name}.txt").read_text().splitlines()
    assert lines[0].startswith("# amazon-ebs options of ")  # the source is recorded
    return set(lines[1:])


def render_case(root: Path, case: Case, monkeypatch: pytest.MonkeyPatch) -> render.Rendered:
    (root / "fake").mkdir(parents=True)
    monkeypatch.setenv("PACKERPY_PACKER", str(fake_packer(root / "fake", case)))
    text = FULL + (f'[packer]\namazon_plugin = "{case.pin}"\n' if case.pin else "")
    project = project_for(root / "project", text)
    return render.render(project, "web", settings(project), packer.detect())


# python-hcl2 8 keeps labels and strings quoted and marks blocks with this key.
BLOCK = "__is_block__"


def amazon_ebs(parsed: dict[str, Any]) -> dict[str, Any]:
    (source,) = parsed["source"]
    body: dict[str, Any] = source['"amazon-ebs"']['"web"']
    return {key: value for key, value in body.items() if key != BLOCK}


def unquote(value: str) -> str:
    return value.removeprefix('"').removesuffix('"')


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden_render(name: str, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES[name]
    result = render_case(isolated, case, monkeypatch)
    parsed = render.check_hcl(result.text, name)
    source = amazon_ebs(parsed)
    unknown = sorted(set(source) - option_list(case.options))
    assert not unknown, f"{name}: plugin {case.options} has no {unknown}"
    assert set(source["aws_polling"][0]) - {BLOCK} == {"delay_seconds", "max_attempts"}
    (block,) = parsed["packer"]
    if case.constraint is None:
        assert "required_plugins" not in block
        assert result.amazon_plugin == "bundled"
    else:
        (plugins,) = block["required_plugins"]
        assert unquote(plugins["amazon"]["version"]) == case.constraint
        assert unquote(plugins["amazon"]["source"]) == packer.AMAZON_PLUGIN_SOURCE
        assert result.amazon_plugin == (case.plugin or f"unresolved: {case.constraint}")
    golden = GOLDEN / f"{name}.pkr.hcl"
    if UPDATE:
        golden.write_text(result.text)
    assert golden.exists(), f"run with PACKERPY_UPDATE_GOLDEN=1 to create {golden.name}"
    assert result.text == golden.read_text(), f"{golden} differs: review, then update"


def test_f2_imds_support_only_from_plugin_1_2_2(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pinned = render_case(isolated / "a", CASES["packer-1.11.2-pinned-1.2.1"], monkeypatch)
    assert "imds_support" not in pinned.text and "metadata_options {" in pinned.text
    packer._detect.cache_clear()
    current = render_case(isolated / "b", CASES["packer-1.11.2"], monkeypatch)
    assert re.search(r'\n  imds_support += "v2.0"\n', current.text)


def test_golden_files_are_all_cases() -> None:
    assert {p.name.removesuffix(".pkr.hcl") for p in GOLDEN.glob("*.pkr.hcl")} == set(CASES)


def test_f15_render_validates_with_real_packer_from_the_project_root(tmp_path: Path) -> None:
    # `packerpy render --out build/` then `packer validate` from the project root: the scripts,
    # the manifest and the inventory are found through ${path.root}, not the working directory.
    real = packer.detect()
    if real.uses_plugins:
        pytest.skip("the real packer here needs `packer init` and the network")
    project = project_for(tmp_path, FULL)
    files = render.write(render.render(project, "web", settings(project), real), tmp_path / "build")
    assert packer.fmt_diff(real, files.template) is None
    done = proc.run(
        [real.binary, "validate", "-var-file=build/web.pkrvars.hcl", "build/web.pkr.hcl"],
        cwd=tmp_path,
        env=packer.environment(extra={"PKR_VAR_db_password": "placeholder"}),
    )
    assert done.returncode == 0, done.output
