"""The one-shot commands (send, dlq, check) and the gateway's start-up against faulty services:
an endpoint that never answers, a model that refuses, a queue that is not there."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import structlog
from botocore.config import Config
from botocore.credentials import Credentials

from daemon_harness import Queues
from ingest_harness import SqsProxy, env_for, ingest_settings, loopback_client, running
from triage import aws
from triage.cli import main
from triage.demo.converse import ConverseServer, converse_error
from triage.demo.model import ChatServer, Reply
from triage.demo.model import error as model_error
from triage.ops import check
from triage.ops.check import run_checks
from triage.settings import Settings


@dataclass
class Silent:
    """A TCP server on 127.0.0.1 that reads requests and never answers them."""

    sock: socket.socket
    requests: int = 0
    held: list[socket.socket] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed at the end of the test
            self.held.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        try:
            while data := conn.recv(65536):
                self.requests += data.count(b"HTTP/1.1\r\n")
        except OSError:
            return

    def wait_requests(self, count: int, deadline_s: float = 5) -> int:
        deadline = time.monotonic() + deadline_s
        while self.requests < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.requests


@pytest.fixture
def silent() -> Iterator[Silent]:
    sock = socket.create_server(("127.0.0.1", 0))
    server = Silent(sock)
    threading.Thread(target=server.serve, daemon=True).start()
    try:
        yield server
    finally:
        sock.close()
        for conn in server.held:
            conn.close()


@pytest.fixture
def quick_one_shot(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one-shot commands' client settings with their timeouts cut to a fraction of a
    second (the tries and the retry mode as they are)."""
    quick = aws.ONE_SHOT.merge(Config(read_timeout=0.2))
    monkeypatch.setattr(aws, "ONE_SHOT", quick)
    monkeypatch.setattr(check, "ONE_SHOT", quick)


@pytest.mark.parametrize(
    "argv",
    [["send", "--queue-url", "{url}/123456789012/q", "{file}"], ["dlq", "peek"], ["check"]],
    ids=["send", "dlq", "check"],
)
def test_one_shot_commands_give_up_on_a_silent_endpoint_after_two_tries(
    argv: list[str],
    silent: Silent,
    quick_one_shot: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """send, dlq and check against an endpoint that never answers try each call twice (the
    daemon's clients four times, 30 s each) and fail with exit 1 and a line naming it."""
    body = f"{tmp_path}/alert.json"
    with open(body, "w") as f:
        f.write('{"title": "x"}')
    monkeypatch.setenv("AWS_ENDPOINT_URL", silent.url)
    monkeypatch.setenv("ALERT_TRIAGE_QUEUE_URL", f"{silent.url}/123456789012/q")
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path}/t.db")
    code = main([arg.format(url=silent.url, file=body) for arg in argv])
    out, err = capsys.readouterr()
    assert code == 1
    assert silent.wait_requests(2) == 2
    shown = out if argv[0] == "check" else err
    assert f'Read timeout on endpoint URL: "{silent.url}/"' in shown
    assert "Traceback" not in err


# --- The gateway's start-up: stop on a configuration mistake, wait out an outage ------------


class AwsAnswers(BaseHTTPRequestHandler):
    """SQS's JSON protocol answering every call with the status and error set on the server."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, code = self.server.answer  # type: ignore[attr-defined]
        body = json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": "no"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def aws_answers() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), AwsAnswers)
    # A short poll interval: shutdown() waits for serve_forever's next look (0.5 s by default).
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _gateway_env(monkeypatch: pytest.MonkeyPatch, queue_url: str, endpoint: str) -> None:
    for name, value in env_for(ingest_settings(queue_url, endpoint)).items():
        if name not in {"PATH", "PYTHONPATH", "HOME"}:
            monkeypatch.setenv(name, value)


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("no such queue", "ALERT_TRIAGE_QUEUE_URL {url}: AWS.SimpleQueueService.NonExistentQueue"),
        ("no queue in the url", "ALERT_TRIAGE_QUEUE_URL {url}: AWS.SimpleQueueService.Non"),
        ("no credentials", "no AWS credentials: set AWS_ACCESS_KEY_ID"),
    ],
)
def test_the_gateway_refuses_to_start_on_a_queue_it_can_never_use(
    queues: Queues,
    fault: str,
    says: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`triage ingest` given a queue that does not exist, a URL naming no queue, or no AWS
    credentials exits 2 with one line, as `triage run` does (it answered 503 forever)."""
    url = {
        "no such queue": queues.url + "-missing",
        "no queue in the url": queues.endpoint + "/",
        "no credentials": queues.url,
    }[fault]
    _gateway_env(monkeypatch, url, queues.endpoint)
    if fault == "no credentials":
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.delenv(name)
        for name in ("HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            monkeypatch.setenv(name, str(tmp_path / "none"))
    assert main(["ingest"]) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("triage:")]
    assert line.startswith("triage: config: " + says.format(url=url))


def test_the_gateway_refuses_to_start_with_credentials_sqs_refuses(
    aws_answers: ThreadingHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Credentials SQS does not know (UnrecognizedClientException) stop the gateway at once
    with one line and exit 2."""
    endpoint = f"http://127.0.0.1:{aws_answers.server_address[1]}"
    aws_answers.answer = (400, "UnrecognizedClientException")  # type: ignore[attr-defined]
    _gateway_env(monkeypatch, f"{endpoint}/123456789012/q", endpoint)
    assert main(["ingest"]) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("triage:")]
    assert line.endswith("/123456789012/q: UnrecognizedClientException")


async def test_the_gateway_waits_out_a_queue_that_fails_saying_so_once(
    aws_answers: ThreadingHTTPServer,
) -> None:
    """A queue answering 500 at start-up is an outage, not a mistake: the gateway listens,
    /readyz says the queue is unreachable, and one line says why."""
    endpoint = f"http://127.0.0.1:{aws_answers.server_address[1]}"
    aws_answers.answer = (500, "InternalError")  # type: ignore[attr-defined]
    with structlog.testing.capture_logs() as logs:
        async with (
            running(ingest_settings(f"{endpoint}/123456789012/q", endpoint)) as service,
            loopback_client(service.port) as client,
        ):
            ready = await client.get("/readyz")
            # botocore retries the 500s before the probe gives up: wait for its line.
            deadline = asyncio.get_running_loop().time() + 10
            while not any(e["event"] == "ingest.queue_unreachable" for e in logs):
                assert asyncio.get_running_loop().time() < deadline, logs
                await asyncio.sleep(0.02)
    assert ready.status_code == 503
    assert ready.json()["failing"] == {"queue": "unreachable"}
    assert [e["error"] for e in logs if e["event"] == "ingest.queue_unreachable"] == [
        "InternalError"
    ]


# --- triage check: the summariser's model answers ------------------------------------------

KEY = "sk-proj-check0123456789abcdefghij"


async def _llm_line(tmp_path: Path, **values: Any) -> tuple[int, str]:
    """`triage check`'s exit code and its llm line, for settings with `values`."""
    settings = Settings(
        store_url=f"sqlite:///{tmp_path}/t.db", sinks=("slack",), llm_timeout_s=1.0, **values
    )
    out = io.StringIO()
    code = await run_checks(settings, out)
    (line,) = [x for x in out.getvalue().splitlines() if x.split()[1:2] == ["llm"]]
    return code, line


@pytest.fixture
def chat() -> Iterator[ChatServer]:
    with ChatServer() as server:
        yield server


async def test_check_asks_the_openai_model_for_one_token(chat: ChatServer, tmp_path: Path) -> None:
    """With an OpenAI model configured, check sends it one request cut at one token and says
    it answers."""
    _, line = await _llm_line(
        tmp_path, openai_api_key=KEY, openai_base_url=chat.url, openai_model="gpt-x"
    )
    assert line.startswith("ok    llm      openai gpt-x at http://127.0.0.1:")
    (request,) = chat.requests
    assert request["model"] == "gpt-x" and request["max_tokens"] == 1


async def test_check_asks_a_reasoning_model_as_the_summariser_would(
    chat: ChatServer, tmp_path: Path
) -> None:
    """A model refusing `max_tokens` for `max_completion_tokens` (OpenAI's reasoning models)
    is asked again that way, and passes."""
    refusal = "Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens' instead."
    chat.then(model_error(400, refusal))
    _, line = await _llm_line(tmp_path, openai_api_key=KEY, openai_base_url=chat.url)
    assert line.startswith("ok    llm")
    assert chat.requests[1]["max_completion_tokens"] == 1 and "max_tokens" not in chat.requests[1]


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (model_error(401, f"Incorrect API key provided: {KEY}"), "HTTP 401: Incorrect API key"),
        (model_error(404, "The model `gpt-x` does not exist"), "HTTP 404: The model `gpt-x`"),
        (Reply(body="<html>sign in</html>"), "the answer is not JSON"),
        (Reply(body={"data": []}), "the answer is not a chat completion"),
        (Reply(delay_s=3), "no answer within 1 s"),
    ],
    ids=["key refused", "no such model", "html", "another API", "silent"],
)
async def test_check_fails_on_a_model_that_does_not_answer_without_showing_the_key(
    chat: ChatServer, reply: Reply, says: str, tmp_path: Path
) -> None:
    """A refused key, a model that does not exist, a base URL serving something else and a
    model that never answers are one FAIL line each, which never shows the key (it showed
    nothing until the first incident fell back)."""
    chat.then(reply)
    code, line = await _llm_line(
        tmp_path, openai_api_key=KEY, openai_base_url=chat.url, openai_model="gpt-x"
    )
    assert code == 1
    assert line.startswith("FAIL  llm      openai gpt-x at ") and says in line
    assert KEY not in line


async def test_check_asks_bedrock_for_one_token(tmp_path: Path) -> None:
    """With Bedrock configured, check sends one signed Converse call with maxTokens 1, and
    a model without access is one FAIL line with Bedrock's code."""
    with ConverseServer(Credentials("testing", "testing")) as bedrock:
        values = {"llm_provider": "bedrock", "aws_endpoint_url_bedrock_runtime": bedrock.url}
        _, passed = await _llm_line(tmp_path, bedrock_model_id="anthropic.m-v1:0", **values)
        bedrock.then(converse_error(403, "AccessDeniedException", "no access to the model"))
        code, failed = await _llm_line(tmp_path, bedrock_model_id="anthropic.m-v1:0", **values)
        assert bedrock.requests[0]["inferenceConfig"] == {"maxTokens": 1}
    assert passed == "ok    llm      bedrock anthropic.m-v1:0 in us-east-1 answers"
    assert code == 1
    assert failed.endswith(": AccessDeniedException: no access to the model")


# --- triage send: bodies in calls SQS takes ---------------------------------------------------


class SqsBatchLimit(SqsProxy):
    """moto behind SQS's batch limit, which moto does not keep: a SendMessageBatch call of
    more than 262,144 bytes in all is refused whole, BatchRequestTooLong."""

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if headers.get("x-amz-target", "").endswith(".SendMessageBatch"):
            entries = json.loads(body)["Entries"]
            if sum(len(e["MessageBody"].encode()) for e in entries) > 262_144:
                code = "AWS.SimpleQueueService.BatchRequestTooLong"
                said = {"__type": f"com.amazonaws.sqs#{code}", "message": "too long"}
                return (
                    400,
                    [
                        ("Content-Type", "application/x-amz-json-1.0"),
                        ("x-amzn-query-error", f"{code};Sender"),
                    ],
                    json.dumps(said).encode(),
                )
        return super()._exchange(method, path, headers, body)


def test_send_puts_large_bodies_in_calls_sqs_takes(
    queues: Queues,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Files of 200 KB each go in calls under SQS's 256 KiB batch limit, and one too large
    for any call fails alone, named: the rest arrive (one call with all of them was refused
    whole, and nothing was sent)."""
    files = []
    for i, size in enumerate([200_000, 200_000, 300_000, 200_000]):
        path = tmp_path / f"{i}.json"
        path.write_text(json.dumps({"title": f"alert {i}", "description": "x" * size}))
        files.append(str(path))
    monkeypatch.setattr(logging.getLogger("werkzeug"), "disabled", True)  # moto's, in-process
    with SqsBatchLimit(queues.endpoint) as proxy:
        url = proxy.url + urlparse(queues.url).path
        monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
        code = main(["send", "--queue-url", url, *files])
    out, err = capsys.readouterr()
    assert code == 1
    said = [line for line in err.splitlines() if line.startswith("triage:")]
    assert said == [f"triage: send: {files[2]}: BatchRequestTooLong: too long"]
    assert out.strip() == f"sent 3 of 4 message(s) to {url}"
    assert queues.depth() == 3
