"""The `[images.NAME]` entry `packerpy adopt` proposes for a template directory.

Only what packerpy acts on after the bake becomes a key (regions, encryption, sharing, the
base for provenance and `outdated`); what the template alone decides (instance type, AMI name,
provisioners) is written as a comment, so the config never claims to control it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from packerpy.adopt.template import Expr, Source, TemplateDir
from packerpy.errors import ConfigError


@dataclass(frozen=True)
class Proposal:
    image: str
    block: str  # TOML text, comments included
    sources: tuple[str, ...]
    builds: tuple[str, ...]
    roles: dict[str, str]  # role -> variable
    notes: tuple[str, ...]


def _literal(source: Source, key: str, template: TemplateDir) -> Any:  # noqa: ANN401 - HCL value
    """A setting's value when the template fixes it: a literal, or a variable's default."""
    setting = source.settings.get(key)
    if isinstance(setting, Expr):
        name = setting.variable
        return template.variables.get(name) if name else None
    return setting


def _base(source: Source, template: TemplateDir, where: str) -> list[str]:
    ami = _literal(source, "source_ami", template)
    if isinstance(ami, str) and ami.startswith("ami-"):
        return [f"[{where}.base]", f"ami = {json.dumps(ami)}"]
    found = source.settings.get("source_ami_filter")
    block = found[0] if isinstance(found, list) and found else found
    if isinstance(block, dict):
        name = (block.get("filters") or {}).get("name")
        owners = block.get("owners")
        if (
            isinstance(name, str)
            and isinstance(owners, list)
            and all(isinstance(o, str) for o in owners)
        ):
            return [
                f"[{where}.base.filter]",
                f"name = {json.dumps(name)}",
                f"owners = {json.dumps(owners)}",
            ]
    raise ConfigError(
        f"{template.path.name}/{source.file}: {source.ref}'s base AMI is not a literal "
        "source_ami or source_ami_filter; adopt it, then set images.NAME.base by hand"
    )


def propose(template: TemplateDir, image: str, relative_dir: str) -> Proposal:
    if template.unsupported:
        raise ConfigError(f"{template.path.name}: {template.unsupported[0]}")
    used = {ref for build in template.builds for ref in build.sources}
    amazon = [s for s in template.sources if s.ref in used and s.type.startswith("amazon-")]
    first = amazon[0]
    where = f"images.{image}"
    region = _literal(first, "region", template)
    copies = _literal(first, "ami_regions", template) or []
    regions = [r for r in [region, *copies] if isinstance(r, str) and r]
    roles = template.role_variables({})
    lines = [
        f"[{where}]",
        f"# Adopted from {relative_dir}/ ({', '.join(template.files)}); packerpy never edits it.",
        'version = "0.1.0"',
        f"template_dir = {json.dumps(relative_dir)}",
    ]
    if regions:
        lines.append(f"regions = {json.dumps(regions)}")
    encrypt = _literal(first, "encrypt_boot", template)
    if isinstance(encrypt, bool):
        lines.append(f"encrypt = {json.dumps(encrypt)}  # as the template's encrypt_boot")
    users = _literal(first, "ami_users", template)
    for key in ("instance_type", "ami_name"):
        shown = first.settings.get(key)
        text = shown.text if isinstance(shown, Expr) else shown
        lines.append(f"# {key} = {json.dumps(text)} is the template's; packerpy does not set it")
    notes = []
    if "aws_endpoint" not in roles:
        notes.append(
            'declare variable "aws_endpoint" and set custom_endpoint_ec2 = var.aws_endpoint to '
            "build in the sandbox (packerpy refuses a template it cannot route there)"
        )
    if "image_version" not in roles and "ami_name" not in roles:
        notes.append(
            'declare variable "ami_name" (or "image_version") so AMI names carry the version'
        )
    lines += _base(first, template, where)
    if isinstance(users, list) and users:
        lines += [f"[{where}.share]", f"accounts = {json.dumps(users)}  # the template's ami_users"]
    return Proposal(
        image=image,
        block="\n".join(lines) + "\n",
        sources=tuple(s.ref for s in template.sources),
        builds=tuple(b.name for b in template.builds),
        roles=roles,
        notes=tuple(notes),
    )
