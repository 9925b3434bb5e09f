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
# 3: a hash of per-part digests; settings that cannot change the image (retries, endpoint,
# profile, AMI wait) are left out; `--var` and `--var-file` are covered (issue 11.4).
FINGERPRINT_SCHEME = "3"
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


@dataclass(frozen=True)
class Inputs:
    """What decides an image's content, and nothing that merely names it or reaches AWS."""

    template: str  # rendered with the settings that cannot change the image at their defaults
    assets: Mapping[str, bytes]
    variables: Mapping[str, object]
    base_ami: str
    packer_version: str
    secret_names: Sequence[str] = ()
    amazon_plugin: str = ""
    # `build --var NAME=VALUE` in the order given, and each `--var-file`'s bytes in order.
    cli_vars: Sequence[tuple[str, str]] = ()
    var_files: Sequence[bytes] = ()


def _digest(*pieces: tuple[str, bytes]) -> str:
    """SHA-256 over labelled, length-prefixed pieces: no two inputs concatenate alike."""
    digest = hashlib.sha256()
    for label, data in pieces:
        digest.update(label.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def part_digests(inputs: Inputs) -> dict[str, str]:
    """Each part of the fingerprint on its own, so a changed build can say what changed."""
    return {
        "template": _digest(("template", inputs.template.encode())),
        "assets": _digest(*((f"asset:{n}", inputs.assets[n]) for n in sorted(inputs.assets))),
        "variables": _digest(
            ("variables", _json(inputs.variables)),
            # Secrets count by name only: their values must not be derivable from a tag.
            ("secrets", _json(sorted(inputs.secret_names))),
            ("cli-vars", _json([list(pair) for pair in inputs.cli_vars])),
            *((f"var-file:{i}", data) for i, data in enumerate(inputs.var_files)),
        ),
        "base AMI": _digest(("base-ami", inputs.base_ami.encode())),
        "packer version": _digest(("packer", inputs.packer_version.encode())),
        "plugin": _digest(("amazon-plugin", inputs.amazon_plugin.encode())),
    }


def fingerprint_of(inputs: Inputs) -> str:
    """SHA-256 over the scheme and every part's digest (part_digests).

    The template carries no version, AMI name or build time (those travel in the var file), so
    a version bump alone leaves the fingerprint as it was. `amazon_plugin` is the plugin
    version the template was rendered for (render.options.AmazonPlugin.label): it decides
    which builder code runs.
    """
    parts = part_digests(inputs)
    return _digest(
        ("scheme", FINGERPRINT_SCHEME.encode()), *((n, d.encode()) for n, d in parts.items())
    )


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
    """fingerprint_of() for callers that have the parts at hand (no --var, no --var-file)."""
    return fingerprint_of(
        Inputs(template, assets, variables, base_ami, packer_version, secret_names, amazon_plugin)
    )


# The parts no other tag records; each shown by its first 12 hex digits (48 bits: a chance
# collision between two builds of one image is not a concern at that length).
_TAGGED_PARTS = ("template", "assets", "variables")


def parts_tag(inputs: Inputs) -> str:
    """The value of naming.FINGERPRINT_PARTS_TAG: `template=… assets=… variables=…`."""
    parts = part_digests(inputs)
    return " ".join(f"{name}={parts[name][:12]}" for name in _TAGGED_PARTS)


def changed_parts(tags: Mapping[str, str], inputs: Inputs) -> list[str]:
    """Which parts differ between a published AMI's tags and these inputs, as far as known.

    Template, assets and variables are known only for AMIs tagged with their digests
    (naming.FINGERPRINT_PARTS_TAG); base AMI, packer and plugin have tags of their own.
    """
    changed = []
    recorded = dict(
        item.split("=", 1)
        for item in tags.get(naming.FINGERPRINT_PARTS_TAG, "").split()
        if "=" in item
    )
    now = dict(item.split("=", 1) for item in parts_tag(inputs).split())
    changed += [name for name in _TAGGED_PARTS if name in recorded and recorded[name] != now[name]]
    others = (
        ("base AMI", naming.BASE_AMI_TAG, inputs.base_ami),
        ("packer version", naming.PACKER_VERSION_TAG, inputs.packer_version),
        ("plugin", naming.AMAZON_PLUGIN_TAG, inputs.amazon_plugin),
    )
    changed += [name for name, key, value in others if tags.get(key, "") != value]
    return changed


def tags(  # noqa: PLR0913 - keyword-only, one per provenance tag
    *,
    git: GitState,
    base_ami: str,
    base_ami_name: str,
    fingerprint: str,
    packer_version: str,
    built_at: str,
    amazon_plugin: str = "",
    parts: str = "",
) -> dict[str, str]:
    plugin = {naming.AMAZON_PLUGIN_TAG: amazon_plugin} if amazon_plugin else {}
    plugin.update({naming.FINGERPRINT_PARTS_TAG: parts} if parts else {})
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
