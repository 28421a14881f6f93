"""A queue encrypted with a KMS key our role may not use, through a fault proxy in front of moto:
GetQueueAttributes still answers (it needs no KMS) while every send or receive is refused. The
gateway then says `queue: kms_denied` on /readyz, with one warning, until a send succeeds; the
daemon's receive failure names KMS and what to grant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues, make_queues
from fault_proxy import FaultProxy
from ingest_harness import bearer, ingest_settings, loopback_client, payload, running
from moto_speed import loopback_aws_client
from triage.errors import InboxError
from triage.health import Health
from triage.sqs.inbox import SqsInbox

GENERIC = payload("generic/firing.json")
#: The query protocol's codes and the JSON protocol's, as SQS answers them.
KMS_CODES = ["KMS.AccessDeniedException", "KmsAccessDenied", "KMS.DisabledException", "KmsNotFound"]


@pytest.fixture
def queue(moto_url: str) -> Queues:
    return make_queues(moto_url)


@pytest.fixture
def proxy(queue: Queues) -> Iterator[FaultProxy]:
    with FaultProxy(queue.endpoint) as p:
        yield p


async def post(client: httpx2.AsyncClient) -> httpx2.Response:
    return await client.post("/v1/alerts/generic", content=GENERIC, headers=bearer("generic"))


@pytest.mark.parametrize("code", KMS_CODES)
async def test_sends_refused_by_kms_make_the_gateway_not_ready_until_one_succeeds(
    queue: Queues, proxy: FaultProxy, code: str
) -> None:
    """Every send refused by the queue's KMS key: each webhook gets 503 with Retry-After,
    /readyz says `queue: kms_denied` though GetQueueAttributes answers, one warning says so
    (none per webhook); once the key takes messages again a send succeeds and it is ready."""
    settings = ingest_settings(proxy.queue_url(queue.url), proxy.url)
    proxy.refuse("AmazonSQS.SendMessage", 400, code, "The ciphertext refers to a key it cannot use")
    async with running(settings) as service, loopback_client(service.port) as client:
        assert (await client.get("/readyz")).status_code == 200
        with capture_logs() as logs:
            refused = [await post(client) for _ in range(3)]
            not_ready = await client.get("/readyz")
            proxy.heal("AmazonSQS.SendMessage")
            accepted = await post(client)
            ready = await client.get("/readyz")
    assert [r.status_code for r in refused] == [503, 503, 503]
    assert all(int(r.headers["retry-after"]) >= 1 for r in refused)
    assert not_ready.status_code == 503
    assert not_ready.json() == {"ready": False, "failing": {"queue": "kms_denied"}}
    assert accepted.status_code == 202
    assert ready.json() == {"ready": True, "failing": {}}
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [(e["event"], e["error"]) for e in warnings] == [("ingest.queue_kms_denied", code)]
    assert [e["event"] for e in logs if e["event"].startswith("ingest.queue_kms")] == [
        "ingest.queue_kms_denied",
        "ingest.queue_kms_ok",
    ]


async def test_kms_throttling_is_no_refusal(queue: Queues, proxy: FaultProxy) -> None:
    """KMS throttling a send is a wait like any outage (503), not a key that refuses us: the
    gateway stays ready."""
    settings = ingest_settings(proxy.queue_url(queue.url), proxy.url)
    proxy.refuse("AmazonSQS.SendMessage", 400, "KMS.ThrottlingException", "slow down")
    async with running(settings) as service, loopback_client(service.port) as client:
        response = await post(client)
        ready = await client.get("/readyz")
    assert response.status_code == 503
    assert ready.json() == {"ready": True, "failing": {}}


@pytest.fixture
async def inbox(queue: Queues, proxy: FaultProxy) -> AsyncIterator[SqsInbox]:
    async with loopback_aws_client("sqs", endpoint_url=proxy.url) as sqs:
        yield SqsInbox(sqs, proxy.queue_url(queue.url))


@pytest.mark.parametrize("code", KMS_CODES)
async def test_a_receive_refused_by_kms_names_kms_and_what_to_grant(
    inbox: SqsInbox, proxy: FaultProxy, code: str
) -> None:
    """The daemon's receive of a queue whose KMS key refuses its role fails with a line that
    names KMS, the code and the permission, and /readyz's fixed reason is `kms_denied`."""
    proxy.refuse("AmazonSQS.ReceiveMessage", 400, code, "access to the key denied")
    with pytest.raises(InboxError) as failed:
        await inbox.receive(1, 0, 30)
    text = str(failed.value)
    assert "KMS key" in text and code in text and "kms:Decrypt" in text
    health = Health()
    health.set("queue", False, text)  # as the supervisor reports a failed receive
    assert health.readiness()["failing"] == {"queue": "kms_denied"}
