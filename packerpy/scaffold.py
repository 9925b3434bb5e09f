"""`packerpy init`: a new project that validates, and bakes in the sandbox, as it stands."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from packerpy.config.models import DEFAULT_STEPS
from packerpy.config.project import CONFIG_FILENAME
from packerpy.config.types import NAME_REGEX, NAME_RULE
from packerpy.errors import ConfigError, PackerpyError
from packerpy.support import atomic, oserrors

CONFIG_TEMPLATE = """\
# packerpy project: `packerpy validate`, then `packerpy build {name}`.
# Reference: `packerpy schema` prints every field.

[project]
name = "{name}"

[aws]
region = "us-east-1"
# endpoint_url = "http://127.0.0.1:5000"   # or AWS_ENDPOINT_URL; `packerpy sandbox start` prints it

[images.{name}]
version = "0.1.0"
template = "amazon-ebs"          # hcl_templates/amazon-ebs.pkr.hcl.j2 here, else the built-in
instance_type = "t3.micro"
encrypt = true                   # `lint` (run before every build) requires it
regions = ["us-east-1"]          # the first is the build region; packer copies to the rest
tags = {{ team = "platform" }}
steps = [{steps}]   # run in this order after each bake
# deprecate_after = "180d"       # schedule each version's deprecation

# The newest matching AMI of these owners (or set `ami = "ami-..."` instead of a filter).
[images.{name}.base.filter]
name = "ubuntu/images/hvm-ssd/ubuntu-*-amd64-server-*"
owners = ["099720109477"]

# Provisioners run over SSH; `none` bakes the base image as it is.
[images.{name}.communicator]
type = "none"
"""

TEMPLATES_README = """\
Project templates. A file here named like a built-in (e.g. amazon-ebs.pkr.hcl.j2) replaces it;
any other name is a new template an image can select with `template = "NAME"`.
Print every value through `| hcl` or `attrs(...)`: packerpy refuses anything else.
"""

# packerpy's own output: run records and the sandbox state (.packerpy/), `render --out build/`.
# Ignored so they never show in `git status`, which decides the packerpy:git-dirty tag.
# packerpy's own files: run records, caches and the sandbox state; rendered templates; the lock
# file `version bump` holds while it edits packerpy.toml.
GITIGNORE_LINES = (".packerpy/", "build/", ".packerpy.toml.lock")

PROVISIONERS_README = """\
Project provisioners: NAME.sh here is used by `provisioners = ["NAME"]` and shadows a built-in
of the same name. Provisioners need `communicator.type = "ssh"`.
"""


@dataclass(frozen=True)
class InitResult:
    name: str
    root: str
    created: tuple[str, ...]


def init(name: str, root: Path) -> InitResult:
    """A project named `name` in `root`: packerpy.toml and the two README'd directories.

    Files that exist are kept; an existing packerpy.toml is an error (never overwritten).
    """
    if not re.fullmatch(NAME_REGEX, name):
        raise ConfigError(f"init: {name!r} is not {NAME_RULE}")
    config = root / CONFIG_FILENAME
    steps = ", ".join(f'"{step}"' for step in DEFAULT_STEPS)
    files = {
        config: CONFIG_TEMPLATE.format(name=name, steps=steps),
        root / "hcl_templates" / "README.md": TEMPLATES_README,
        root / "provisioners" / "README.md": PROVISIONERS_README,
    }
    created = []
    # exists() raises on some paths (EACCES, ENAMETOOLONG); writes raise HostError themselves.
    with oserrors.translated("create the project", root):
        if config.exists():
            raise PackerpyError(f"{config}: already exists; not overwritten")
        for path, text in files.items():
            if not path.exists():
                atomic.write_text(path, text)
                created.append(str(path))
        if _ignore_own_files(root / ".gitignore"):
            created.append(str(root / ".gitignore"))
    return InitResult(name=name, root=str(root), created=tuple(created))


def _ignore_own_files(gitignore: Path) -> bool:
    """Add GITIGNORE_LINES to .gitignore (kept lines stay, none twice); True when created."""
    existed = gitignore.exists()
    text = gitignore.read_text(encoding="utf-8") if existed else ""
    present = {line.strip() for line in text.splitlines()}
    missing = [line for line in GITIGNORE_LINES if line not in present]
    if missing:
        separator = "\n" if text and not text.endswith("\n") else ""
        atomic.write_text(gitignore, text + separator + "".join(f"{m}\n" for m in missing))
    return not existed
