"""The compliance scan's part of the template contract: the provisioner's environment and the
download of its results into the run record (render/contract.py adds both)."""

from __future__ import annotations

from packerpy.config import ImageConfig
from packerpy.errors import ConfigError
from packerpy.render import hcl
from packerpy.render.views import Inventory

# The provisioner's results directory unless provisioner_env.COMPLIANCE_OUT says (under ROOT
# when provisioner_env.ROOT is set), and its place beside the rendered template.
COMPLIANCE_DEFAULT = "/var/lib/packerpy/compliance"
COMPLIANCE_NAME = "compliance"


def compliance_env(image: ImageConfig) -> dict[str, str]:
    """COMPLIANCE_* for provisioners/compliance.sh from images.NAME.compliance."""
    section = image.compliance
    if section is None:
        return {}
    env = {
        "COMPLIANCE_PROFILE": section.profile,
        "COMPLIANCE_KEEP_SCANNER": "1" if section.keep_scanner else "0",
        "COMPLIANCE_REQUIRED": "1" if section.required else "0",
    }
    if section.content:
        env["COMPLIANCE_CONTENT"] = section.content
    return env


def compliance_download(image: ImageConfig, where: str) -> Inventory | None:
    """The results directory, fetched back after every script ran.

    Packer (measured with 1.6.6 over SSH) downloads a directory `D/` into the destination as
    `destination/D`, so the instance's directory must be named `compliance` to land as the run
    record's `compliance/`.
    """
    listed = "compliance" in image.provisioners
    if image.compliance is not None and not listed:
        raise ConfigError(
            f"{where}.compliance is set but provisioners does not list 'compliance': add it "
            "after every other provisioner (before 'scrub')"
        )
    if not listed:
        return None
    if image.compliance is None and "COMPLIANCE_PROFILE" not in image.provisioner_env:
        raise ConfigError(
            f"{where}.compliance: not set, but provisioners lists 'compliance': set "
            "compliance.profile (e.g. 'anssi_np_nt28_average')"
        )
    env = image.provisioner_env
    source = env.get("COMPLIANCE_OUT", env.get("ROOT", "/").rstrip("/") + COMPLIANCE_DEFAULT)
    if source.rstrip("/").rsplit("/", 1)[-1] != COMPLIANCE_NAME:
        raise ConfigError(
            f"{where}.provisioner_env.COMPLIANCE_OUT: {source!r} must be a directory named "
            f"{COMPLIANCE_NAME!r} (it is downloaded into the run record under that name)"
        )
    return {"from": source.rstrip("/") + "/", "to": hcl.Hcl('"${path.root}/"')}
