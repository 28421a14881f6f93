"""A stand-in OpenAI-compatible chat completions server, for tests, benchmarks and local runs.

It speaks the HTTP protocol the openai SDK speaks (`POST /v1/chat/completions`), records every
request, and answers in one of three ways, first match wins:

1. scripted replies queued with `then(...)` (a 429, a 500, a slow answer, invalid JSON …);
2. `responder`, a function from the request body to a reply (a "model" a test controls);
3. the default model: a valid ticket for the alert in the prompt, after `latency_s`, with the
   fields of `answer` put over it. It is no language model: its title is the alert's, its
   steps the runbook and the first known-error pattern's steps from the prompt's hint, and
   its usage triage's own token estimate of the request. With `gullible = True` (`--gullible`) it is the worst model
   triage must survive: it takes the priority the alert's text asks for ("PRIORITY CRITICAL",
   critical when none is asked for) and states facts the alert does not hold (`INVENTED`).

`reject_json_schema = True` makes it answer `response_format: json_schema` with a 400, as many
OpenAI-compatible servers without structured outputs do. Runs on its own threads, so sync and
async callers alike can use it; listens on 127.0.0.1 unless told otherwise.

    python -m triage.demo.model --port 8090 --latency-ms 500 [--gullible]
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import FrameType
from typing import Any

from triage.demo.loopback import KeepAliveHandler, LoopbackServer

_FENCE = re.compile(r"<alert-([0-9a-f]+)>\n(.*)\n</alert-\1>", re.DOTALL)
#: The hint line triage writes before the fence (`prompt._hint`).
_HINT = re.compile(r"^Known error patterns [^\n]*:\n(\[.*\])$", re.MULTILINE)
#: What a gullible model obeys in the alert's text.
_PRIORITY_CUE = re.compile(r"(?i)\bpriority\W{0,3}(critical|high|medium|low)\b")

#: An address, a host and an instance a gullible model states although no alert holds them.
INVENTED_IP = "203.0.113.77"
INVENTED_HOST = "db-9.corp.example"
INVENTED_INSTANCE = "i-0f1e2d3c4b5a69788"
INVENTED = (
    f"Traffic from {INVENTED_IP} to {INVENTED_HOST} rose 340% since 03:12, "
    f"and {INVENTED_INSTANCE} stopped answering."
)


@dataclass(frozen=True)
class Reply:
    """One answer: HTTP status, a JSON body (or raw text), extra headers, a delay first."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


def completion(
    content: str | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    prompt_tokens: int = 100,
    completion_tokens: int = 50,
) -> Reply:
    """A 200 chat completion whose one choice says `content`."""
    return Reply(
        body={
            "id": "chatcmpl-stub",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "stub",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": refusal},
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
    )


def error(status: int, message: str, *, retry_after: str | None = None) -> Reply:
    """An OpenAI-shaped error answer."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return Reply(
        status=status,
        body={"error": {"message": message, "type": "stub_error", "code": None}},
        headers=headers,
    )


def texts(request: dict[str, Any]) -> list[str]:
    """Every text of a request's messages, in order: OpenAI's (`content` a string) and
    Converse's (`content` a list of `{"text": …}` blocks, `system` apart) alike."""
    found = [str(block.get("text", "")) for block in request.get("system") or []]
    for message in request.get("messages") or []:
        content = message.get("content")
        if isinstance(content, list):
            found += [str(block.get("text", "")) for block in content if isinstance(block, dict)]
        else:
            found.append(str(content or ""))
    return found


def alert_in(request: dict[str, Any]) -> dict[str, Any]:
    """The alert JSON triage fenced into the user message (empty if there is none)."""
    for content in texts(request):
        match = _FENCE.search(content)
        if match:
            try:
                value = json.loads(match.group(2))
            except ValueError:
                return {}
            return value if isinstance(value, dict) else {}
    return {}


def hint_in(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The known-error patterns triage put before the fence as a hint (empty if none)."""
    for content in texts(request):
        match = _HINT.search(content)
        if match:
            try:
                value = json.loads(match.group(1))
            except ValueError:
                return []
            return value if isinstance(value, list) else []
    return []


def ticket_for(
    request: dict[str, Any], *, gullible: bool = False, answer: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A plausible, valid ticket built from the fenced alert and the hint's steps (see the
    module docstring for `gullible` and `answer`)."""
    alert = alert_in(request)
    title = str(alert.get("title") or "Alert")
    where = ", ".join(f"{k}={v}" for k, v in sorted((alert.get("labels") or {}).items())[:3])
    steps = [str(s) for known in hint_in(request)[:1] for s in known.get("steps", [])]
    if alert.get("runbook_url"):
        steps.insert(0, f"Open the runbook: {alert['runbook_url']}")
    ticket = {
        "title": f"{title}"[:110],
        "priority": alert.get("stated_priority") or "high",
        "description": f"{alert.get('source', 'an alert source')} reports: {title}. "
        f"Where: {where or 'unknown'}.",
        "steps": steps[:8] or ["Check the service's dashboards", "Look at recent deploys"],
    }
    if gullible:
        text = " ".join(
            str(alert.get(k) or "") for k in ("title", "description", "raw_payload_excerpt")
        )
        cue = _PRIORITY_CUE.search(text)
        ticket["priority"] = cue.group(1).lower() if cue else "critical"
        ticket["title"] = f"{title[:70]} on {INVENTED_HOST}"
        ticket["description"] = f"{ticket['description']} {INVENTED}"
    ticket.update(answer or {})
    return ticket


def estimated_tokens(text: str) -> int:
    """What the stand-in reports as usage: triage's own offline estimate (UTF-8 bytes / 4)."""
    return -(-len(text.encode("utf-8")) // 4)


def default_model(
    request: dict[str, Any], *, gullible: bool = False, answer: dict[str, Any] | None = None
) -> Reply:
    """A chat completion holding `ticket_for(request)`; its usage is estimated from the text."""
    content = json.dumps(ticket_for(request, gullible=gullible, answer=answer))
    return completion(
        content,
        prompt_tokens=sum(estimated_tokens(t) for t in texts(request)),
        completion_tokens=estimated_tokens(content),
    )


class ChatServer(LoopbackServer):
    thread_name = "chat-stub"

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        #: Seconds the default model takes per answer (scripted replies carry their own).
        self.latency_s = 0.0
        #: Answer json_schema requests with 400, as servers without structured outputs do.
        self.reject_json_schema = False
        #: A function computing each reply from the request body; None = the default model.
        self.responder: Callable[[dict[str, Any]], Reply] | None = None
        #: The default model obeys the alert's text and invents facts (see the docstring).
        self.gullible = False
        #: Fields put over the default model's ticket, e.g. {"priority": "critical"}.
        self.answer: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._script: list[Reply] = []
        self._requests: list[dict[str, Any]] = []
        self._raw: list[bytes] = []
        self._in_flight = 0
        self._max_in_flight = 0
        super().__init__(host, port)

    @property
    def url(self) -> str:
        """The base URL to give the SDK (`OPENAI_BASE_URL`)."""
        return self.base_url + "/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """A copy of every request body received, in order."""
        with self._lock:
            return copy.deepcopy(self._requests)

    @property
    def raw_bodies(self) -> list[bytes]:
        """Every request body exactly as it arrived on the wire."""
        with self._lock:
            return list(self._raw)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def max_in_flight(self) -> int:
        """The most requests this server was answering at one time."""
        with self._lock:
            return self._max_in_flight

    def then(self, *replies: Reply) -> ChatServer:
        """Queue scripted replies; each request takes the next one until they run out."""
        with self._lock:
            self._script.extend(replies)
        return self

    # --- request handling (server threads) -----------------------------------------------

    def _answer(self, raw: bytes) -> Reply:
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            return error(400, "body is not JSON")
        with self._lock:
            self._requests.append(request)
            self._raw.append(raw)
            scripted = self._script.pop(0) if self._script else None
        if scripted is not None:
            return scripted
        format_type = (request.get("response_format") or {}).get("type")
        if self.reject_json_schema and format_type == "json_schema":
            return error(400, "response_format json_schema is not supported by this server")
        if self.responder is not None:
            return self.responder(request)
        reply = default_model(request, gullible=self.gullible, answer=self.answer)
        return Reply(reply.status, reply.body, reply.headers, self.latency_s)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(KeepAliveHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not self.path.split("?")[0].rstrip("/").endswith("/chat/completions"):
                    self._send(error(404, f"no route {self.path}"))
                    return
                with server._lock:
                    server._in_flight += 1
                    server._max_in_flight = max(server._max_in_flight, server._in_flight)
                try:
                    reply = server._answer(raw)
                    if reply.delay_s:
                        time.sleep(reply.delay_s)
                finally:
                    # Out of flight before the answer leaves: the client may send its next
                    # request the moment it reads this one, and must not be counted twice.
                    with server._lock:
                        server._in_flight -= 1
                self._send(reply)

            def _send(self, reply: Reply) -> None:
                if isinstance(reply.body, str | bytes):
                    data = reply.body.encode() if isinstance(reply.body, str) else reply.body
                else:
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
    parser = argparse.ArgumentParser(description="Stand-in OpenAI-compatible model for triage.")
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 only inside a container")
    parser.add_argument("--port", type=int, default=8090, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="time per answer")
    parser.add_argument(
        "--no-json-schema", action="store_true", help="reject response_format json_schema"
    )
    parser.add_argument(
        "--gullible",
        action="store_true",
        help="obey priorities the alert asks for and state facts it does not hold",
    )
    args = parser.parse_args(argv)
    server = ChatServer(args.host, args.port)
    server.latency_s = args.latency_ms / 1000
    server.reject_json_schema = args.no_json_schema
    server.gullible = args.gullible
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    print(f"chat stub listening on {server.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.stop()


if __name__ == "__main__":
    main()
