"""The frozen views a template reads (render/contract.py builds them from the config)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, TypedDict


# Each view names its own path (`_path`) so an undeclared attribute error can say `image.foo`.
@dataclass(frozen=True)
class BaseFilterView:
    _path: ClassVar[str] = "image.base.filter"
    name: str
    owners: tuple[str, ...]
    most_recent: bool


@dataclass(frozen=True)
class BaseView:
    _path: ClassVar[str] = "image.base"
    ami: str | None
    filter: BaseFilterView | None


@dataclass(frozen=True)
class ShareView:
    _path: ClassVar[str] = "image.share"
    accounts: tuple[str, ...]
    org_arns: tuple[str, ...]
    ou_arns: tuple[str, ...]
    public: bool
    snapshots: bool  # also grant create-volume permission on the snapshots (snapshot_users)


@dataclass(frozen=True)
class CommunicatorView:
    # No ssh_private_key_file: a config-relative path is wrong in the run directory; the context's
    # top-level ssh_private_key_file reads it from the var file.
    _path: ClassVar[str] = "image.communicator"
    type: str
    ssh_username: str | None
    ssh_host: str | None
    ssh_port: int | None
    ssh_timeout: str
    ssh_keypair_name: str | None  # the EC2 key pair of the key file (set together)


@dataclass(frozen=True)
class BuildEnvView:
    _path: ClassVar[str] = "image.build_env"
    subnet_id: str | None
    vpc_id: str | None
    ssh_cidrs: tuple[str, ...]
    associate_public_ip_address: bool | None
    require_imdsv2: bool
    ssh_from_public_ip: bool  # temporary_security_group_source_public_ip


@dataclass(frozen=True)
class ImageView:
    """What a template may read of the image's config. Per-bake values (version, tags, the
    user's variables) are left out on purpose: they reach packer through the var file, so the
    rendered template of two versions is byte-identical."""

    _path: ClassVar[str] = "image"
    instance_type: str
    encrypt: bool
    base: BaseView
    share: ShareView
    communicator: CommunicatorView
    build_env: BuildEnvView


@dataclass(frozen=True)
class PackerView:
    """The packer that will run the template. The binary's path is left out: it differs per
    machine and would make renders differ."""

    _path: ClassVar[str] = "packer"
    version: tuple[int, int, int]
    version_text: str
    uses_plugins: bool  # `packer { required_plugins }` and `packer init` exist (>= 1.7)
    amazon_plugin_options: bool  # the external amazon plugin is used (>= 1.7)
    required_version: str  # for `packer { required_version }`: the oldest packer this render suits


@dataclass(frozen=True)
class AmazonPluginView:
    """The amazon builder the template is rendered for (render/options.py)."""

    _path: ClassVar[str] = "amazon_plugin"
    constraint: str | None  # required_plugins' version; none on packer 1.6 (bundled builder)
    version: str  # the resolved version, `bundled`, or `unresolved: CONSTRAINT`
    # The version-dependent amazon-ebs options this builder accepts, e.g. "imds_support".
    options: frozenset[str]


@dataclass(frozen=True)
class AwsView:
    _path: ClassVar[str] = "aws"
    region: str  # the AWS region in effect; templates build in `build_region`
    profile: str | None
    endpoint_url: str | None
    max_retries: int
    # aws_polling's delay_seconds and max_attempts ([aws] ami_wait_minutes).
    polling: Mapping[str, int]


class Plugin(TypedDict):
    source: str
    version: str


# A mapping, not a view: `from` is a Python keyword, and templates read `inventory.from`.
Inventory = TypedDict("Inventory", {"from": str, "to": str})
