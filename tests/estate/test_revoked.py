"""estate/revoked.py: a revoked packerpy version as a base stops build and shows in outdated."""

from __future__ import annotations

from pathlib import Path

import pytest

from packerpy import config
from packerpy.errors import Refused
from packerpy.estate import queries, revoked
from tests.estate.test_queries import published
from tests.helpers import make_ami, make_project, settings_for
from tests.steps.amis import clients


def test_a_revoked_base_is_refused_with_the_key_and_the_reason(aws: str) -> None:
    base = published(aws, "base", "2.0.0", **{"packerpy:revoked": "CVE-2026-1"})
    with pytest.raises(Refused) as err:
        revoked.refuse_revoked_base(
            clients(aws), "us-east-1", base, where="packerpy.toml: images.web.base"
        )
    assert str(err.value) == (
        f"packerpy.toml: images.web.base: {base} in us-east-1 is a revoked version "
        "(2.0.0: CVE-2026-1); build on another base"
    )
    fine = make_ami(aws, tags={"team": "x"})
    assert revoked.revocation(clients(aws), "us-east-1", fine) is None


def test_outdated_lists_an_image_built_on_a_base_revoked_since(aws: str, tmp_path: Path) -> None:
    base = published(aws, "base", "2.0.0", **{"packerpy:revoked": "CVE-2026-1"})
    published(aws, "web", "1.0.0", **{"packerpy:base-ami": base})
    project = config.load(make_project(tmp_path, images={"web": {"base": {"ami": base}}}))
    found = queries.outdated(project, settings_for(aws))
    (item,) = found.outdated
    assert (item.image, item.built_on, item.base_revoked) == ("web", base, "2.0.0: CVE-2026-1")
