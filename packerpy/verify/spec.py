"""The launch test's inputs, from the image's `verify` section over its build settings.

instance_type, subnet and security group: `verify.*`, else the image's `instance_type` and
`build_env.subnet_id` (no security group: the subnet's default). SSH: `verify.ssh_*`, else the
image's communicator; the host is `verify.ssh_host`, else the instance's address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packerpy import naming
from packerpy.config import ImageConfig, Project
from packerpy.errors import ConfigError

# The tag that tells a verify instance from packer's builders (reap treats both by RUN_TAG).
PURPOSE = "verify"
_SECONDS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class SshTarget:
    username: str
    key_file: Path
    port: int = 22
    host: str | None = None  # None: the instance's address


@dataclass(frozen=True)
class LaunchSpec:
    """Everything the launch test does, decided before any call (a dry run shows it)."""

    region: str
    ami: str
    instance_type: str
    ssh: SshTarget
    scripts: tuple[Path, ...]
    timeout: float  # seconds for running + status checks + the scripts
    subnet_id: str | None = None
    security_group_id: str | None = None
    key_name: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def plan(self) -> tuple[str, ...]:
        """What a dry run shows: the instance, the SSH session and the termination."""
        where = ", ".join(
            part
            for part in (
                self.instance_type,
                self.subnet_id and f"subnet {self.subnet_id}",
                self.security_group_id and f"security group {self.security_group_id}",
                self.key_name and f"key pair {self.key_name}",
            )
            if part
        )
        host = self.ssh.host or "the instance's address"
        return (
            f"{self.region}: run-instances {self.ami} ({where}), tagged "
            f"{naming.PURPOSE_TAG}={PURPOSE}",
            f"{self.region}: wait for running and status checks ok (timeout {self.timeout:g}s)",
            f"{self.region}: run {', '.join(s.name for s in self.scripts)} over SSH as "
            f"{self.ssh.username}@{host}:{self.ssh.port} (packer null builder)",
            f"{self.region}: terminate the instance (always)",
        )


def seconds(duration: str) -> float:
    """'15m' -> 900.0 (config/values.py SshTimeout has checked the form)."""
    return float(int(duration[:-1]) * _SECONDS[duration[-1]])


def launch_spec(
    project: Project,
    name: str,
    *,
    region: str,
    ami: str,
    version: str,
    run_id: str,
) -> LaunchSpec:
    """The launch test of `name` from its config; a missing SSH setting is a ConfigError."""
    image: ImageConfig = project.image(name)
    verify, comm = image.verify, image.communicator
    where = f"{project.label}: images.{name}.verify"
    username = verify.ssh_username or comm.ssh_username
    key_file = verify.ssh_private_key_file or comm.ssh_private_key_file
    if not username:
        raise ConfigError(f"{where}.ssh_username: needed to run verify.tests over SSH")
    if not key_file:
        raise ConfigError(f"{where}.ssh_private_key_file: needed to run verify.tests over SSH")
    tags = {
        **naming.identity_tags(project.config.project.name, name, version),
        naming.RUN_TAG: run_id,
        naming.PURPOSE_TAG: PURPOSE,
    }
    return LaunchSpec(
        region=region,
        ami=ami,
        instance_type=verify.instance_type or image.instance_type,
        ssh=SshTarget(
            username=username,
            key_file=(project.root / key_file).resolve(),
            port=verify.ssh_port or comm.ssh_port or 22,
            host=verify.ssh_host,
        ),
        scripts=tuple((project.root / script).resolve() for script in verify.tests),
        timeout=seconds(verify.timeout),
        subnet_id=verify.subnet_id or image.build_env.subnet_id,
        security_group_id=verify.security_group_id,
        key_name=verify.ssh_keypair_name or comm.ssh_keypair_name,
        tags=tags,
    )
