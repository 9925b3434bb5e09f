"""`compliance`-marked tests build and harden a Debian root (debootstrap, apt): about a minute
with network access, so they run in `make compliance` (pytest -m compliance), not in
`make unit` or `make test`."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "compliance" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="builds a Debian root: run `make compliance`")
    for item in items:
        if item.get_closest_marker("compliance"):
            item.add_marker(skip)
