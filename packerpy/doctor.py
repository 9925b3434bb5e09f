"""`packerpy doctor`: is this machine (and this project, if any) ready to bake? One row per check.

Each check is ok, warn (works, with a gap: e.g. no shellcheck, so lint cannot check scripts),
fail (a build would fail) or skip (it needs something an earlier check found missing, and says
what). Only a fail makes the report fail. Nothing here raises for what it checks: a problem is a
row, so one run lists every problem at once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from packerpy import config, sandbox, tools
from packerpy.aws import clients as aws_clients
from packerpy.aws.settings import AwsSettings, aws_settings
from packerpy.config.models import AwsSection
from packerpy.errors import AwsError, ConfigError, PackerpyError
from packerpy.packer import binary
from packerpy.packer.binary import PackerInfo
from packerpy.support import regions

Status = Literal["ok", "warn", "fail", "skip"]
# `translated` words a missing-credentials error this way (aws/clients.py); a test pins it.
NO_CREDENTIALS = "no AWS credentials"
PLUGIN_FIX = (
    "packerpy build runs `packer init` (needs github.com); offline: download "
    "packer-plugin-amazon and run `packer plugins install --path FILE github.com/hashicorp/amazon`"
)
_PLUGIN_FILE = re.compile(r"packer-plugin-amazon_v(\d+)\.(\d+)\.(\d+)")
_MINIMUM = re.compile(r"(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    found: str  # what the check saw, one line
    fix: str = ""  # what to do about a warn or fail, one line


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def failed(self) -> bool:
        return any(check.status == "fail" for check in self.checks)


@dataclass(frozen=True)
class Inputs:
    """What the command line says: -c, --region, --endpoint-url, and the environment.

    `environ` decides packerpy's own settings (region, endpoint, profile); boto3 still reads
    credentials from the process environment and ~/.aws, as every packerpy command does.
    """

    config: Path | None = None
    cwd: Path = field(default_factory=Path.cwd)
    region: str | None = None
    endpoint_url: str | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    sandbox_dir: Path = field(default_factory=sandbox.default_state_dir)


def run(inputs: Inputs) -> Report:
    """Every check, in the order a user fixes them: tools, then the project, then AWS."""
    packer_tool, packer_info = tools.packer()
    checks = [
        check_packer(packer_tool, packer_info),
        check_plugin(packer_info),
        check_shellcheck(tools.shellcheck()),
        check_git(tools.git()),
    ]
    config_check, project = check_config(inputs)
    checks.append(config_check)
    checks.extend(check_aws(inputs, project))
    checks.append(check_sandbox(inputs, tools.moto()))
    return Report(tuple(checks))


def check_packer(tool: tools.Tool, info: PackerInfo | None) -> Check:
    if info is None:
        return Check("packer", "fail", tool.summary, tool.fix)
    mode = "plugins: amazon from packer init" if info.uses_plugins else "amazon builder bundled"
    return Check("packer", "ok", f"{tool.summary} ({mode})")


def check_plugin(info: PackerInfo | None, pinned: str | None = None) -> Check:
    """The amazon plugin packerpy's templates require, on packer 1.7+ (1.6 bundles the builder).

    Uses the same detection and constraint as rendering (packer/binary.py), so doctor and a
    build agree on which plugin packer will load.
    """
    name = "amazon plugin"
    if info is None:
        return Check(name, "skip", "not checked: no packer")
    wanted = info.amazon_plugin_constraint(pinned)
    if wanted is None:
        return Check(name, "ok", f"bundled with packer {info.version_text} (no plugins before 1.7)")
    chosen = info.resolve_amazon_plugin(wanted)
    if chosen is not None:
        newest = ".".join(map(str, chosen))
        return Check(name, "ok", f"{binary.AMAZON_PLUGIN_SOURCE} {newest} installed ({wanted})")
    have = ", ".join(".".join(map(str, v)) for v in sorted(info.amazon_plugins)) or "none"
    return Check(name, "warn", f"no amazon plugin {wanted} installed (found: {have})", PLUGIN_FIX)


def check_shellcheck(tool: tools.Tool) -> Check:
    if tool.found:
        return Check("shellcheck", "ok", tool.summary)
    gap = f"{tool.summary}: lint cannot check provisioner scripts (PPL007)"
    return Check("shellcheck", "warn", gap, tool.fix)


def check_git(tool: tools.Tool) -> Check:
    if tool.found:
        return Check("git", "ok", tool.summary)
    return Check("git", "warn", f"{tool.summary}: provenance tags say git-sha=none", tool.fix)


def check_config(inputs: Inputs) -> tuple[Check, config.Project | None]:
    """packerpy.toml loads; none at all is a warning, so doctor also runs outside a project."""
    try:
        path = config.find_config(inputs.config, inputs.cwd)
    except ConfigError as exc:
        if inputs.config is not None:
            return Check("config", "fail", exc.message, "pass -c PATH to a packerpy.toml"), None
        found = f"no packerpy.toml in {inputs.cwd}"
        return Check("config", "warn", found, "packerpy init NAME (or pass -c PATH)"), None
    try:
        project = config.load(path)
    except ConfigError as exc:
        return Check("config", "fail", exc.message, "fix it (`packerpy schema` lists fields)"), None
    images = ", ".join(project.config.images)
    return Check("config", "ok", f"{path}: images {images}"), project


def check_aws(inputs: Inputs, project: config.Project | None) -> list[Check]:
    """Credentials and region (STS GetCallerIdentity), then the EC2 endpoint.

    Credentials missing is a warning (render, validate and lint need none) and skips the
    endpoint; rejected credentials or an unknown profile fail, as a build would.
    """
    try:
        settings = _settings(inputs, project)
    except ConfigError as exc:
        return [
            Check("aws credentials", "fail", exc.message, "fix the region or endpoint"),
            Check("ec2 endpoint", "skip", "not checked: no usable AWS settings"),
        ]
    clients = aws_clients.AwsClients(settings)
    credentials = check_credentials(clients)
    if credentials.status != "ok" and NO_CREDENTIALS in credentials.found:
        return [credentials, Check("ec2 endpoint", "skip", "not checked: no AWS credentials")]
    return [credentials, check_endpoint(clients)]


def _settings(inputs: Inputs, project: config.Project | None) -> AwsSettings:
    """The project's AWS settings; outside a project, the environment over the config defaults."""
    if project is not None:
        return aws_settings(
            project, region=inputs.region, endpoint_url=inputs.endpoint_url, environ=inputs.environ
        )
    env = inputs.environ
    defaults = AwsSection()
    region = inputs.region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region is not None and region not in regions.known():
        raise ConfigError(f"region: {region!r} is not an AWS region")
    return AwsSettings(
        region=region or defaults.region,
        profile=env.get("AWS_PROFILE"),
        endpoint_url=inputs.endpoint_url or env.get("AWS_ENDPOINT_URL"),
        max_retries=defaults.max_retries,
        retry_mode=defaults.retry_mode,
    )


def check_credentials(clients: aws_clients.AwsClients) -> Check:
    region = clients.settings.region
    try:
        with aws_clients.translated("get the caller identity", region):
            identity = clients.sts().get_caller_identity()
    except AwsError as exc:
        if NO_CREDENTIALS in exc.message:
            fix = "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
            return Check("aws credentials", "warn", exc.message, fix)
        return Check("aws credentials", "fail", exc.message, "check AWS_PROFILE and the keys")
    found = f"account {identity.get('Account')} ({identity.get('Arn')}) in {region}"
    return Check("aws credentials", "ok", found)


def check_endpoint(clients: aws_clients.AwsClients) -> Check:
    region = clients.settings.region
    url = clients.ec2_endpoint(region)
    try:
        clients.check_reachable(region, timeout=3.0)
    except PackerpyError as exc:
        return Check("ec2 endpoint", "fail", exc.message, "check the network or AWS_ENDPOINT_URL")
    return Check("ec2 endpoint", "ok", f"{url} answers")


def check_sandbox(inputs: Inputs, moto: tools.Tool) -> Check:
    """The local AWS: running or not, and whether AWS_ENDPOINT_URL sends packerpy there."""
    pointed = inputs.endpoint_url or inputs.environ.get("AWS_ENDPOINT_URL")
    try:
        box = sandbox.status(inputs.sandbox_dir)
    except PackerpyError as exc:
        return Check("sandbox", "warn", exc.message, "packerpy sandbox stop")
    if box is not None and box.running:
        if pointed == box.endpoint_url:
            return Check("sandbox", "ok", f"running at {box.endpoint_url}; AWS calls go there")
        where = f"AWS_ENDPOINT_URL is {pointed}" if pointed else "AWS_ENDPOINT_URL is not set"
        found = f"running at {box.endpoint_url}, but {where}: AWS calls do not go to it"
        return Check("sandbox", "warn", found, f"export AWS_ENDPOINT_URL={box.endpoint_url}")
    if pointed and re.match(r"https?://(127\.0\.0\.1|localhost)[:/]", pointed):
        fix = "packerpy sandbox start" if moto.found else moto.fix
        return Check("sandbox", "warn", f"not running, but AWS_ENDPOINT_URL is {pointed}", fix)
    extra = (
        f"moto {moto.version}" if moto.found else "moto not installed (only the sandbox needs it)"
    )
    return Check("sandbox", "ok", f"not running; {extra}")
