"""Which amazon plugin a template is rendered for, and which of its newer options it may use.

packer 1.6 bundles the amazon builder; from 1.7 the template declares the plugin in
`required_plugins` and `packer init` installs it. Options are gated on the *plugin* version
that packer will load: the newest installed plugin the constraint allows, or, when none is
installed yet (init will install one), the lowest version the constraint allows, so that
whatever init picks accepts every option rendered.
"""

from __future__ import annotations

from dataclasses import dataclass

from packerpy.config import Project
from packerpy.packer.binary import PackerInfo
from packerpy.support import constraints
from packerpy.support.constraints import Triple

# amazon-ebs options packerpy renders that not every plugin has: option -> first plugin version.
# Found with `git log -S` on hashicorp/packer-plugin-amazon and its builder/ebs/builder.hcl2spec.go
# at each tag (tests/data/amazon_ebs_options/ holds those lists).
PLUGIN_OPTION_SINCE: dict[str, Triple] = {
    "metadata_options": (0, 0, 1),
    "ami_org_arns": (1, 0, 5),  # commit 1f6f80fd
    "ami_ou_arns": (1, 0, 5),
    "temporary_security_group_source_public_ip": (1, 1, 4),  # commit 27ddd9d1
    "imds_support": (1, 2, 2),  # commit 02c8a17e
}
# packer 1.6's bundled amazon-ebs has none of them: Debian's packer 1.6.6 `packer validate`
# answers "An argument named ... is not expected here" for each (measured 2026-11-27).
BUNDLED = "bundled"
UNRESOLVED = "unresolved"
# packer's minimum for what each band of templates uses: 1.7 for required_plugins, 1.14 for
# the `< 2.0.0` constraint (older packer cannot download plugins newer than 1.3.9).
_REQUIRED_BANDS = ((1, 14, 0), (1, 7, 0), (1, 6, 0))


@dataclass(frozen=True)
class AmazonPlugin:
    """The amazon builder the template is rendered for."""

    constraint: str | None  # required_plugins' version; None: packer 1.6's bundled builder
    resolved: Triple | None  # the installed plugin packer will load; None: not installed yet

    @property
    def gating_version(self) -> Triple | None:
        """The version options are gated on; None for the bundled builder."""
        if self.constraint is None:
            return None
        return self.resolved or constraints.floor(self.constraint)

    @property
    def label(self) -> str:
        """What the fingerprint and the `packerpy:amazon-plugin` tag record."""
        if self.constraint is None:
            return BUNDLED
        if self.resolved is None:
            return f"{UNRESOLVED}: {self.constraint}"
        return constraints.text(self.resolved)

    def supports(self, option: str) -> bool:
        since = PLUGIN_OPTION_SINCE.get(option)
        if since is None:
            return True
        gate = self.gating_version
        return gate is not None and gate >= since

    @property
    def options(self) -> frozenset[str]:
        """The gated options (PLUGIN_OPTION_SINCE) this builder accepts."""
        return frozenset(name for name in PLUGIN_OPTION_SINCE if self.supports(name))


def amazon_plugin(project: Project, info: PackerInfo) -> AmazonPlugin:
    """The plugin for `info`'s packer, honouring `[packer] amazon_plugin` when set."""
    constraint = info.amazon_plugin_constraint(project.config.packer.amazon_plugin)
    if constraint is None:
        return AmazonPlugin(constraint=None, resolved=None)
    return AmazonPlugin(constraint=constraint, resolved=info.resolve_amazon_plugin(constraint))


def required_version(info: PackerInfo) -> str:
    """`required_version` for the `packer {}` block: the oldest packer this render suits."""
    band = next(low for low in _REQUIRED_BANDS if info.version >= low or low == (1, 6, 0))
    return f">= {constraints.text(band)}"
