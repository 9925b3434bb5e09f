"""r2.2: HCL's own template markers in a config value are carried literally through packer."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit

from tests.helpers import invoke, run_cli

pytestmark = pytest.mark.e2e


def test_r2_2_literal_hcl_markers_load_render_and_pass_packer_validate(
    aws: str, tmp_path: Path
) -> None:
    done = invoke("init", "web", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "packerpy.toml"
    doc = tomlkit.parse(path.read_text())
    doc["images"]["web"]["tags"] = {"team": "${", "cost": "a %{", "note": "$${x}"}  # type: ignore[index]
    path.write_text(tomlkit.dumps(doc))

    validated = run_cli("validate", cwd=tmp_path)
    assert validated.returncode == 0, validated.stderr
    assert "packer validate" in validated.stdout
    rendered = run_cli("render", "web", "--out", "out", cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    var_file = (tmp_path / "out" / "web.pkrvars.hcl").read_text()
    # HCL escapes: packer reads "$${" back as the literal "${" (packer console, review 2.2).
    assert '"team" = "$${"' in var_file and '"cost" = "a %%{"' in var_file
