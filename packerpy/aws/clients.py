"""The one place boto3 clients are made: region, profile, endpoint and retry policy.

Pointing `AWS_ENDPOINT_URL` (or `aws.endpoint_url`, or `--endpoint-url`) at a local server
redirects every client packerpy creates. boto3 is imported only when a client is first needed.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packerpy.aws.settings import AwsSettings
from packerpy.errors import AwsError
from packerpy.support import regions

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_sts import STSClient

# Operations that only read; everything else counts as a mutating call.
_READ_PREFIXES = ("Describe", "Get", "List")


@dataclass
class CallLog:
    """Every AWS operation made through the factory, for tests, benches and results."""

    calls: list[tuple[str, str]] = field(default_factory=list)  # (region, operation)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, region: str, operation: str) -> None:
        with self._lock:
            self.calls.append((region, operation))

    @property
    def mutating(self) -> list[tuple[str, str]]:
        return [(r, op) for r, op in self.calls if not op.startswith(_READ_PREFIXES)]


class AwsClients:
    def __init__(self, settings: AwsSettings) -> None:
        self.settings = settings
        self.log = CallLog()
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def client(self, service: str, region: str | None = None) -> Any:  # noqa: ANN401 - boto3 clients are dynamic
        region = region or self.settings.region
        key = (service, region)
        with self._lock:  # boto3 sessions are not thread-safe; clients are
            if key not in self._clients:
                self._clients[key] = self._make(service, region)
            return self._clients[key]

    def ec2(self, region: str | None = None) -> EC2Client:
        client: EC2Client = self.client("ec2", region)
        return client

    def sts(self, region: str | None = None) -> STSClient:
        """STS, for who the credentials are (`packerpy doctor`); the endpoint override applies."""
        client: STSClient = self.client("sts", region)
        return client

    def ec2_endpoint(self, region: str) -> str:
        suffix = regions.dns_suffix(region)
        return self.settings.endpoint_url or f"https://ec2.{region}.{suffix}"

    def check_reachable(self, region: str, *, timeout: float = 5.0, attempts: int = 2) -> None:
        """Fail in seconds when the EC2 endpoint does not answer, before packer starts.

        packer's HTTP client has no read timeout: an endpoint that accepts connections and never
        answers hangs a bake indefinitely (measured: > 3 minutes, then killed). Any HTTP answer,
        even an error status, proves the endpoint is there; a plain request avoids boto3's
        ~0.35 s import and EC2 model load on the path before the bake.
        """
        url = self.ec2_endpoint(region)
        reason = ""
        for _ in range(attempts):
            try:
                with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - http(s) only
                    return
            except urllib.error.HTTPError:
                return
            except (urllib.error.URLError, OSError) as exc:
                reason = str(getattr(exc, "reason", exc))
        raise AwsError(f"aws {region}: the EC2 endpoint {url} does not answer ({reason})")

    def _make(self, service: str, region: str) -> Any:  # noqa: ANN401
        import boto3  # noqa: PLC0415 - boto3 costs ~0.3 s to import; only AWS commands pay it
        from botocore.config import Config  # noqa: PLC0415

        if self._session is None:
            self._session = boto3.session.Session(profile_name=self.settings.profile)
        config = Config(
            retries={
                "mode": self.settings.retry_mode,
                "total_max_attempts": self.settings.max_retries + 1,
            },
            connect_timeout=10,
            read_timeout=60,
            user_agent_extra="packerpy",
        )
        client = self._session.client(
            service, region_name=region, endpoint_url=self.settings.endpoint_url, config=config
        )

        def record(model: Any, **_: Any) -> None:  # noqa: ANN401 - botocore event signature
            self.log.record(region, model.name)

        client.meta.events.register("before-call", record)
        return client


@contextmanager
def translated(action: str, region: str) -> Iterator[None]:
    """Turn botocore's exceptions into one-line AwsErrors naming what was being done and where."""
    from botocore.exceptions import (  # noqa: PLC0415
        BotoCoreError,
        ClientError,
        NoCredentialsError,
    )

    try:
        yield
    except ClientError as exc:
        err = exc.response.get("Error", {})
        raise AwsError(
            f"aws {region}: {action} failed: {err.get('Code', 'Error')}: "
            f"{err.get('Message', str(exc))}"
        ) from None
    except NoCredentialsError:
        raise AwsError(
            f"aws {region}: {action}: no AWS credentials (set AWS_PROFILE or AWS_ACCESS_KEY_ID)"
        ) from None
    except BotoCoreError as exc:
        raise AwsError(f"aws {region}: {action} failed: {exc}") from None
