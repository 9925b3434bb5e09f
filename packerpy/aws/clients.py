"""The one place AWS clients are made: region, profile, endpoint and retry policy.

Pointing `AWS_ENDPOINT_URL` (or `aws.endpoint_url`, or `--endpoint-url`) at a local server
redirects every client packerpy creates. botocore (boto3's core; sessions in aws/sessions.py) is
imported only when a client is first needed.
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packerpy.aws import sessions
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

    def client(self, service: str, region: str | None = None) -> Any:  # noqa: ANN401 - botocore clients are dynamic
        region = region or self.settings.region
        key = (service, region)
        with self._lock:  # botocore sessions are not thread-safe; clients are
            if key not in self._clients:
                self._clients[key] = self._make(service, region)
            return self._clients[key]

    def ec2(self, region: str | None = None) -> EC2Client:
        client: EC2Client = self.client("ec2", region)
        return client

    def ssm(self, region: str | None = None) -> Any:  # noqa: ANN401 - no SSM stubs installed
        """SSM, for the version claim (bake/claim.py)."""
        return self.client("ssm", region)

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
        even an error status, proves the endpoint is there; a plain request avoids botocore's
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
        from botocore.config import Config  # noqa: PLC0415 - ~0.3 s to import; only AWS commands pay it

        config = Config(
            retries={
                "mode": self.settings.retry_mode,
                "total_max_attempts": self.settings.max_retries + 1,
            },
            connect_timeout=10,
            read_timeout=60,
            user_agent_extra="packerpy",
        )
        # The session reads ~/.aws/config and the profile: a typo in aws.profile or AWS_PROFILE
        # is an AwsError naming the setting, not a crash (reliability review 1.1).
        with session_errors(self.settings, f"create the {service} client", region):
            if self._session is None:
                self._session = sessions.new_session(self.settings.profile)
            client = self._session.create_client(
                service, region_name=region, endpoint_url=self.settings.endpoint_url, config=config
            )

        def record(model: Any, **_: Any) -> None:  # noqa: ANN401 - botocore event signature
            self.log.record(region, model.name)

        client.meta.events.register("before-call", record)
        return client


def _shown(value: str, limit: int = 60) -> str:
    """A setting's value in a message: repr (NUL, newline visible), cut at `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(value)} characters)"


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else f"{line[:limit]}..."


def profile_setting(settings: AwsSettings | None) -> str:
    """Where the profile botocore looked for came from, as a user would fix it."""
    if settings is not None and settings.profile is not None:
        return f"aws.profile = {_shown(settings.profile)}"
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        if name in os.environ:
            return f"{name}={_shown(os.environ[name])}"
    return "the default profile"


def _setup_message(exc: Exception, settings: AwsSettings | None) -> str | None:
    """The message for botocore's configuration errors (profile, config files, region)."""
    from botocore.exceptions import (  # noqa: PLC0415 - lazily, as the clients
        ConfigParseError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    if isinstance(exc, ProfileNotFound):
        return f"{profile_setting(settings)}: no such profile in the AWS config or credentials file"
    if isinstance(exc, ConfigParseError):
        return f"AWS config (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE): {_one_line(str(exc))}"
    if isinstance(exc, NoRegionError):
        return "no AWS region: set aws.region in packerpy.toml or pass --region"
    if isinstance(exc, PartialCredentialsError):
        return f"{profile_setting(settings)}: incomplete credentials: {_one_line(str(exc))}"
    return None


@contextmanager
def session_errors(settings: AwsSettings, action: str, region: str) -> Iterator[None]:
    """Making a session or client: botocore's errors (and a URL it cannot parse) as AwsErrors."""
    from botocore.exceptions import BotoCoreError  # noqa: PLC0415 - lazily, as the clients

    try:
        yield
    except BotoCoreError as exc:
        message = _setup_message(exc, settings) or f"{action}: {_one_line(str(exc))}"
        raise AwsError(f"aws {region}: {message}") from None
    except ValueError as exc:  # urllib3/botocore on an endpoint such as http://[x
        endpoint = _shown(settings.endpoint_url or "")
        raise AwsError(f"aws {region}: {action}: endpoint url {endpoint}: {exc}") from None


@contextmanager
def translated(action: str, region: str) -> Iterator[None]:
    """Turn botocore's exceptions into one-line AwsErrors naming what was being done and where."""
    from botocore.exceptions import (  # noqa: PLC0415 - lazily, as the clients
        BotoCoreError,
        ClientError,
        NoCredentialsError,
    )
    from botocore.parsers import ResponseParserError  # noqa: PLC0415 - lazily, as the clients

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
    except (BotoCoreError, ResponseParserError) as exc:
        # Credentials load at the first call: a bad profile or file can surface here too.
        # ResponseParserError (an answer that is no AWS document, e.g. an HTML 500 page) is the
        # one botocore error a call raises that is no BotoCoreError.
        message = _setup_message(exc, None) or f"{action} failed: {_one_line(str(exc))}"
        raise AwsError(f"aws {region}: {message}") from None
