"""`packerpy compliance scan`: an offline OpenSCAP scan of a root directory, no AWS.

It runs the very provisioner the bake runs (provisioners/compliance.sh) with ROOT set, so a CI
job that builds roots, the harden tests and a bake measure alike; oscap-chroot evaluates the
root from outside. Nothing is installed here (COMPLIANCE_PKG=none): a machine without the
scanner gets a one-line error naming the packages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from packerpy.compliance.summary import REPORT_NAME, SUMMARY_NAME, Summary, read_summary
from packerpy.errors import ConfigError, PackerpyError
from packerpy.support import paths, proc

SCRIPT = "compliance.sh"
# Measured: 4.5 s for ANSSI average on a Debian 11 minbase root; a CIS profile on a full
# server root evaluates a few hundred rules, still well within this.
SCAN_TIMEOUT = 900.0
_ERROR_PREFIX = "compliance: error: "


@dataclass(frozen=True)
class ScanResult:
    root: str
    out_dir: str
    report: str
    summary: Summary


def scan_root(root: Path, profile: str, out_dir: Path, content: str | None = None) -> ScanResult:
    """Scan `root` with `profile`; ARF, HTML report and summary.json go to out_dir."""
    if not root.is_dir():
        raise ConfigError(f"--root {root}: not a directory")
    script = paths.builtin("provisioners") / SCRIPT
    env = {
        **os.environ,
        "ROOT": str(root.resolve()),
        "COMPLIANCE_PROFILE": profile,
        "COMPLIANCE_OUT": str(out_dir.resolve()),
        "COMPLIANCE_PKG": "none",
        "COMPLIANCE_REQUIRED": "1",
    }
    if content:
        # A file of this machine: the provisioner takes a bare name from the SSG directory.
        env["COMPLIANCE_CONTENT"] = content if "/" not in content else str(Path(content).resolve())
    done = proc.run(["sh", "-eu", str(script)], env=env, timeout=SCAN_TIMEOUT)
    if done.returncode != 0:
        errors = [line for line in done.output.splitlines() if line.startswith(_ERROR_PREFIX)]
        if errors:
            raise ConfigError(errors[-1].removeprefix(_ERROR_PREFIX))
        last = done.tail(1)[0] if done.output.strip() else "no output"
        raise PackerpyError(f"compliance scan of {root} failed (exit {done.returncode}): {last}")
    found = read_summary(out_dir / SUMMARY_NAME)
    if isinstance(found, str):  # only when not required, which a scan here always is
        raise PackerpyError(f"compliance scan of {root} skipped: {found}")
    return ScanResult(
        root=str(root), out_dir=str(out_dir), report=str(out_dir / REPORT_NAME), summary=found
    )
