"""The launch test's scripts, run over SSH by packer itself: its `null` builder connects to a
host something else launched and runs ordinary `shell` provisioners, so verify reuses packer's
SSH handling (retries, keys, output) and its signal handling through packer/run.py.

The template is written into the run record (verify.pkr.hcl, with packer's log beside it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from packerpy.packer import binary as packer
from packerpy.packer import run as runner
from packerpy.packer.events import Event, UiEvent
from packerpy.render import hcl
from packerpy.verify.spec import SshTarget

TEMPLATE_NAME = "verify.pkr.hcl"
VAR_FILE_NAME = "verify.pkrvars.hcl"
LOG_NAME = "verify-packer.log"
# Lines of the scripts' output kept in the run record and shown under a failure.
OUTPUT_LINES = 40
_PREFIX = "    null.verify: "


def template(ssh: SshTarget, host: str, scripts: tuple[Path, ...], ssh_timeout: float) -> str:
    """The null-builder template; every value goes through the HCL encoder."""
    source = hcl.attributes(
        {
            "communicator": "ssh",
            "ssh_host": host,
            "ssh_port": ssh.port,
            "ssh_username": ssh.username,
            "ssh_private_key_file": str(ssh.key_file),
            "ssh_timeout": f"{max(1, int(ssh_timeout))}s",
        }
    )
    scripts_line = hcl.attributes({"scripts": [str(s) for s in scripts]}, indent=4)
    return (
        f'source "null" "verify" {{\n{source}\n}}\n\n'
        'build {\n  sources = ["source.null.verify"]\n\n'
        f'  provisioner "shell" {{\n{scripts_line}\n  }}\n}}\n'
    )


class Output:
    """The scripts' output as packer relays it (`    null.verify: ...` lines), last lines kept."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, UiEvent):
            for line in event.text.splitlines():
                if line.startswith(_PREFIX):
                    self.lines.append(line.removeprefix(_PREFIX))
                    del self.lines[:-OUTPUT_LINES]


def run_scripts(
    work_dir: Path,
    ssh: SshTarget,
    *,
    host: str,
    scripts: tuple[Path, ...],
    timeout: float,
    on_start: Callable[[int], None] | None = None,
    output: Output | None = None,
) -> tuple[str, ...]:
    """Run the scripts on `host` through `packer build`; their output, or a PackerError."""
    info = packer.detect()
    path = work_dir / TEMPLATE_NAME
    path.write_text(template(ssh, host, scripts, timeout), encoding="utf-8")
    var_file = work_dir / VAR_FILE_NAME
    var_file.write_text("", encoding="utf-8")
    seen = output if output is not None else Output()
    runner.build(
        info,
        path,
        var_file,
        log_path=work_dir / LOG_NAME,
        on_event=seen,
        timeout=timeout,
        on_start=on_start,
    )
    return tuple(seen.lines)
