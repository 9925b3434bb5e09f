"""A fault-injecting reverse proxy in front of the moto server, for tests of packerpy's AWS calls.

Tests point boto3 at `FaultProxy.endpoint` instead of moto to see how packerpy copes with
throttling (`throttle_every`) or with a process that dies after AWS acted but before it heard
back (`hang_after`). Anything else passes through unchanged. Stdlib only; loopback only; each
connection carries one request (HTTP/1.0), so no keep-alive handler outlives `close()`.
"""

from __future__ import annotations

import http.client
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

# RFC 9110 7.6.1: connection-specific headers a proxy must not forward. Content-Length is
# recomputed because the body is re-sent whole (a chunked upstream reply arrives decoded).
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
    }
)
THROTTLE_STATUS = 503


def throttle_body(request_id: str) -> bytes:
    """EC2's RequestLimitExceeded error document, which botocore treats as throttling."""
    return (
        "<Response><Errors><Error><Code>RequestLimitExceeded</Code>"
        "<Message>Request limit exceeded.</Message></Error></Errors>"
        f"<RequestID>{request_id}</RequestID></Response>"
    ).encode()


def action_of(path: str, body: bytes) -> str | None:
    """The EC2 Query `Action` of a request: in the form body (botocore) or the query string."""
    for source in (body.decode("utf-8", "replace"), urlsplit(path).query):
        values = parse_qs(source).get("Action")
        if values:
            return values[0]
    return None


class FaultProxy:
    """A threaded reverse proxy on 127.0.0.1 that can throttle or swallow EC2 responses."""

    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        if target.scheme != "http" or target.hostname is None:
            raise ValueError(f"FaultProxy forwards to plain http only, not {upstream!r}")
        self.upstream = upstream
        self._host, self._port = target.hostname, target.port or 80
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._requests: list[str] = []
        self._hung: list[str] = []
        self._throttled = 0
        self._ec2_count = 0
        self._throttle_every = 0
        self._hang_action: str | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        # Daemon threads: a handler still holding a hung connection never blocks interpreter exit.
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    # -- modes ---------------------------------------------------------------------------

    def throttle_every(self, n: int) -> None:
        """Answer every n-th EC2 request (counted from now) with 503 RequestLimitExceeded; 0 stops."""
        if n < 0:
            raise ValueError("throttle_every needs n >= 0")
        with self._lock:
            self._throttle_every, self._ec2_count = n, 0

    def hang_after(self, action: str | None) -> None:
        """Forward each `action` request, then never answer it (until close); None stops."""
        with self._lock:
            self._hang_action = action

    def pass_through(self) -> None:
        """Stop injecting faults; what was recorded so far is kept."""
        self.throttle_every(0)
        self.hang_after(None)

    # -- what happened -------------------------------------------------------------------

    @property
    def requests(self) -> list[str]:
        """A snapshot of the EC2 Actions received, in arrival order (throttled ones included)."""
        with self._lock:
            return list(self._requests)

    @property
    def throttled(self) -> int:
        """How many requests the proxy answered itself with RequestLimitExceeded."""
        with self._lock:
            return self._throttled

    @property
    def hung(self) -> list[str]:
        """The Actions forwarded upstream whose responses were withheld."""
        with self._lock:
            return list(self._hung)

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        """Release hung connections (closing them unanswered) and stop serving."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- used by the handler -------------------------------------------------------------

    def _decide(self, action: str | None) -> str:
        """Record the request and pick its fate: "throttle", "hang" or "forward"."""
        if action is None:  # not an EC2 Query call (e.g. /moto-api/): never faulted
            return "forward"
        with self._lock:
            self._requests.append(action)
            self._ec2_count += 1
            if self._throttle_every and self._ec2_count % self._throttle_every == 0:
                self._throttled += 1
                return "throttle"
            if action == self._hang_action:
                return "hang"
        return "forward"

    def _held(self, action: str) -> None:
        """Record that upstream acted on `action` and its response is being withheld."""
        with self._lock:
            self._hung.append(action)

    def _forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        """Send the request to upstream as received; return its whole response."""
        conn = http.client.HTTPConnection(self._host, self._port, timeout=60)
        try:
            # The client's Host header is kept (http.client then adds none): it is signed.
            conn.request(method, path, body=body or None, headers=dict(headers))
            reply = conn.getresponse()
            return reply.status, reply.reason, reply.getheaders(), reply.read()
        finally:
            conn.close()


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one proxy."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = [(k, v) for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP]
            action = action_of(self.path, body)
            fate = proxy._decide(action)
            if fate == "throttle":
                self._reply(
                    THROTTLE_STATUS,
                    "Service Unavailable",
                    [("Content-Type", "text/xml;charset=UTF-8")],
                    throttle_body(str(uuid.uuid4())),
                )
                return
            try:
                status, reason, up_headers, up_body = proxy._forward(
                    self.command, self.path, headers, body
                )
            except OSError as exc:
                self._reply(502, "Bad Gateway", [("Content-Type", "text/plain")], str(exc).encode())
                return
            if fate == "hang" and action is not None:
                proxy._held(action)
                # AWS has acted; the caller must never learn it. Hold the socket open until
                # the proxy closes, then drop it unanswered.
                proxy._closed.wait()
                self.close_connection = True
                return
            kept = [(k, v) for k, v in up_headers if k.lower() not in HOP_BY_HOP]
            self._reply(status, reason, kept, up_body)

        def _reply(
            self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes
        ) -> None:
            # send_response_only: no Server/Date of our own, so upstream's come through as-is.
            self.send_response_only(status, reason)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _handle

        def log_message(self, format: str, *args: object) -> None:
            """Silence per-request logging: pytest output stays readable."""

    return Handler
