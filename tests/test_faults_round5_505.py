"""AWS and process faults, round 5 (helper 505): the daemon under faults a team on AWS hits.

The task role's credentials come from a loopback stand-in for ECS's container credentials
endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`), as in round 4 (`test_faults_round4_483.py`);
SQS is moto behind `fault_proxy.FaultProxy`, or round 4's `SkewedAws`, which dates its answers
by a clock off this host's and refuses a request signed more than 5 minutes off it."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import structlog
from botocore.exceptions import InvalidConfigError

from daemon_harness import TOKEN, DaemonThread, Queues, make_queues, settings_for
from fault_proxy import FaultProxy
from test_faults_round4_483 import CredentialsEndpoint, ExpiringProxy, SkewedAws
from triage import aws as aws_module
from triage.aws import Aws, service_endpoint
from triage.cli import _aws_configuration_problem
from triage.demo.ticketd import TicketServer
from triage.settings import Settings
from triage.sqs.inbox import InboxError, SqsInbox

#: The delete call the daemon makes (by batches).
DELETE = "AmazonSQS.DeleteMessageBatch"

#: A host whose clock runs 8 hours ahead of AWS's: a hardware clock kept in local time (UTC+8)
#: read as UTC, a common VM and on-premises mistake.
HOST_AHEAD_S = 8 * 3600.0


class HostAheadEndpoint(CredentialsEndpoint):
    """The task role's endpoint, giving credentials valid for 6 hours by AWS's clock, which is
    `HOST_AHEAD_S` behind this host's: by this host's clock they expired 2 hours ago."""

    def _answer(self) -> dict[str, str]:
        answer = super()._answer()
        aws_now = datetime.now(UTC) - timedelta(seconds=HOST_AHEAD_S)
        expiry = aws_now + timedelta(hours=6)
        return {**answer, "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}


@pytest.fixture
def ahead_endpoint(queues: Queues, monkeypatch: pytest.MonkeyPatch) -> Iterator[HostAheadEndpoint]:
    """`HostAheadEndpoint` as the only source of credentials (the test's queues made first,
    with the harness's own)."""
    with HostAheadEndpoint() as server:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{server.base_url}/v2/creds")
        yield server


@pytest.fixture
def aws_behind(queues: Queues) -> Iterator[SkewedAws]:
    """SQS (moto) whose clock is `HOST_AHEAD_S` behind this host's; the process's signing
    clock put back as it was afterwards."""
    with SkewedAws(queues.endpoint, ahead_s=-HOST_AHEAD_S) as proxy:
        yield proxy
    aws_module.SIGNING_CLOCK.offset_s = 0.0


async def test_a_host_clock_hours_ahead_signs_with_the_task_roles_credentials_all_the_same(
    ahead_endpoint: HostAheadEndpoint, aws_behind: SkewedAws, queues: Queues
) -> None:
    """This host's clock 8 hours ahead of AWS's, so the task role's credentials (6 hours left
    by AWS's clock) look 2 hours expired by it: the receive is still signed with them, AWS's
    refusal of the signing time moves the signing clock, and the message comes in, where
    botocore raised a RuntimeError ("refreshed credentials are still expired") on every call,
    which no caller catches as an AWS failure."""
    settings = Settings(
        queue_url=aws_behind.queue_url(queues.url),
        aws_endpoint_url=aws_behind.url,
        aws_region="us-east-1",
    )
    opened = Aws(settings)
    try:
        sqs = await opened.client("sqs")
        inbox = SqsInbox(sqs, aws_behind.queue_url(queues.url), answer_slack_s=5)
        queues.send("kept")
        with structlog.testing.capture_logs() as logs:
            received = await inbox.receive(1, 0, 30)
            asked = ahead_endpoint.asked
            await sqs.get_queue_attributes(QueueUrl=aws_behind.queue_url(queues.url))
    finally:
        await opened.aclose()
    assert [m.body for m in received] == ["kept"]
    assert aws_behind.refused == 1
    # Judged by AWS's time once it is known: 6 hours left, nothing fetched again.
    assert ahead_endpoint.asked == asked
    said = [e for e in logs if e["event"] == "aws.credentials_look_expired"]
    assert [e["log_level"] for e in said] == ["warning"]


class StaleEndpoint(CredentialsEndpoint):
    """The task role's endpoint of an ECS agent that lost touch with ECS: it keeps giving the
    credentials it had, expired an hour ago by every clock."""

    def _answer(self) -> dict[str, str]:
        expiry = datetime.now(UTC) - timedelta(hours=1)
        return {**super()._answer(), "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ")}


@pytest.fixture
def stale_endpoint(queues: Queues, monkeypatch: pytest.MonkeyPatch) -> Iterator[StaleEndpoint]:
    """`StaleEndpoint` as the only source of credentials."""
    with StaleEndpoint() as server:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{server.base_url}/v2/creds")
        yield server


async def test_a_task_role_endpoint_giving_expired_credentials_fails_receives_as_aws_says(
    stale_endpoint: StaleEndpoint, queues: Queues
) -> None:
    """An ECS agent that keeps giving the task role's expired credentials: each receive fails
    as an AWS failure (`InboxError`, SQS's `ExpiredTokenException`), which the daemon rides
    out until the agent has new ones, and the next receive then brings the message in; not a
    RuntimeError out of botocore, which no caller takes for an AWS failure."""
    with ExpiringProxy(queues.endpoint) as proxy:
        proxy.expired.add(stale_endpoint.access_key)
        settings = Settings(
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
            aws_region="us-east-1",
        )
        opened = Aws(settings)
        try:
            sqs = await opened.client("sqs")
            inbox = SqsInbox(sqs, proxy.queue_url(queues.url), answer_slack_s=5)
            with pytest.raises(InboxError, match="ExpiredToken"):
                await inbox.receive(1, 0, 30)
            stale_endpoint.rotate()
            queues.send("kept")
            received = await inbox.receive(1, 0, 30)
        finally:
            await opened.aclose()
    assert [m.body for m in received] == ["kept"]


def _wait(condition: Callable[[], object], what: str, timeout_s: float = 60.0) -> None:
    """Wait (from a test's own thread) for `condition`, at most `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_the_daemon_on_a_host_clock_hours_ahead_serves_its_queue(
    ahead_endpoint: HostAheadEndpoint,
    aws_behind: SkewedAws,
    queues: Queues,
    backend: TicketServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`triage run` on a host whose clock is 8 hours ahead, with a task role: the queued
    alert becomes its one ticket and leaves the queue, and the daemon is still running, where
    its first receive raised botocore's RuntimeError and the daemon crashed (exit 1, and again
    at every restart)."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    queues.send({"title": "disk full on db-1", "source": "script"})
    settings = settings_for(
        queues,
        backend.url,
        tmp_path / "triage.db",
        queue_url=aws_behind.queue_url(queues.url),
        aws_endpoint_url=aws_behind.url,
    )
    daemon = DaemonThread(settings)
    try:
        _wait(lambda: len(backend.tickets) == 1 or not daemon.alive(), "the ticket")
        _wait(lambda: queues.depth() == 0 or not daemon.alive(), "the message deleted")
        assert daemon.alive(), "the daemon stopped"
    finally:
        daemon.stop()
    assert len(backend.tickets) == 1


@pytest.mark.parametrize(
    ("service", "variable"),
    [
        ("sqs", "AWS_ENDPOINT_URL_SQS"),
        ("dynamodb", "AWS_ENDPOINT_URL_DYNAMODB"),
        ("secretsmanager", "AWS_ENDPOINT_URL_SECRETS_MANAGER"),
        ("cloudwatch", "AWS_ENDPOINT_URL_CLOUDWATCH"),
    ],
)
async def test_a_services_own_endpoint_variable_wins_over_aws_endpoint_url(
    service: str, variable: str, queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS_ENDPOINT_URL naming an endpoint that is down while the service's own variable
    (AWS_ENDPOINT_URL_SQS, a VPC endpoint or a stand-in of that service alone) names one that
    answers: the client calls the service's own, as botocore and every AWS SDK rank them,
    where triage handed AWS_ENDPOINT_URL to every client and so overrode it."""
    down = "http://127.0.0.1:9"  # the discard port: nothing listens on loopback
    monkeypatch.setenv("AWS_ENDPOINT_URL", down)
    monkeypatch.setenv(variable, queues.endpoint)
    settings = Settings(queue_url=queues.url, aws_region="us-east-1")
    assert settings.aws_endpoint_url == down
    opened = Aws(settings)
    try:
        client = await opened.client(service)
        assert client.meta.endpoint_url == queues.endpoint
        if service == "sqs":
            queues.send("kept")
            inbox = SqsInbox(client, queues.url, answer_slack_s=5)
            assert [m.body for m in await inbox.receive(1, 0, 30)] == ["kept"]
    finally:
        await opened.aclose()


def _readiness(port: int) -> dict[str, Any]:
    """The daemon's `/readyz` answer, whatever its status."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
            return dict(json.load(answer))
    except urllib.error.HTTPError as refused:
        return dict(json.load(refused))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_role_that_lost_sqs_delete_message_handles_each_delivery_once_in_effect(
    moto_url: str, backend: TicketServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daemon's role loses sqs:DeleteMessage alone: the alert becomes its one ticket, its
    message comes back at each visibility timeout and is handled again as a repeat, with no
    second ticket nor any other call to the backend; /readyz names `queue_deletes: refused`.
    Once the role may delete again, the next delivery is deleted and the daemon is ready."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    queues = make_queues(moto_url, max_receive_count=20)
    port = _free_port()
    with FaultProxy(queues.endpoint) as proxy:
        proxy.refuse(DELETE, 400, "AccessDenied", "not authorized to perform: sqs:deletemessage")
        queues.send({"title": "disk full on db-1", "source": "script"})
        settings = settings_for(
            queues,
            backend.url,
            tmp_path / "triage.db",
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
            visibility_timeout_s=3,
            http_port=port,
        )
        daemon = DaemonThread(settings)
        try:
            _wait(lambda: len(backend.tickets) == 1, "the ticket")
            _wait(lambda: proxy.requests(DELETE) >= 3, "three deliveries' deletes refused")
            assert _readiness(port)["failing"] == {"queue_deletes": "refused"}
            calls = backend.request_count
            proxy.heal(DELETE)
            _wait(lambda: queues.depth() == 0, "the message deleted once the role may")
            _wait(lambda: _readiness(port)["ready"] is True, "ready again")
            assert daemon.alive()
        finally:
            daemon.stop()
    assert len(backend.tickets) == 1
    assert backend.request_count == calls


async def test_an_answer_dated_in_the_year_9999_does_not_become_the_signing_clock(
    queues: Queues,
) -> None:
    """An endpoint (a stand-in, a proxy) refusing a call's signing time with an answer dated
    31 Dec 9999: the signing clock is not moved there, so the process goes on signing by its
    own time, where following it made every later signing an OverflowError (past datetime's
    last second within a second), which no caller takes for an AWS failure."""
    with SkewedAws(queues.endpoint, ahead_s=0) as proxy:
        try:
            moved = aws_module.SIGNING_CLOCK.follow(
                "Fri, 31 Dec 9999 23:59:59 GMT", "sqs", "ReceiveMessage"
            )
            assert moved is False
            aws_module.SIGNING_CLOCK.now()
            settings = Settings(
                queue_url=proxy.queue_url(queues.url),
                aws_endpoint_url=proxy.url,
                aws_region="us-east-1",
            )
            opened = Aws(settings)
            try:
                sqs = await opened.client("sqs")
                await sqs.get_queue_attributes(QueueUrl=proxy.queue_url(queues.url))
            finally:
                await opened.aclose()
        finally:
            aws_module.SIGNING_CLOCK.offset_s = 0.0
    assert proxy.refused == 0


async def test_a_credential_process_that_cannot_run_is_one_line_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile's `credential_process` naming a program that is not there (aws-vault not
    installed in the image): opening a client stops with botocore's InvalidConfigError naming
    credential_process and the program, which `triage run` says in one line and exits 2 on,
    where the FileNotFoundError out of the subprocess crashed it with a traceback."""
    config = tmp_path / "config"
    config.write_text("[default]\ncredential_process = /nonexistent/aws-vault export --json\n")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings = Settings(
        queue_url="http://127.0.0.1:9/000000000000/alerts",
        aws_endpoint_url="http://127.0.0.1:9",
        aws_region="us-east-1",
    )
    opened = Aws(settings)
    try:
        with pytest.raises(InvalidConfigError) as refused:
            await opened.client("sqs")
    finally:
        await opened.aclose()
    line = _aws_configuration_problem(refused.value)
    assert line is not None
    assert "credential_process" in line and "/nonexistent/aws-vault" in line


def _incidents_table(ddb: Any, name: str) -> None:
    """The incidents table as triage keys it (the sweep index left out: the sweep scans)."""
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "fingerprint", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "fingerprint", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def test_the_dynamodb_table_deleted_under_the_daemon_holds_its_messages_until_restored(
    moto_url: str, backend: TicketServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The incidents table deleted while the daemon runs (a stack torn down, a restore that
    deletes it first): the daemon keeps running, /readyz names `store: unavailable`, and the
    alert queued meanwhile is neither lost nor dead-lettered; once a table of that name is
    there again (the restore done), it becomes its ticket and the daemon is ready again."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)
    queues = make_queues(moto_url, max_receive_count=3)
    ddb = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1")
    table = f"incidents-{uuid.uuid4().hex[:8]}"
    _incidents_table(ddb, table)
    port = _free_port()
    settings = settings_for(
        queues,
        backend.url,
        tmp_path / "unused.db",
        store_url=f"dynamodb://{table}",
        http_port=port,
        retry_base_s=1,
    )
    daemon = DaemonThread(settings)
    try:
        queues.send({"title": "disk full on db-1", "source": "script"})
        _wait(lambda: len(backend.tickets) == 1, "the first ticket")
        _wait(lambda: queues.depth() == 0, "the first message deleted")
        ddb.delete_table(TableName=table)
        queues.send({"title": "certificate expires on api-2", "source": "script"})
        _wait(
            lambda: _readiness(port)["failing"].get("store") == "unavailable",
            "the store named unavailable",
        )
        assert daemon.alive()
        assert len(backend.tickets) == 1
        _incidents_table(ddb, table)
        _wait(lambda: len(backend.tickets) == 2, "the second ticket once the table is back")
        _wait(lambda: queues.depth() == 0, "the second message deleted")
        _wait(lambda: _readiness(port)["ready"] is True, "ready again")
        assert daemon.alive()
    finally:
        daemon.stop()
    assert queues.dead_letters() == []
    assert len(backend.tickets) == 2


def test_a_services_own_endpoint_is_ignored_as_botocore_is_told_to() -> None:
    """AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true: a service's own endpoint variable is not
    used, as botocore would not use it; unset or empty, it names the endpoint."""
    own = {"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4566"}
    assert service_endpoint("sqs", own) == "http://127.0.0.1:4566"
    assert service_endpoint("sqs", {**own, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}) is None
    assert service_endpoint("sqs", {"AWS_ENDPOINT_URL_SQS": ""}) is None
    assert service_endpoint("dynamodb", own) is None


class FlakyExpiringProxy(ExpiringProxy):
    """Round 4's `ExpiringProxy`, answering the next `failing` requests with a 500 first (SQS
    failing a moment: botocore sends the call again on its own)."""

    def __init__(self, upstream: str) -> None:
        self.failing = 0
        super().__init__(upstream)

    def _exchange(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        with self._lock:
            fail, self.failing = self.failing > 0, max(0, self.failing - 1)
        if fail:
            answer = {"__type": "InternalError", "message": "We encountered an internal error."}
            return (
                500,
                [("Content-Type", "application/x-amz-json-1.0")],
                json.dumps(answer).encode(),
            )
        return super()._exchange(method, path, headers, body)


@pytest.fixture
def endpoint(queues: Queues, monkeypatch: pytest.MonkeyPatch) -> Iterator[CredentialsEndpoint]:
    """Round 4's task role endpoint as the only source of credentials."""
    with CredentialsEndpoint() as server:
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials")
        monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{server.base_url}/v2/creds")
        yield server


async def test_a_token_refused_as_expired_on_botocores_own_retry_is_renewed_too(
    endpoint: CredentialsEndpoint, queues: Queues
) -> None:
    """The task role's token revoked while SQS fails a moment: the call's first attempt is a
    500, botocore's own retry of it is refused for the expired token. The credentials are
    fetched again and the call goes through, as it does when the first attempt is the one
    refused, where the call failed with ExpiredTokenException (and so the message it was
    for)."""
    with FlakyExpiringProxy(queues.endpoint) as proxy:
        settings = Settings(
            queue_url=proxy.queue_url(queues.url),
            aws_endpoint_url=proxy.url,
            aws_region="us-east-1",
        )
        opened = Aws(settings)
        try:
            sqs = await opened.client("sqs")
            queue_url = proxy.queue_url(queues.url)
            await sqs.get_queue_attributes(QueueUrl=queue_url)
            proxy.expired.add(endpoint.access_key)
            endpoint.rotate()
            proxy.failing = 1
            answer = await sqs.get_queue_attributes(QueueUrl=queue_url)
        finally:
            await opened.aclose()
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert proxy.signed_by[-1] == endpoint.access_key
