"""The compliance scan in the rendered template: its environment and the results download."""

from __future__ import annotations

from pathlib import Path

import pytest

from packerpy.errors import ConfigError
from tests.render.test_jinja import VARIANTS, rendered


def test_compliance_scan_env_and_results_download(tmp_path: Path) -> None:
    text = VARIANTS["ssh"].replace(
        'provisioners = ["probe", { script = "app.sh" }]',
        'provisioners = ["probe", "compliance"]\n'
        '[images.web.compliance]\nprofile = "anssi_np_nt28_average"\nkeep_scanner = true\n',
    )
    result = rendered(tmp_path, text).text
    assert (
        'environment_vars = ["COMPLIANCE_KEEP_SCANNER=1", '
        '"COMPLIANCE_PROFILE=anssi_np_nt28_average", "COMPLIANCE_REQUIRED=1"]'
    ) in result
    # Packer downloads directory D/ as destination/D: the run record's compliance/.
    assert (
        'provisioner "file" {\n    direction   = "download"\n    source      = "/var/lib/packerpy/compliance/"\n    destination = "${path.root}/"\n  }'
        in result
    )
    unlisted = text.replace('provisioners = ["probe", "compliance"]', 'provisioners = ["probe"]')
    with pytest.raises(ConfigError) as err:
        rendered(tmp_path / "b", unlisted)
    assert err.value.message.endswith(
        "images.web.compliance is set but provisioners does not list 'compliance': add it after "
        "every other provisioner (before 'scrub')"
    )
