from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from packerpy.aws.clients import AwsClients, translated
from packerpy.aws.settings import AwsSettings
from packerpy.errors import EXIT_AWS, AwsError


def settings(endpoint: str | None) -> AwsSettings:
    return AwsSettings(
        region="us-east-1",
        profile=None,
        endpoint_url=endpoint,
        max_retries=2,
        retry_mode="standard",
    )


def test_clients_follow_settings_and_are_cached(aws: str) -> None:
    clients = AwsClients(settings(aws))
    ec2 = clients.ec2()
    assert ec2.meta.endpoint_url == aws
    assert ec2.meta.region_name == "us-east-1"
    assert ec2.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert clients.ec2("us-east-1") is ec2
    assert clients.ec2("eu-west-1").meta.region_name == "eu-west-1"


def test_sessions_share_models_and_client_classes_but_not_clients_or_logs(aws: str) -> None:
    import boto3

    first, second = AwsClients(settings(aws)), AwsClients(settings(aws))
    a, b = first.ec2(), second.ec2("eu-west-1")
    assert a is not b and type(a) is type(b)  # one class per process: built once (31 ms)
    assert first._session is not second._session  # credentials and profile stay per session
    assert first._session.get_component("data_loader") is second._session.get_component(
        "data_loader"
    )
    b.describe_regions()
    assert (first.log.calls, second.log.calls) == ([], [("eu-west-1", "DescribeRegions")])
    # A session made elsewhere keeps botocore's (and boto3's) own classes and methods.
    s3 = boto3.session.Session().client("s3", region_name="us-east-1", endpoint_url=aws)
    assert hasattr(s3, "upload_file")
    assert type(boto3.session.Session().client("ec2", region_name="us-east-1")) is not type(a)


def test_call_log_separates_mutating_calls(aws: str) -> None:
    clients = AwsClients(settings(aws))
    clients.ec2().describe_images(Owners=["self"])
    clients.ec2().create_key_pair(KeyName="k")
    assert clients.log.calls == [("us-east-1", "DescribeImages"), ("us-east-1", "CreateKeyPair")]
    assert clients.log.mutating == [("us-east-1", "CreateKeyPair")]


def test_client_errors_become_one_line_aws_errors(aws: str) -> None:
    clients = AwsClients(settings(aws))
    with pytest.raises(AwsError) as info, translated("describe ami-12345678", "us-east-1"):
        clients.ec2().describe_images(ImageIds=["ami-12345678"])
    assert info.value.exit_code == EXIT_AWS
    assert info.value.message.startswith(
        "aws us-east-1: describe ami-12345678 failed: InvalidAMIID.NotFound: "
    )
    assert "\n" not in info.value.message


def test_guard_fails_a_test_that_reaches_real_aws() -> None:
    clients = AwsClients(settings(None))
    with pytest.raises(pytest.fail.Exception, match="test tried to reach real AWS"):
        clients.ec2().describe_regions()


# What moto's werkzeug answers when a handler raises: an HTML page that is no AWS error document.
INTERNAL_ERROR_PAGE = (
    b"<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
    b"<h1>Internal Server Error</h1>\n<p>The server encountered an internal error.</p>\n"
)


@pytest.fixture
def html_500_endpoint() -> Iterator[str]:
    """A loopback endpoint that answers every request 500 with an HTML page."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(500)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(INTERNAL_ERROR_PAGE)))
            self.end_headers()
            self.wfile.write(INTERNAL_ERROR_PAGE)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_an_unparseable_answer_becomes_a_one_line_aws_error(html_500_endpoint: str) -> None:
    """botocore's ResponseParserError is no BotoCoreError: it escaped as a traceback."""
    clients = AwsClients(settings(html_500_endpoint))
    with pytest.raises(AwsError) as info, translated("deregister ami-1", "us-east-1"):
        clients.ec2().deregister_image(ImageId="ami-1")
    assert info.value.message.startswith(
        "aws us-east-1: deregister ami-1 failed: Unable to parse response"
    )
    assert "\n" not in info.value.message
