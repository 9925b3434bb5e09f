"""Shared fixtures: the AWS guard, a moto server on loopback, and a CLI runner.

The guard is autouse: any test that would reach a non-loopback AWS endpoint, or find real
credentials, fails. Subprocesses (packer) get a proxy on a closed loopback port, so they cannot
reach the internet either.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis profiles, picked by HYPOTHESIS_PROFILE. `ci` (the default, `make test`) keeps every
# property's full example count. `dev` (`make unit`, the fast loop) runs a fifth of them:
# property tests were the largest share of `make unit` (helpers.examples() scales the explicit
# counts the same way). No deadline in either: 8 engineers share 2 cores, so a wall-clock
# deadline measures the neighbours, not the code.
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.register_profile(
    "dev", parent=settings.get_profile("ci"), max_examples=20, print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
REAL_CREDENTIAL_VARS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
)


def pytest_configure(config: pytest.Config) -> None:
    # Python raises KeyboardInterrupt on SIGINT only if SIGINT was not ignored when it started;
    # a shell's background job (`make test &`) and profilers start it ignored, and then every
    # Ctrl-C test fails for a reason that is not packerpy's. Those tests stand for a terminal.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # Fail fast with a clear message instead of a cascade of confusing test failures. Unit tests
    # (`-m "not e2e"`, `make unit`) run without packer: those that need it are marked `packer`.
    if shutil.which("packer") is None and "not e2e" not in (config.option.markexpr or ""):
        raise pytest.UsageError("packer is not on PATH: run `make test` (it installs packer)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests on the moto server (the `aws` fixture) are marked `moto`: `make unit` leaves them,
    # and the e2e tests, to `make test`.
    moto = pytest.mark.moto
    for item in items:
        if "aws" in getattr(item, "fixturenames", ()):
            item.add_marker(moto)
    if shutil.which("packer") is not None:
        return
    skip = pytest.mark.skip(reason="needs packer on PATH (`make test` installs it)")
    for item in items:
        if item.get_closest_marker("packer") is not None:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def aws_guard(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test may talk to real AWS or use real credentials."""
    for name in REAL_CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path_factory.getbasetemp() / "aws-empty-config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Port 9 (discard) on loopback is closed: anything proxied fails at once.
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(proxy, "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    # The sandbox's state is per user (~/.local/state/packerpy): no test may touch the real one.
    sandbox_dir = tmp_path_factory.getbasetemp() / "user-sandbox"
    monkeypatch.setenv("PACKERPY_SANDBOX_DIR", str(sandbox_dir))

    from botocore.httpsession import URLLib3Session

    real_send = URLLib3Session.send

    def guarded_send(self: URLLib3Session, request: Any) -> Any:
        host = urlsplit(request.url).hostname
        if host not in LOOPBACK:
            pytest.fail(f"test tried to reach real AWS: {request.url}")
        return real_send(self, request)

    monkeypatch.setattr(URLLib3Session, "send", guarded_send)


# Where tests that get no moto server point: loopback port 9 (discard) is closed.
NO_MOTO = "http://127.0.0.1:9"


@pytest.fixture(scope="session", autouse=True)
def moto_endpoint(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One moto server for the session, started through packerpy's own sandbox.

    Started before the first test (autouse) rather than by the first test that needs it: a
    moto started after tests/cli/test_environment.py's in-process `build` of a blocked runs
    directory never answered (seen with `make unit`; cause not found yet). Not started at all
    when no selected test uses it (`make unit`): that saved each worker 4 s of start and stop.
    """
    if not any(_uses_moto(item) for item in request.session.items):
        yield NO_MOTO
        return
    from packerpy import sandbox

    state = tmp_path_factory.mktemp("sandbox")
    box = sandbox.start(state, amis_path=_stock_images(state / "amis.json"))
    try:
        yield box.endpoint_url
    finally:
        sandbox.stop(state)


def _uses_moto(item: pytest.Item) -> bool:
    """Marked `moto` (the `aws` fixture, see above) or e2e (they take `moto_endpoint` themselves)."""
    return any(item.get_closest_marker(name) is not None for name in ("moto", "e2e"))


def _stock_images(path: Path) -> Path:
    """moto's 44 stock images and the six `al2022-ami-ecs-hvm-*` ECS images the tests filter on.

    Left to itself, moto also loads ~1,250 ECS-optimised images into every region's backend,
    again after each reset: 0.7 s per `/moto-api/reset` and 0.15 s per region a test first
    touches, about a third of `make unit`. With this list (MOTO_AMIS_PATH) both take ~0.02 s.
    """
    from moto.utilities.utils import load_resource

    ecs = load_resource("ec2/resources/ecs/optimized_amis/us-east-1.json")
    images = [
        *load_resource("ec2/resources/amis.json"),
        *(i for i in ecs if fnmatch.fnmatch(i["name"], "al2022-ami-ecs-hvm-*")),
    ]
    path.write_text(json.dumps(images))
    return path


def reset_moto(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310 - loopback moto
        pass


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A clean moto, reachable through AWS_ENDPOINT_URL; returns the endpoint."""
    reset_moto(moto_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return moto_endpoint
