"""An estate in moto for the report: three versions of `web`, two channels with history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from packerpy import naming
from packerpy.config import load
from tests.helpers import boto_client, make_ami, make_project


def _ami(endpoint: str, version: str, **extra: str) -> str:
    tags = {**naming.identity_tags("acme", "web", version), **extra}
    return make_ami(endpoint, "us-east-1", name=f"web-{version}", tags=tags)


@pytest.fixture
def estate(aws: str, tmp_path: Path) -> dict[str, Any]:
    make_project(
        tmp_path,
        images={
            "web": {"channels": ["dev", "prod"]},
            "db": {"version": "0.1.0", "base": {"ami": "ami-03cf127a"}},
        },
    )
    amis = {
        "1.0.0": _ami(aws, "1.0.0", **{naming.VERIFIED_TAG: "pass"}),
        "1.1.0": _ami(
            aws,
            "1.1.0",
            **{naming.VERIFIED_TAG: "fail", naming.VERIFY_REASON_TAG: "<script>alert(1)</script>"},
        ),
        "2.0.0": _ami(aws, "2.0.0", **{naming.REVOKED_TAG: "CVE-2026-1234"}),
    }
    ssm = boto_client("ssm", aws)
    prefix = "/packerpy/acme/web"
    for channel, version in (
        ("prod", "1.0.0"),
        ("dev", "1.1.0"),
        ("dev", "2.0.0"),
        ("dev", "1.1.0"),
    ):
        ssm.put_parameter(
            Name=f"{prefix}/{channel}", Value=amis[version], Type="String", Overwrite=True
        )
    return {"project": load(tmp_path / "packerpy.toml"), "amis": amis, "dir": tmp_path}
