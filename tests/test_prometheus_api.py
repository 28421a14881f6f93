"""The gateway as an Alertmanager for rule evaluators: `POST /api/v2/alerts` (and v1, under any
path prefix) with the alertmanager token, each answered as Alertmanager does, against moto over
HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from daemon_harness import Queues
from ingest_harness import basic, bearer, ingest_settings, loopback_client, payload, running
from triage.ingest import IngestService
from triage.normalize import normalize_body

BATCH = payload("prometheus/api-v2-firing.json")


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free port, in front of moto's `alerts` queue, 1 request/s a source."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_rate_per_s=1)
    async with running(settings) as service:
        yield service


@pytest.fixture
async def client(gateway: IngestService) -> AsyncIterator[httpx2.AsyncClient]:
    async with loopback_client(gateway.port) as c:
        yield c


async def queue_takes_at_most(queues: Queues, gateway: IngestService, size: int) -> None:
    """The queue's MaximumMessageSize becomes `size`, and the gateway knows it."""
    queues.client().set_queue_attributes(
        QueueUrl=queues.url, Attributes={"MaximumMessageSize": str(size)}
    )
    assert gateway.gateway is not None
    await gateway.gateway.probe.refresh()


def queued(queues: Queues) -> list[dict[str, Any]]:
    """Messages now on the queue (left in place), with their attributes."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0,
        MessageAttributeNames=["All"],
    )  # fmt: skip
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v2/alerts", bearer("alertmanager")),
        ("/api/v1/alerts", basic("prometheus", "alertmanager-token-0123456789")),
        ("/triage/alertmanager/api/v2/alerts", bearer("alertmanager")),  # path_prefix
    ],
)
async def test_batch_is_answered_200_once_queued_whole(
    client: httpx2.AsyncClient, queues: Queues, path: str, headers: dict[str, str]
) -> None:
    """A Prometheus batch posted with the alertmanager token (Bearer or Basic) is answered 200
    as Alertmanager does, and the queue holds the whole batch as one message, source
    alertmanager."""
    response = await client.post(
        path, content=BATCH, headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["alerts"] == 3
    [message] = queued(queues)
    assert message["Body"] == BATCH.decode()
    assert message["MessageAttributes"]["source"]["StringValue"] == "alertmanager"
    assert message["MessageId"] == response.json()["message_id"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (bearer("grafana"), 401),  # another source's token
        ({"Authorization": "Bearer alertmanager-token-012345678"}, 401),
    ],
)
async def test_batch_without_the_alertmanager_token_is_refused(
    client: httpx2.AsyncClient, queues: Queues, headers: dict[str, str], status: int
) -> None:
    """No credential, another source's token or a near miss: 401, nothing queued."""
    response = await client.post("/api/v2/alerts", content=BATCH, headers=headers)
    assert response.status_code == status
    assert queued(queues) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (payload("alertmanager/group-firing.json"), "not an array of alerts; post it to /v1/"),
        (b'[{"title": "disk full"}]', "none with a labels object"),
        (b"[1]", "item [0] is a number"),
        (b'{"title": "disk full"}', "not an array of alerts"),
    ],
)
async def test_anything_but_an_array_of_alerts_is_422(
    client: httpx2.AsyncClient, queues: Queues, body: bytes, reason: str
) -> None:
    """The API path takes only an array of alerts: a webhook group (with where to post it),
    another array or another format is 422 with its reason, and nothing is queued."""
    response = await client.post("/api/v2/alerts", content=body, headers=bearer("alertmanager"))
    assert response.status_code == 422
    assert reason in response.json()["error"]
    assert queued(queues) == []


async def test_webhook_path_takes_a_posted_batch_too(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """An array of alerts posted to /v1/alerts/alertmanager (curl, a script) is accepted (202)."""
    response = await client.post(
        "/v1/alerts/alertmanager", content=BATCH, headers=bearer("alertmanager")
    )
    assert response.status_code == 202
    assert len(queued(queues)) == 1


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/v2/alerts", 405), ("POST", "/api/v3/alerts", 404), ("POST", "/api/v2/", 404)],
)
async def test_other_api_paths_and_methods_are_refused(
    client: httpx2.AsyncClient, method: str, path: str, status: int
) -> None:
    """Only POST of the v1 and v2 alert paths is served; the rest of Alertmanager's API is not."""
    response = await client.request(method, path, headers=bearer("alertmanager"))
    assert response.status_code == status
    assert "request_id" in response.json()


async def test_api_path_shares_the_alertmanager_sources_bounds(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """The API path spends the alertmanager source's rate (503 with Retry-After once its burst
    is gone) and keeps the 1 MiB body bound (413)."""
    big = json.dumps([{"labels": {"alertname": "x"}, "annotations": {"d": "x" * 1_100_000}}])
    response = await client.post("/api/v2/alerts", content=big, headers=bearer("alertmanager"))
    assert response.status_code == 413
    statuses = []
    for _ in range(8):  # rate 1/s: a burst of 5, then refused
        answer = await client.post("/api/v2/alerts", content=BATCH, headers=bearer("alertmanager"))
        statuses.append(answer.status_code)
    assert statuses[-1] == 503
    assert set(statuses) == {200, 503}


async def test_batch_too_big_for_one_message_is_queued_in_parts(
    client: httpx2.AsyncClient, queues: Queues, gateway: IngestService
) -> None:
    """A batch over the queue's message size (here 2,048 bytes) is queued as several arrays of
    whole alerts, each within it, answered 200: every alert arrives, with its fingerprint,
    instead of a 413 that makes Prometheus drop the batch each time it sends it."""
    await queue_takes_at_most(queues, gateway, 2048)
    batch = json.dumps(
        [
            {"labels": {"alertname": "DiskFull", "instance": f"db-{i}"}, "annotations": {
                "description": f"disk on db-{i} is full \u65e5\ud800 " + "x" * 400}}
            for i in range(8)
        ]
    )  # fmt: skip
    response = await client.post("/api/v2/alerts", content=batch, headers=bearer("alertmanager"))
    assert response.status_code == 200, response.text
    assert response.json()["messages"] > 1
    bodies = [m["Body"] for m in queued(queues)]
    assert len(bodies) == response.json()["messages"]
    assert all(len(body.encode()) < 2048 for body in bodies)
    alerts = [a for body in bodies for a in normalize_body(body).alerts]
    assert sorted(a.fingerprint for a in alerts) == sorted(
        a.fingerprint for a in normalize_body(batch).alerts
    )
    assert all("\ufffd" in a.description for a in alerts)


async def test_alert_alone_too_big_for_a_message_is_413_naming_it(
    client: httpx2.AsyncClient, queues: Queues, gateway: IngestService
) -> None:
    """An alert that alone cannot fit a message is 413 naming it and the limit; nothing is
    queued."""
    await queue_takes_at_most(queues, gateway, 1024)
    batch = json.dumps(
        [{"labels": {"alertname": "a"}}, {"labels": {"alertname": "b"}, "annotations": {
            "description": "x" * 2000}}]
    )  # fmt: skip
    response = await client.post("/api/v2/alerts", content=batch, headers=bearer("alertmanager"))
    assert response.status_code == 413
    assert "alert [1] alone" in response.json()["error"]
    assert "1,024" in response.json()["error"]
    assert queued(queues) == []
