"""A stand-in for Amazon Bedrock Runtime's Converse API, for tests, the quality bench and local runs.

It speaks the REST-JSON protocol botocore speaks (`POST /model/{modelId}/converse`) and, like
AWS, refuses any request whose SigV4 signature it cannot recompute: it rebuilds the canonical
request from what arrived (the signed headers, the body) and signs it with botocore's own
signer and the credentials it was given, so a request signed with other credentials, for
another region or service, or altered on the way, is answered 403. It records every request,
and answers like the OpenAI stand-in (`model.py`), first match wins: scripted replies
(`then`), a `responder`, or the default model (`model.ticket_for`).

    python -m triage.demo.converse --port 8091 [--access-key test --secret-key test]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import hmac
import json
import re
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from types import FrameType
from typing import Any
from urllib.parse import unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from triage.demo.loopback import KeepAliveHandler, LoopbackServer
from triage.demo.model import Reply, estimated_tokens, texts, ticket_for

_ROUTE = re.compile(r"^/model/(?P<model>[^/]+)/converse$")
_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, ?SignedHeaders=(?P<signed>[a-z0-9;-]+), ?"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)
#: How far a request's X-Amz-Date may be from the server's clock (AWS allows 5 minutes).
_SKEW_S = 300


def converse_reply(
    text: str,
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 100,
    output_tokens: int = 50,
) -> Reply:
    """A 200 Converse answer whose one text block says `text`."""
    return Reply(
        body={
            "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
            "stopReason": stop_reason,
            "usage": {
                "inputTokens": input_tokens,
                "outputTokens": output_tokens,
                "totalTokens": input_tokens + output_tokens,
            },
            "metrics": {"latencyMs": 1},
        }
    )


def converse_error(status: int, code: str, message: str = "") -> Reply:
    """An error as Bedrock Runtime sends one: the code in `x-amzn-ErrorType`, JSON message."""
    return Reply(
        status=status,
        body={"message": message or code},
        headers={
            "x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"
        },
    )


def check_signature(
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    service: str = "bedrock",
    now: datetime | None = None,
) -> str | None:
    """None when the request carries a valid SigV4 signature by `credentials` for `region` and
    `service`; else why not. `headers` are the received ones, names lower-cased."""
    match = _AUTHORIZATION.match(headers.get("authorization", ""))
    if match is None:
        return "no SigV4 Authorization header"
    stamp = headers.get("x-amz-date", "")
    wrong = [
        name
        for name, got, want in (
            ("access key", match["key"], credentials.access_key),
            ("region", match["region"], region),
            ("service", match["service"], service),
            ("date", match["date"], stamp[:8]),
        )
        if got != want
    ]
    if wrong:
        return f"wrong {', '.join(wrong)} in the credential scope"
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "X-Amz-Date is not a SigV4 timestamp"
    if abs(((now or datetime.now(UTC)) - signed_at).total_seconds()) > _SKEW_S:
        return "X-Amz-Date is too far from the server's clock"
    signed = match["signed"].split(";")
    if not {"host", "x-amz-date"} <= set(signed) or any(h not in headers for h in signed):
        return "host or x-amz-date unsigned, or a signed header missing"
    if credentials.token and (
        "x-amz-security-token" not in signed or headers["x-amz-security-token"] != credentials.token
    ):
        return "the session token is missing, unsigned or not the one issued"
    declared = headers.get("x-amz-content-sha256")
    if declared and declared != hashlib.sha256(body).hexdigest():
        return "the body is not the one whose hash was signed"
    request = AWSRequest(
        method=method,
        url=f"http://{headers['host']}{path}",
        data=body,
        headers={name: headers[name] for name in signed},
    )
    request.context["timestamp"] = stamp
    signer = SigV4Auth(credentials, service, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match["signature"]):
        return "the signature does not match the request"
    return None


class ConverseServer(LoopbackServer):
    thread_name = "converse-stub"

    def __init__(
        self,
        credentials: Credentials | None = None,
        region: str = "us-east-1",
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        #: The only credentials whose signatures are accepted (an ECS task role's, in tests).
        self.credentials = credentials or Credentials("test", "test")
        self.region = region
        #: Seconds the default model takes per answer (scripted replies carry their own).
        self.latency_s = 0.0
        #: A function computing each reply from the request body; None = the default model.
        self.responder: Callable[[dict[str, Any]], Reply] | None = None
        #: The default model obeys the alert's text and invents facts (see `model.py`).
        self.gullible = False
        #: Fields put over the default model's ticket.
        self.answer: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._script: list[Reply] = []
        self._requests: list[dict[str, Any]] = []
        self._raw: list[bytes] = []
        self._models: list[str] = []
        self._refused: list[str] = []
        self._in_flight = 0
        self._max_in_flight = 0
        super().__init__(host, port)

    @property
    def url(self) -> str:
        """The endpoint to give botocore (`AWS_ENDPOINT_URL_BEDROCK_RUNTIME`)."""
        return self.base_url

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of every correctly signed request body, in order."""
        with self._lock:
            return copy.deepcopy(self._requests)

    @property
    def raw_bodies(self) -> list[bytes]:
        """Every request body exactly as it arrived, signed or not."""
        with self._lock:
            return list(self._raw)

    @property
    def model_ids(self) -> list[str]:
        """The model id of each correctly signed request."""
        with self._lock:
            return list(self._models)

    @property
    def refused(self) -> list[str]:
        """Why each request that failed the signature check was refused."""
        with self._lock:
            return list(self._refused)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def max_in_flight(self) -> int:
        with self._lock:
            return self._max_in_flight

    def then(self, *replies: Reply) -> ConverseServer:
        """Queue scripted replies; each signed request takes the next one until they run out."""
        with self._lock:
            self._script.extend(replies)
        return self

    # --- request handling (server threads) -----------------------------------------------

    def _answer(self, model_id: str, raw: bytes) -> Reply:
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            return converse_error(400, "ValidationException", "body is not JSON")
        with self._lock:
            self._requests.append(request)
            self._models.append(model_id)
            scripted = self._script.pop(0) if self._script else None
        if scripted is not None:
            return scripted
        if self.responder is not None:
            return self.responder(request)
        ticket = json.dumps(ticket_for(request, gullible=self.gullible, answer=self.answer))
        reply = converse_reply(
            ticket,
            input_tokens=sum(estimated_tokens(t) for t in texts(request)),
            output_tokens=estimated_tokens(ticket),
        )
        return Reply(reply.status, reply.body, reply.headers, self.latency_s)

    def _handle(self, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        with self._lock:
            self._raw.append(raw)
        why = check_signature("POST", path, headers, raw, self.credentials, self.region)
        if why is not None:
            with self._lock:
                self._refused.append(why)
            return converse_error(403, "InvalidSignatureException", why)
        route = _ROUTE.match(path.split("?")[0])
        if route is None:
            return converse_error(404, "UnknownOperationException", f"no route {path}")
        return self._answer(unquote(route["model"]), raw)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(KeepAliveHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with server._lock:
                    server._in_flight += 1
                    server._max_in_flight = max(server._max_in_flight, server._in_flight)
                try:
                    reply = server._handle(self.path, headers, raw)
                    if reply.delay_s:
                        time.sleep(reply.delay_s)
                finally:
                    # Out of flight before the answer leaves: the client may send its next
                    # request the moment it reads this one, and must not be counted twice.
                    with server._lock:
                        server._in_flight -= 1
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                data = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to answer

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests assert on the recorded requests instead."""

        return Handler


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Stand-in Bedrock Converse API for triage.")
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 only inside a container")
    parser.add_argument("--port", type=int, default=8091, help="0 picks a free port")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--access-key", default="test", help="the access key id to accept")
    parser.add_argument("--secret-key", default="test", help="its secret key")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="time per answer")
    args = parser.parse_args(argv)
    server = ConverseServer(
        Credentials(args.access_key, args.secret_key), args.region, args.host, args.port
    )
    server.latency_s = args.latency_ms / 1000
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    print(f"converse stub listening on {server.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.stop()


if __name__ == "__main__":
    main()
