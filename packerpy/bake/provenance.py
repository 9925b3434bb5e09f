"""Where an image came from: git state, build inputs' fingerprint, and the tags that record them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from packerpy import naming
from packerpy.support import proc

# Bumped when what the fingerprint covers changes, so old and new never compare equal by accident.
# 2: the amazon plugin version is covered, and templates carry no machine path (review f2, f11).
FINGERPRINT_SCHEME = "2"
# Paths under the project root that packerpy writes itself (as in scaffold's .gitignore).
OWN_FILES = (".packerpy", "build", ".packerpy.toml.lock")


@dataclass(frozen=True)
class GitState:
    sha: str  # "none" outside a git work tree
    dirty: bool


def git_state(root: Path) -> GitState:
    """HEAD and whether the work tree has changes; 'none' when root is not in a git repo."""
    try:
        head = proc.run(["git", "rev-parse", "HEAD"], cwd=root, timeout=10)
        if head.returncode != 0:
            return GitState(sha="none", dirty=False)
        # packerpy's own files (run records, sandbox state, rendered output) are not the
        # project's changes, whether or not a .gitignore says so (ux review 10). `:/` keeps the
        # whole repository in view; the excludes are relative to root.
        status = proc.run(
            ["git", "status", "--porcelain", "--", ":/", *(f":!{p}" for p in OWN_FILES)],
            cwd=root,
            timeout=30,
        )
    except proc.ToolMissing:
        return GitState(sha="none", dirty=False)
    return GitState(sha=head.output.strip(), dirty=bool(status.output.strip()))


def fingerprint(
    *,
    template: str,
    assets: Mapping[str, bytes],
    variables: Mapping[str, object],
    base_ami: str,
    packer_version: str,
    secret_names: Sequence[str] = (),
    amazon_plugin: str = "",
) -> str:
    """SHA-256 over what decides an image's content, and nothing that merely names it.

    The template carries no version, AMI name or build time (those travel in the var file), so
    a version bump alone leaves the fingerprint as it was. `amazon_plugin` is the plugin
    version the template was rendered for (render.options.AmazonPlugin.label): it decides
    which builder code runs. Each part is length-prefixed so no
    two different inputs can concatenate to the same bytes.
    """
    digest = hashlib.sha256()

    def part(label: str, data: bytes) -> None:
        digest.update(label.encode() + b"\0" + len(data).to_bytes(8, "big") + data)

    part("scheme", FINGERPRINT_SCHEME.encode())
    part("template", template.encode())
    for name in sorted(assets):
        part(f"asset:{name}", assets[name])
    part("variables", json.dumps(variables, sort_keys=True, separators=(",", ":")).encode())
    # Secrets count by name only: their values must not be derivable from a tag.
    part("secrets", json.dumps(sorted(secret_names)).encode())
    part("base-ami", base_ami.encode())
    part("packer", packer_version.encode())
    part("amazon-plugin", amazon_plugin.encode())
    return digest.hexdigest()


def tags(
    *,
    git: GitState,
    base_ami: str,
    base_ami_name: str,
    fingerprint: str,
    packer_version: str,
    built_at: str,
    amazon_plugin: str = "",
) -> dict[str, str]:
    plugin = {naming.AMAZON_PLUGIN_TAG: amazon_plugin} if amazon_plugin else {}
    return {
        naming.GIT_SHA_TAG: git.sha,
        naming.GIT_DIRTY_TAG: "true" if git.dirty else "false",
        naming.BASE_AMI_TAG: base_ami,
        naming.BASE_AMI_NAME_TAG: base_ami_name[:256],
        naming.FINGERPRINT_TAG: fingerprint,
        naming.PACKER_VERSION_TAG: packer_version,
        naming.BUILT_AT_TAG: built_at,
        **plugin,
    }
