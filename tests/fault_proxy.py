"""A loopback HTTP proxy in front of moto that injects faults at the AWS protocol level.

moto accepts any receipt handle a message ever had, so a real DeleteMessageBatch never reports
a failed entry for a message still on the queue. The proxy makes one: told `fail_deletes(n)`, it
withholds the next `n` DeleteMessageBatch entries from moto (the messages stay on the queue, as
after a real failure) and answers them as `Failed` entries beside moto's `Successful` ones. It
also counts the error types moto answers (`ConditionalCheckFailedException` …), so a test can
prove a race really happened. Both SQS and DynamoDB speak AWS JSON 1.0 here; the action is in
the `X-Amz-Target` header (`AmazonSQS.DeleteMessageBatch`, `DynamoDB_20120810.PutItem`).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlparse

from triage.demo.loopback import KeepAliveHandler, LoopbackServer

#: Headers that describe one hop, not the message; the proxy sets its own.
_HOP_HEADERS = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "accept-encoding"}
)


class FaultProxy(LoopbackServer):
    thread_name = "fault-proxy"

    def __init__(self, upstream: str) -> None:
        parsed = urlparse(upstream)
        assert parsed.hostname is not None and parsed.port is not None
        self._upstream = (parsed.hostname, parsed.port)
        self._lock = threading.Lock()
        self._delete_failures = 0
        #: Receipt handle → message id, from every ReceiveMessage answer seen.
        self._ids: dict[str, str] = {}
        self._failed_ids: list[str] = []
        self._errors: Counter[str] = Counter()
        #: X-Amz-Target prefix → seconds its requests are held before they are relayed.
        self._delays: dict[str, float] = {}
        #: X-Amz-Target → what turns the upstream's 200 answer into the one the client gets.
        self._rewrites: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}
        #: X-Amz-Target → an error answer (status, AWS error code, message) given instead of
        #: relaying.
        self._errors_for: dict[str, tuple[int, str, str]] = {}
        #: X-Amz-Target → how its answer breaks (see `break_answers`).
        self._breaks: dict[str, str] = {}
        #: Requests seen per X-Amz-Target.
        self._requests: Counter[str] = Counter()
        super().__init__()

    @property
    def url(self) -> str:
        return self.base_url

    def queue_url(self, moto_queue_url: str) -> str:
        """The same queue, addressed through the proxy."""
        return self.url + urlparse(moto_queue_url).path

    def fail_deletes(self, count: int) -> None:
        """Answer the next `count` DeleteMessageBatch entries as failed, without deleting them."""
        with self._lock:
            self._delete_failures = count

    @property
    def failed_deletes(self) -> list[str]:
        """Message ids whose delete the proxy failed, in order."""
        with self._lock:
            return list(self._failed_ids)

    def delay(self, target_prefix: str, seconds: float) -> None:
        """Hold every request whose X-Amz-Target starts with `target_prefix` (e.g.
        `DynamoDB_20120810.`) for `seconds` before relaying it (0: no longer); a slow service."""
        with self._lock:
            self._delays[target_prefix] = seconds

    def rewrite(self, target: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        """Answer every successful `target` call (e.g. `AmazonSQS.ReceiveMessage`) with
        `change(answer)` instead: a service sending what its API never promised."""
        with self._lock:
            self._rewrites[target] = change

    def refuse(
        self, target: str, status: int, code: str, message: str = "injected by fault_proxy"
    ) -> None:
        """Answer every `target` call with the AWS error `code` (e.g. 400
        ProvisionedThroughputExceededException) and `message` instead of relaying it."""
        with self._lock:
            self._errors_for[target] = (status, code, message)

    def break_answers(self, target: str, how: str) -> None:
        """Break every `target` call's answer: `html` (a load balancer's 503 page, not JSON),
        `reset` (the connection reset, no answer), `cut` (the upstream's answer cut short
        halfway, then the connection closed)."""
        assert how in ("html", "reset", "cut"), how
        with self._lock:
            self._breaks[target] = how

    def heal(self, target: str) -> None:
        """`target` calls are relayed again: no refusal, no broken answer."""
        with self._lock:
            self._errors_for.pop(target, None)
            self._breaks.pop(target, None)

    def requests(self, target: str) -> int:
        """How many `target` calls the proxy was sent (answered, refused or broken)."""
        with self._lock:
            return self._requests[target]

    def errors(self, code: str) -> int:
        """How many answers moto gave with this error type (e.g. ConditionalCheckFailedException)."""
        with self._lock:
            return self._errors[code]

    # --- On the proxy's threads -------------------------------------------------------------

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self._upstream, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            connection.close()

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        target = headers.get("x-amz-target", "")
        with self._lock:
            hold_s = max((s for p, s in self._delays.items() if target.startswith(p)), default=0)
            refused = self._errors_for.get(target)
        if refused is not None:
            status, code, message = refused
            body = json.dumps({"__type": code, "message": message}).encode()
            return status, [("Content-Type", "application/x-amz-json-1.0")], body
        if hold_s:
            time.sleep(hold_s)  # on this request's own thread: other requests go on
        withheld: list[dict[str, Any]] = []
        if target == "AmazonSQS.DeleteMessageBatch":
            request = json.loads(body)
            with self._lock:
                take = min(self._delete_failures, len(request["Entries"]))
                self._delete_failures -= take
                withheld = request["Entries"][:take]
                for entry in withheld:
                    self._failed_ids.append(self._ids.get(entry["ReceiptHandle"], "?"))
            if withheld:
                request["Entries"] = request["Entries"][take:]
                body = json.dumps(request).encode()
        if withheld and not json.loads(body)["Entries"]:
            # Every entry withheld: answer without asking moto (it refuses an empty batch).
            status, reply_headers, reply = (
                200,
                [("Content-Type", "application/x-amz-json-1.0")],
                b"{}",
            )
        else:
            status, reply_headers, reply = self._forward(method, path, headers, body)
        if target == "AmazonSQS.ReceiveMessage" and status == 200:
            with self._lock:
                for message in json.loads(reply).get("Messages", []):
                    self._ids[message["ReceiptHandle"]] = message["MessageId"]
        if status >= 400 and reply:
            # Error bodies that are not JSON (moto's HTML 500 page) are simply not counted.
            with self._lock, contextlib.suppress(ValueError, AttributeError):
                self._errors[str(json.loads(reply).get("__type", "?")).rsplit("#", 1)[-1]] += 1
        with self._lock:
            change = self._rewrites.get(target)
        if change is not None and status == 200:
            reply = json.dumps(change(json.loads(reply or b"{}"))).encode()
        if withheld:
            answer = json.loads(reply or b"{}")
            answer.setdefault("Successful", [])
            answer["Failed"] = [
                *answer.get("Failed", []),
                *(
                    {
                        "Id": entry["Id"],
                        "SenderFault": False,
                        "Code": "InternalError",
                        "Message": "injected by fault_proxy",
                    }
                    for entry in withheld
                ),
            ]
            reply = json.dumps(answer).encode()
        return status, reply_headers, reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(KeepAliveHandler):
            def do_POST(self) -> None:
                self._relay()

            def do_GET(self) -> None:
                self._relay()

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {
                    k.lower(): v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS
                }
                target = headers.get("x-amz-target", "")
                with proxy._lock:
                    proxy._requests[target] += 1
                    broken = proxy._breaks.get(target)
                if broken == "reset":
                    self._reset()
                    return
                if broken == "html":
                    self._html_503()
                    return
                status, reply_headers, reply = proxy._exchange(
                    self.command, self.path, headers, body
                )
                if broken == "cut":
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply[: len(reply) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.send_response(status)
                for name, value in reply_headers:
                    if name.lower() not in _HOP_HEADERS and name.lower() not in ("server", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def _reset(self) -> None:
                # SO_LINGER 0: close() sends a RST, as a crashed peer's kernel does.
                linger = struct.pack("ii", 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.close_connection = True
                self.connection.close()

            def _html_503(self) -> None:
                page = b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
                self.send_response(503)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests assert on what the proxy recorded."""

        return Handler
