"""Round 14 of the webhook gateway (helper 458): bugs a sender, an attacker or an operator meets
with a real HTTP client against the gateway on 127.0.0.1, each fixed, each test failing before
its fix.

- A body of many tiny alerts cost the normaliser ~0.1 ms of CPU each: 1 MB of 30,000
  `{"labels":{…}}` was ~3 s of a worker thread (and of the GIL the event loop needs), and a
  64 KiB one (~2,700 alerts, under the size past which a body was read on a thread) ~0.3 s on
  the event loop itself, every other sender's request waiting. A body holding more than
  `MAX_ALERTS` alerts is now 413 before the normaliser reads one; a body that may hold many
  objects is read off the loop whatever its size; and each source's bodies are read on one
  worker thread at a time, so one token holder cannot take the threads every source shares.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

import triage.ingest.validate as validate
import triage.normalize.alertmanager as alertmanager_normalizer
from daemon_harness import Queues
from ingest_harness import bearer, loopback_client, payload
from test_ingest_gaps import queue_takes_at_most, take_queued
from triage.ingest import IngestService

#: How long a gated check waits for the test to let it go: a bound, never reached when the
#: gateway behaves (the test lets it go as soon as what it waits for happened).
GATE_S = 20.0


def tiny_alerts(count: int) -> bytes:
    """A Prometheus API batch of `count` alerts as small as JSON lets them be."""
    return json.dumps(
        [{"labels": {"a": str(i)}} for i in range(count)], separators=(",", ":")
    ).encode()


def prometheus_alert(i: int) -> dict[str, Any]:
    """The smallest alert Prometheus itself posts: its times are always sent, and its name."""
    return {
        "labels": {"alertname": "A", "i": str(i)},
        "annotations": {},
        "startsAt": "2026-12-06T22:40:32.1Z",
        "endsAt": "2026-12-06T22:44:32.1Z",
    }


class Gate:
    """Stands in for `validate.check`: the real check, then, for the gated source's bodies, a
    wait (on the thread that ran it) until the test opens the gate. Records what happened, in
    order, with the test's own events."""

    def __init__(self, real: Callable[..., Any], source: str) -> None:
        self.real = real
        self.source = source
        self.opened = threading.Event()
        self.events: list[str] = []
        self.started = 0
        self._lock = threading.Lock()

    def __call__(self, source: str, *args: Any, **kwargs: Any) -> Any:
        checked = self.real(source, *args, **kwargs)
        if source == self.source:
            with self._lock:
                self.started += 1
                self.events.append(f"{source} checked")
            self.opened.wait(GATE_S)
            self.events.append(f"{source} let go")
        return checked


async def wait_until(predicate: Callable[[], bool], timeout_s: float = GATE_S) -> bool:
    """Whether `predicate` came true within `timeout_s`, polled on the loop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not predicate():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


# --- A body of many tiny alerts ---------------------------------------------------------------


async def test_a_body_of_more_alerts_than_a_request_may_hold_is_413_before_any_is_read(
    gateway: IngestService, queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """30,000 tiny alerts in 1 MB are refused 413 naming the limit, and the normaliser reads
    none of them (it spent ~3 s of CPU on them): the work a request costs is bounded."""
    reads = 0
    real = alertmanager_normalizer.alert_from

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(alertmanager_normalizer, "alert_from", counted)
    async with loopback_client(gateway.port) as client:
        response = await client.post(
            "/api/v2/alerts", content=tiny_alerts(30_000), headers=bearer("alertmanager")
        )
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert "30,000 alerts" in error and f"{validate.MAX_ALERTS:,}" in error
    assert reads == 0
    assert take_queued(queues) == []


async def test_a_webhook_group_of_too_many_alerts_is_413_on_every_path(
    gateway: IngestService, queues: Queues
) -> None:
    """The limit holds for a webhook group's `alerts` too, and on a path the format is wrong
    for (the group was read whole before its format was refused)."""
    group = json.loads(payload("alertmanager/group-firing.json"))
    group["alerts"] = [{"labels": {"a": str(i)}} for i in range(validate.MAX_ALERTS + 1)]
    body = json.dumps(group).encode()
    async with loopback_client(gateway.port) as client:
        for path, source in (("/v1/alerts/alertmanager", "alertmanager"), ("/v1/alerts/grafana", "grafana")):  # fmt: skip
            response = await client.post(path, content=body, headers=bearer(source))
            assert response.status_code == 413, (path, response.text)
            assert f"{validate.MAX_ALERTS + 1:,} alerts" in response.json()["error"]
    assert take_queued(queues) == []


async def test_a_huge_batch_on_the_generic_path_is_told_that_paths_own_bound(
    gateway: IngestService, queues: Queues
) -> None:
    """On the generic path, whose batches hold at most 100 alerts, a batch of 30,000 is told
    that bound, not the 10,000 an Alertmanager array may hold (the sender would cut its batch
    to a size still refused)."""
    async with loopback_client(gateway.port) as client:
        response = await client.post(
            "/v1/alerts/generic", content=tiny_alerts(30_000), headers=bearer("generic")
        )
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert "30,000 alerts" in error and "at most 100 " in error
    assert take_queued(queues) == []


async def test_prometheus_largest_batch_of_its_smallest_alerts_is_still_taken(
    gateway: IngestService, queues: Queues
) -> None:
    """The limit is one no real sender meets: a batch of the smallest alerts Prometheus posts,
    as many as fill the 1 MiB body limit, is taken (200) and queued whole."""
    alerts: list[dict[str, Any]] = []
    size = 2
    while size < 1024 * 1024 - 200:
        alert = prometheus_alert(len(alerts))
        alerts.append(alert)
        size += len(json.dumps(alert, separators=(",", ":"))) + 1
    body = json.dumps(alerts, separators=(",", ":")).encode()
    assert len(body) <= 1024 * 1024
    await queue_takes_at_most(queues, gateway, 256 * 1024)  # SQS's default: split in parts
    async with loopback_client(gateway.port) as client:
        response = await client.post("/api/v2/alerts", content=body, headers=bearer("alertmanager"))
    assert response.status_code == 200, response.text
    queued = [alert for text in take_queued(queues) for alert in json.loads(text)]
    assert len(queued) == len(alerts)


def one_alert_of_many_labels(labels: int) -> bytes:
    """An Alertmanager webhook group of one alert with `labels` labels (few objects, many
    members: each label costs the normaliser a few microseconds)."""
    group = json.loads(payload("alertmanager/group-firing.json"))
    alert = group["alerts"][0]
    group["alerts"] = [
        {**alert, "labels": {**alert["labels"], **{f"l{i}": "v" for i in range(labels)}}}
    ]
    return json.dumps(group, separators=(",", ":")).encode()


#: Requests whose bodies cost more than a few milliseconds of CPU though they are small: how
#: each is sent (method, path, source, body, Content-Type) and the status it is answered.
SMALL_BUT_COSTLY = {
    # ~2,700 alerts in 64 KiB: ~0.3 s of the normaliser.
    "many-tiny-alerts": ("POST", "/api/v2/alerts", "alertmanager", tiny_alerts(2_700), None, 200),
    # 999 fields in 7 KB, each name sifted for a credential's: ~25 ms.
    "form-of-many-fields": (
        "POST",
        "/v1/alerts/generic",
        "generic",
        ("title=disk+full&" + "&".join(f"k{i}=v" for i in range(998))).encode(),
        "application/x-www-form-urlencoded",
        202,
    ),
    # The same 999 fields in the query string of a GET: ~15 ms.
    "query-of-many-fields": (
        "GET",
        "/v1/alerts/generic?title=disk+full&" + "&".join(f"k{i}=v" for i in range(998)),
        "generic",
        b"",
        None,
        202,
    ),
    # One alert of 4,000 labels in 55 KB: ~20 ms.
    "alert-of-many-labels": (
        "POST",
        "/v1/alerts/alertmanager",
        "alertmanager",
        one_alert_of_many_labels(4_000),
        None,
        202,
    ),
}


@pytest.mark.parametrize(
    ("method", "path", "source", "body", "content_type", "status"),
    list(SMALL_BUT_COSTLY.values()),
    ids=list(SMALL_BUT_COSTLY),
)
async def test_a_small_body_that_costs_cpu_is_read_off_the_loop(
    gateway: IngestService,
    queues: Queues,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    source: str,
    body: bytes,
    content_type: str | None,
    status: int,
) -> None:
    """A body under 64 KiB whose reading costs more than a few milliseconds of CPU is read on a
    worker thread: while it is read, a second client's webhook is answered and queued (on the
    loop, every request waited for it)."""
    assert len(body) < validate.OFFLOAD_BODY_BYTES
    gate = Gate(validate.check, source)
    monkeypatch.setattr(validate, "check", gate)
    headers = bearer(source) | ({"Content-Type": content_type} if content_type else {})
    async with loopback_client(gateway.port) as first, loopback_client(gateway.port) as second:
        sent = asyncio.create_task(first.request(method, path, content=body, headers=headers))
        try:
            assert await wait_until(lambda: gate.started == 1)
            other = await second.post(
                "/v1/alerts/grafana",
                content=payload("grafana/group-firing.json"),
                headers=bearer("grafana"),
            )
            gate.events.append(f"second client answered {other.status_code}")
        finally:
            gate.opened.set()
        assert (await sent).status_code == status
    assert gate.events == [
        f"{source} checked",
        "second client answered 202",
        f"{source} let go",
    ]


async def test_one_sources_bodies_cannot_take_the_threads_every_source_reads_on(
    gateway: IngestService, queues: Queues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight large Alertmanager bodies at once are read one after another on one thread, so a
    Grafana body sent meanwhile is read and queued before any of them is done (they filled
    every worker thread, and it waited for them)."""
    gate = Gate(validate.check, "alertmanager")
    monkeypatch.setattr(validate, "check", gate)
    heavy = tiny_alerts(4_000)
    assert len(heavy) > validate.OFFLOAD_BODY_BYTES
    grafana = json.loads(payload("grafana/group-firing.json"))
    grafana["message"] = "x" * validate.OFFLOAD_BODY_BYTES  # read on a thread too
    async with loopback_client(gateway.port) as client:
        posted = [
            asyncio.create_task(
                client.post("/api/v2/alerts", content=heavy, headers=bearer("alertmanager"))
            )
            for _ in range(8)
        ]
        try:
            assert await wait_until(lambda: gate.started >= 1)
            other = await client.post(
                "/v1/alerts/grafana", content=json.dumps(grafana), headers=bearer("grafana")
            )
            started_meanwhile = gate.started
        finally:
            gate.opened.set()
        answers = await asyncio.gather(*posted)
    assert other.status_code == 202, other.text
    assert started_meanwhile == 1
    assert [answer.status_code for answer in answers] == [200] * 8


# --- A form saved with a byte-order mark ------------------------------------------------------


async def test_a_form_body_led_by_a_byte_order_mark_is_read_by_its_fields(
    gateway: IngestService, queues: Queues
) -> None:
    """A urlencoded form sent from a file an editor saved as UTF-8 with a byte-order mark
    (`curl --data-binary @alert.txt`) is queued with its first field, as a JSON body so led
    is: it was refused 422 as no known format, naming 'title' as if that were not a title."""
    body = b"\xef\xbb\xbftitle=disk+full+on+db-1&severity=critical"
    headers = bearer("generic") | {"Content-Type": "application/x-www-form-urlencoded"}
    async with loopback_client(gateway.port) as client:
        response = await client.post("/v1/alerts/generic", content=body, headers=headers)
    assert response.status_code == 202, response.text
    (queued,) = take_queued(queues)
    assert json.loads(queued) == {"title": "disk full on db-1", "severity": "critical"}
