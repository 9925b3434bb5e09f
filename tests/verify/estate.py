"""A published version in the test moto, as a bake leaves it, and its facts for the checks."""

from __future__ import annotations

from typing import Any

from packerpy import naming
from packerpy.verify.checks import PROVENANCE_TAGS, CheckResult, run_checks
from packerpy.verify.facts import Facts, gather
from tests.helpers import ec2, make_ami, snapshots_of
from tests.steps.amis import clients, image_config

PROJECT, IMAGE, VERSION = "acme", "web", "1.2.3"
A, B = "111122223333", "444455556666"


def baked(endpoint: str, region: str = "us-east-1") -> tuple[str, list[str]]:
    """An AMI carrying the identity and provenance tags a bake writes; (AMI, snapshots)."""
    # Registered, not imaged from an instance: moto's images cost seconds per region to load.
    ami = make_ami(endpoint, region)
    snapshots = snapshots_of(endpoint, region, ami)
    tags = {
        **naming.identity_tags(PROJECT, IMAGE, VERSION),
        **{key: "x" for key in PROVENANCE_TAGS},
    }
    ec2(endpoint, region).create_tags(
        Resources=[ami, *snapshots], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )
    return ami, snapshots


def facts(endpoint: str, ami: str | None, region: str = "us-east-1", **config: Any) -> Facts:
    """What verify reads about `ami` under an image config with `config`'s fields."""
    image = ec2(endpoint, region).describe_images(ImageIds=[ami])["Images"][0] if ami else {}
    deprecate_at = config.pop("deprecate_at", None)
    base = Facts(
        region=region,
        ami=ami,
        project=PROJECT,
        name=IMAGE,
        version=VERSION,
        config=image_config(**config),
        image=image,
        deprecate_at=deprecate_at,
    )
    return gather(clients(endpoint), base)


def results(endpoint: str, ami: str | None, **config: Any) -> dict[str, CheckResult]:
    return {r.name: r for r in run_checks(facts(endpoint, ami, **config))}
