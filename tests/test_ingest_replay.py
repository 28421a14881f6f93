"""Replays of Sentry's signed webhooks: the signature covers only the body, so the gateway
refuses a delivery it already accepted within the replay window and a `Sentry-Hook-Timestamp`
far from its clock, while a sender's retry after a failure still passes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx2
import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import SqsProxy, ingest_settings, loopback_client, payload, running
from ingest_harness import sentry_headers as signed
from triage.ingest import IngestService
from triage.ingest.replay import BadTimestamp, Replayed, ReplayGuard, check_timestamp

BODY = payload("sentry/issue-created.json")
PATH = "/v1/alerts/sentry"


def queued(queues: Queues) -> int:
    """Messages now on the queue."""
    attrs = queues.client().get_queue_attributes(
        QueueUrl=queues.url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture
def proxy(moto_url: str) -> Iterator[SqsProxy]:
    with SqsProxy(moto_url) as running_proxy:
        yield running_proxy


@pytest.fixture
async def gateway(queues: Queues, proxy: SqsProxy) -> AsyncIterator[IngestService]:
    """The gateway in front of moto's queue, through the proxy that can hold or fail sends."""
    settings = ingest_settings(proxy.queue_url(queues.url), proxy.url, ingest_linger_ms=0)
    async with running(settings) as service:
        yield service


@pytest.fixture
async def client(gateway: IngestService) -> AsyncIterator[httpx2.AsyncClient]:
    async with loopback_client(gateway.port) as c:
        yield c


async def test_a_replayed_delivery_is_a_200_duplicate_and_queued_once(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """The same signed body sent again (a sender's retry, or a captured request) is answered
    200 `duplicate` with one log line, so a retrying Sentry counts no failure, and the queue
    holds it once."""
    first = await client.post(PATH, content=BODY, headers=signed(BODY))
    assert first.status_code == 202, first.text
    with capture_logs() as logs:
        again = await client.post(PATH, content=BODY, headers=signed(BODY))
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    (line,) = [e for e in logs if e["event"].startswith("ingest.")]
    assert (line["event"], line["status"]) == ("ingest.duplicate", 200)
    assert queued(queues) == 1


async def test_replays_of_an_accepted_delivery_spend_the_sources_rate(queues: Queues) -> None:
    """A captured delivery replayed over and over is answered 200 `duplicate` only within
    Sentry's rate (a burst of 5 s worth), then 503 like any request over it: replays cannot
    be answered, and logged, without bound."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_rate_per_s=1)
    async with running(settings) as service, loopback_client(service.port) as client:
        statuses = [
            (await client.post(PATH, content=BODY, headers=signed(BODY))).status_code
            for _ in range(10)
        ]
    assert statuses[0] == 202
    assert set(statuses[1:5]) == {200}
    assert 503 in statuses[5:]
    assert queued(queues) == 1


async def test_a_delivery_that_was_not_queued_can_be_sent_again(
    client: httpx2.AsyncClient, proxy: SqsProxy, queues: Queues
) -> None:
    """A delivery answered 503 (SQS did not take it) is not remembered: the sender's retry
    with the same signature is accepted."""
    proxy.refuse("AmazonSQS.SendMessage", 400, "AWS.SimpleQueueService.NonExistentQueue")
    failed = await client.post(PATH, content=BODY, headers=signed(BODY))
    assert failed.status_code == 503
    proxy.heal("AmazonSQS.SendMessage")
    retried = await client.post(PATH, content=BODY, headers=signed(BODY))
    assert retried.status_code == 202, retried.text
    assert queued(queues) == 1


async def test_a_twin_of_a_delivery_in_flight_is_503_and_loses_nothing(
    client: httpx2.AsyncClient, proxy: SqsProxy, queues: Queues
) -> None:
    """While a delivery waits for SQS, its twin is 503 with Retry-After (the first may yet
    fail), and once the first is queued the twin is a 200 duplicate: queued once."""
    proxy.released.clear()
    first = asyncio.create_task(client.post(PATH, content=BODY, headers=signed(BODY)))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while proxy.sends_waiting < 1:
        assert loop.time() < deadline, "the first send never reached SQS"
        await asyncio.sleep(0.01)
    twin = await client.post(PATH, content=BODY, headers=signed(BODY))
    assert twin.status_code == 503
    assert twin.headers["retry-after"] == "1"
    proxy.released.set()
    assert (await first).status_code == 202
    assert (await client.post(PATH, content=BODY, headers=signed(BODY))).status_code == 200
    assert queued(queues) == 1


@pytest.mark.parametrize(
    ("timestamp", "status", "reason"),
    [
        (str(int(time.time()) - 3600), 401, "stale_timestamp"),
        (str(int(time.time()) + 3600), 401, "stale_timestamp"),
        ("2022-03-06T11:31:04Z", 400, "bad_timestamp"),
        ("nan", 400, "bad_timestamp"),
        ("inf", 400, "bad_timestamp"),
    ],
    ids=["an-hour-old", "an-hour-ahead", "iso", "nan", "inf"],
)
async def test_a_timestamp_far_from_our_clock_or_not_one_is_refused(
    client: httpx2.AsyncClient, queues: Queues, timestamp: str, status: int, reason: str
) -> None:
    """A rightly signed delivery whose Sentry-Hook-Timestamp is an hour off, or not a Unix
    time, is refused with one line saying which, and nothing is queued."""
    headers = {**signed(BODY), "Sentry-Hook-Timestamp": timestamp}
    with capture_logs() as logs:
        response = await client.post(PATH, content=BODY, headers=headers)
    assert response.status_code == status
    assert "Sentry-Hook-Timestamp" in response.json()["error"]
    assert timestamp not in response.text
    (line,) = [e for e in logs if e["event"] == "ingest.refused"]
    assert line["reason"] == reason
    assert queued(queues) == 0


async def test_a_timestamp_of_now_passes(client: httpx2.AsyncClient) -> None:
    """Sentry's own header (the time of sending, in whole seconds) is accepted."""
    headers = {**signed(BODY), "Sentry-Hook-Timestamp": str(int(time.time()))}
    response = await client.post(PATH, content=BODY, headers=headers)
    assert response.status_code == 202, response.text


async def test_a_timestamp_header_sent_twice_is_400(client: httpx2.AsyncClient) -> None:
    """Two Sentry-Hook-Timestamp headers are refused: which one a proxy checked is a guess."""
    now = str(int(time.time()))
    headers = [
        *signed(BODY).items(),
        ("Sentry-Hook-Timestamp", now),
        ("Sentry-Hook-Timestamp", "0"),
    ]
    response = await client.post(PATH, content=BODY, headers=headers)
    assert response.status_code == 400
    assert "Sentry-Hook-Timestamp" in response.json()["error"]


# --- The guard alone ---------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_signature_is_forgotten_after_the_window() -> None:
    """Within the window a signature is refused; once the window has passed it is forgotten."""
    clock = Clock()
    guard = ReplayGuard(window_s=300, clock=clock)
    with guard.delivery("a" * 64):
        pass
    clock.now += 299
    with pytest.raises(Replayed), guard.delivery("A" * 64):  # hex in either case is one value
        pass
    clock.now += 2
    with guard.delivery("a" * 64):
        pass
    assert len(guard) == 1


def test_the_guard_remembers_at_most_its_capacity() -> None:
    """However many deliveries are accepted, the guard holds at most `capacity` signatures,
    forgetting the oldest first."""
    guard = ReplayGuard(capacity=3, clock=Clock())
    for n in range(10):
        with guard.delivery(f"{n:064x}"):
            pass
    assert len(guard) == 3
    with guard.delivery(f"{0:064x}"):  # the oldest was forgotten
        pass
    with pytest.raises(Replayed), guard.delivery(f"{9:064x}"):
        pass


def test_a_delivery_that_raises_is_not_remembered() -> None:
    """A delivery whose handling fails is forgotten, so the sender's retry passes."""
    guard = ReplayGuard(clock=Clock())
    with pytest.raises(RuntimeError), guard.delivery("b" * 64):
        raise RuntimeError("SQS did not take it")
    with guard.delivery("b" * 64):
        pass


@pytest.mark.parametrize("value", [None, "1000", "1000.5", " 1299 "])
def test_timestamps_within_the_window_pass(value: str | None) -> None:
    """No header, or a time within the window either side of now, passes."""
    check_timestamp(value, window_s=300, now=lambda: 1000.0)


@pytest.mark.parametrize("value", ["1301", "699", "", "1e400", "-inf", "0x10"])
def test_timestamps_outside_the_window_or_unreadable_fail(value: str) -> None:
    """A time more than the window away, or one that does not read as seconds, fails."""
    with pytest.raises(BadTimestamp):
        check_timestamp(value, window_s=300, now=lambda: 1000.0)
