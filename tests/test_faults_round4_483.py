"""AWS faults, round 4 (helper 483): the task role's credentials and the queue's calls.

The daemon's clients get their credentials as an ECS task does: from a container credentials
endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`), here a loopback stand-in. SQS is moto behind
`fault_proxy.FaultProxy`, which here also refuses requests signed with a key it was told has
expired (`ExpiredTokenException`, as SQS does when a role's session token ran out or was
revoked before the expiry the endpoint gave)."""

from __future__ import annotations

import asyncio
import email.utils
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import aioboto3
import pytest
import structlog
from botocore.exceptions import CredentialRetrievalError

from daemon_harness import TOKEN, DaemonThread, Queues, settings_for
from fault_proxy import FaultProxy
from triage import aws as aws_module
from triage.app import check_queue
from triage.aws import Aws, session_credentials
from triage.demo.loopback import KeepAliveHandler, LoopbackServer
from triage.demo.ticketd import TicketServer
from triage.settings import Settings
from triage.sqs.inbox import InboxError, SqsInbox

RECEIVE = "AmazonSQS.ReceiveMessage"


class CredentialsEndpoint(LoopbackServer):
    """ECS's container credentials endpoint: answers each GET with the task role's current
    credentials (`rotate` hands out the next ones), or, while `down`, with a 500."""

    thread_name = "credentials-endpoint"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 1
        self.down = False
        #: Seconds each answer takes (an ECS agent busy as the task starts).
        self.slow_s = 0.0
        self.asked = 0
        super().__init__()

    @property
    def access_key(self) -> str:
        with self._lock:
            return f"ASIATASKROLE{self._generation:08d}"

    def rotate(self) -> None:
        """The next GET answers new credentials, as the ECS agent's after a refresh."""
        with self._lock:
            self._generation += 1

    def _answer(self) -> dict[str, str]:
        # Valid for six hours as far as the endpoint says: botocore would not refresh them on
        # its own for hours.
        expiry = datetime.now(UTC) + timedelta(hours=6)
        return {
            "AccessKeyId": self.access_key,
            "SecretAccessKey": f"secret-{self.access_key}",
            "Token": f"token-{self.access_key}",
            "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "RoleArn": "arn:aws:iam::000000000000:role/triage",
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(KeepAliveHandler):
            def do_GET(self) -> None:
                with endpoint._lock:
                    endpoint.asked += 1
                if endpoint.slow_s:
                    # On this request's own thread: a slow server, not a stopped test.
                    time.sleep(endpoint.slow_s)
                if endpoint.down:
                    body = b"credentials unavailable"
                    self.send_response(500)
                else:
                    body = json.dumps(endpoint._answer()).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests assert on what the daemon did."""

        return Handler


#: The access key id a SigV4 `Authorization` header was signed with.
_SIGNED_BY = re.compile(r"Credential=([A-Z0-9]+)/")


class ExpiringProxy(FaultProxy):
    """The fault proxy, refusing every request signed with a key in `expired` as SQS does once
    a role's session has ended; `signed_by` lists the key of every request, in order."""

    def __init__(self, upstream: str) -> None:
        self.expired: set[str] = set()
        self.signed_by: list[str] = []
        super().__init__(upstream)

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        found = _SIGNED_BY.search(headers.get("authorization", ""))
        key = found.group(1) if found else "?"
        with self._lock:
            self.signed_by.append(key)
            refused = key in self.expired
        if refused:
            answer = {
                "__type": "com.amazon.coral.service#ExpiredTokenException",
                "message": "The security token included in the request is expired",
            }
            return (
                400,
                [("Content-Type", "application/x-amz-json-1.0")],
                json.dumps(answer).encode(),
            )
        return super()._exchange(method, path, headers, body)


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[CredentialsEndpoint]:
    """The container credentials endpoint, and an environment that names it as the only
    source of credentials (no keys in the environment, no files, no instance metadata)."""
    with CredentialsEndpoint() as server:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{server.base_url}/v2/creds")
        yield server


@pytest.fixture
def proxy(queues: Queues) -> Iterator[ExpiringProxy]:
    with ExpiringProxy(queues.endpoint) as p:
        yield p


@pytest.fixture
async def aws(queues: Queues, proxy: ExpiringProxy) -> AsyncIterator[Aws]:
    settings = Settings(
        queue_url=proxy.queue_url(queues.url), aws_endpoint_url=proxy.url, aws_region="us-east-1"
    )
    opened = Aws(settings)
    try:
        yield opened
    finally:
        await opened.aclose()


async def _until(condition: Callable[[], object], what: str, timeout_s: float = 20.0) -> None:
    """Wait for `condition`, at most `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)
    assert condition(), what


async def test_a_credentials_endpoint_down_at_start_is_an_outage_waited_out(
    aws: Aws, endpoint: CredentialsEndpoint, queues: Queues, proxy: ExpiringProxy
) -> None:
    """The task role's credentials endpoint failing at start-up neither stops the daemon
    (opening its SQS client, asking for the queue) nor is taken for a queue refused: the
    queue is an outage (not answering), receives fail as an outage does, and once the endpoint
    answers the next receive is signed with its credentials and brings the message in."""
    endpoint.down = True
    sqs = await aws.client("sqs")
    queue_url = proxy.queue_url(queues.url)
    assert await check_queue(sqs, queue_url) is False
    inbox = SqsInbox(sqs, queue_url, answer_slack_s=5)
    with pytest.raises(InboxError):
        await inbox.receive(1, 0, 30)
    assert proxy.signed_by == []
    endpoint.down = False
    queues.send("after")
    received = await inbox.receive(1, 0, 30)
    assert [m.body for m in received] == ["after"]
    assert proxy.signed_by[-1] == endpoint.access_key


async def test_a_role_token_sqs_says_expired_is_fetched_again_and_the_call_goes_through(
    aws: Aws, endpoint: CredentialsEndpoint, queues: Queues, proxy: ExpiringProxy
) -> None:
    """SQS refusing the task role's token as expired hours before the expiry the endpoint gave
    (revoked, or this host's clock behind): the client fetches the role's credentials again at
    once and sends the call again signed with them, so the receive brings its message in
    without a failure and one line says why the credentials were fetched again."""
    sqs = await aws.client("sqs")
    queue_url = proxy.queue_url(queues.url)
    inbox = SqsInbox(sqs, queue_url, answer_slack_s=5)
    assert await inbox.receive(1, 0, 30) == []
    first_key = endpoint.access_key
    proxy.expired.add(first_key)
    endpoint.rotate()
    queues.send("kept")
    with structlog.testing.capture_logs() as logs:
        received = await inbox.receive(1, 0, 30)
    assert [m.body for m in received] == ["kept"]
    assert proxy.signed_by[-2:] == [first_key, endpoint.access_key]
    said = [e for e in logs if e["event"] == "aws.credentials_expired"]
    assert [e["log_level"] for e in said] == ["warning"]


async def test_calls_refused_together_for_an_expired_token_fetch_the_credentials_once(
    aws: Aws, endpoint: CredentialsEndpoint, queues: Queues, proxy: ExpiringProxy
) -> None:
    """Eight calls in flight refused at once for the same expired token: the role's
    credentials are fetched once, not per call, every call goes through on its second try,
    and one line says so."""
    sqs = await aws.client("sqs")
    queue_url = proxy.queue_url(queues.url)
    await sqs.get_queue_attributes(QueueUrl=queue_url)
    asked_before = endpoint.asked
    proxy.expired.add(endpoint.access_key)
    endpoint.rotate()
    with structlog.testing.capture_logs() as logs:
        answers = await asyncio.gather(
            *(sqs.get_queue_attributes(QueueUrl=queue_url) for _ in range(8))
        )
    assert len(answers) == 8
    assert endpoint.asked == asked_before + 1
    assert [e["event"] for e in logs if e["event"].startswith("aws.")] == [
        "aws.credentials_expired"
    ]


async def test_a_credentials_endpoint_slower_than_botocores_two_seconds_is_waited_for(
    aws: Aws, endpoint: CredentialsEndpoint, queues: Queues, proxy: ExpiringProxy
) -> None:
    """The task role's endpoint taking 3 s to answer (botocore gives it 2 s a try, and so
    would never get the credentials): the first call waits for it and goes through."""
    endpoint.slow_s = 3.0
    sqs = await aws.client("sqs")
    assert await check_queue(sqs, proxy.queue_url(queues.url)) is True
    assert endpoint.asked == 1


def _wait(condition: Callable[[], object], what: str, timeout_s: float = 60.0) -> None:
    """Wait (from a test's own thread) for `condition`, at most `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_the_daemon_started_while_the_task_roles_endpoint_is_down_serves_once_it_answers(
    endpoint: CredentialsEndpoint,
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`triage run` started while the task role's credentials endpoint fails keeps running
    (it asks the endpoint again, and does not exit); once the endpoint answers, the queued
    alert becomes its one ticket and leaves the queue."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    endpoint.down = True
    queues.send({"title": "disk full on db-1", "source": "script"})
    daemon = DaemonThread(settings_for(queues, backend.url, tmp_path / "triage.db"))
    try:
        _wait(lambda: endpoint.asked >= 6, "the daemon asking the endpoint again")
        assert daemon.alive(), "the daemon stopped while the endpoint was down"
        endpoint.down = False
        _wait(lambda: len(backend.tickets) == 1, "the ticket once the endpoint answers")
        _wait(lambda: queues.depth() == 0, "the message deleted")
    finally:
        daemon.stop()
    assert len(backend.tickets) == 1


class SkewedAws(FaultProxy):
    """SQS whose clock runs `ahead_s` ahead of this host's: its answers' `Date` says its time,
    and it refuses a request whose `X-Amz-Date` is more than 5 minutes off it, as AWS does
    (`InvalidSignatureException`, "Signature expired")."""

    def __init__(self, upstream: str, ahead_s: float) -> None:
        self.ahead_s = ahead_s
        self.refused = 0
        super().__init__(upstream)

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        signed = datetime.strptime(headers.get("x-amz-date", ""), "%Y%m%dT%H%M%SZ")
        now = datetime.now(UTC) + timedelta(seconds=self.ahead_s)
        if abs((signed.replace(tzinfo=UTC) - now).total_seconds()) > 300:
            with self._lock:
                self.refused += 1
            stamp = now.strftime("%Y%m%dT%H%M%SZ")
            answer = {
                "__type": "com.amazon.coral.service#InvalidSignatureException",
                "message": f"Signature expired: {headers['x-amz-date']} is now earlier than "
                f"{stamp} ({stamp} - 5 min.)",
            }
            return (
                400,
                [("Content-Type", "application/x-amz-json-1.0")],
                json.dumps(answer).encode(),
            )
        return super()._exchange(method, path, headers, body)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        relay = super()._handler_class()
        proxy = self

        class Handler(relay):  # type: ignore[misc,valid-type]
            def date_time_string(self, timestamp: float | None = None) -> str:
                return email.utils.formatdate(time.time() + proxy.ahead_s, usegmt=True)

        return Handler


@pytest.fixture
def skewed(queues: Queues) -> Iterator[SkewedAws]:
    """SQS (moto) with a clock 15 minutes ahead of this host's; the process's signing clock
    put back as it was afterwards."""
    with SkewedAws(queues.endpoint, ahead_s=900) as proxy:
        yield proxy
    aws_module.SIGNING_CLOCK.offset_s = 0.0


async def test_a_host_clock_aws_refuses_as_skewed_signs_by_aws_time_from_then_on(
    skewed: SkewedAws, queues: Queues
) -> None:
    """This host's clock 15 minutes behind AWS's: the first call refused as signed too long
    ago is sent once more, signed by the time AWS's answer gave, and goes through; one line
    says how far off the clock is; every call after is signed so from the first try."""
    settings = Settings(
        queue_url=skewed.queue_url(queues.url), aws_endpoint_url=skewed.url, aws_region="us-east-1"
    )
    opened = Aws(settings)
    try:
        sqs = await opened.client("sqs")
        inbox = SqsInbox(sqs, skewed.queue_url(queues.url), answer_slack_s=5)
        queues.send("kept")
        with structlog.testing.capture_logs() as logs:
            received = await inbox.receive(1, 0, 30)
            await sqs.get_queue_attributes(QueueUrl=skewed.queue_url(queues.url))
    finally:
        await opened.aclose()
    assert [m.body for m in received] == ["kept"]
    assert skewed.refused == 1
    said = [e for e in logs if e["event"] == "aws.clock_skewed"]
    assert [e["log_level"] for e in said] == ["warning"]
    assert 890 <= said[0]["aws_ahead_s"] <= 910


def test_a_session_asked_twice_for_its_credentials_keeps_one_set() -> None:
    """`session_credentials` of a session that has them already gives the same ones, so a
    second caller (the gateway's clients, opened one by one) shares what the first found."""
    session = aioboto3.Session(region_name="us-east-1")
    assert session_credentials(session) is session_credentials(session)


async def test_calls_waiting_on_a_failing_credentials_endpoint_share_its_one_answer(
    aws: Aws, endpoint: CredentialsEndpoint, queues: Queues, proxy: ExpiringProxy
) -> None:
    """Four calls made while the task role's endpoint fails slowly: the first asks it (its
    three tries), the three waiting meanwhile fail with that answer instead of asking it
    again one after another, each for as long."""
    endpoint.down, endpoint.slow_s = True, 0.5
    sqs = await aws.client("sqs")
    asked_before = endpoint.asked
    queue_url = proxy.queue_url(queues.url)
    answers = await asyncio.gather(
        *(sqs.get_queue_attributes(QueueUrl=queue_url) for _ in range(4)),
        return_exceptions=True,
    )
    assert all(isinstance(a, CredentialRetrievalError) for a in answers), answers
    assert endpoint.asked - asked_before == 3
