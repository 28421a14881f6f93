"""Red team, round 7: the webhook gateway (`triage ingest`) as an outsider on the network and as
a misconfigured sender meet it. Each xfail is a bug one of them hits today (the reason says
which), and passes once it is fixed."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator

import pytest

from daemon_harness import Queues
from ingest_harness import TOKENS, bearer, ingest_settings, loopback_client, payload, running
from test_ingest_connections import until
from test_ingest_gaps import queue_takes_at_most, take_queued
from test_ingest_hostile import _stall_sentry
from test_redteam_round3b_smuggling import queued_bodies
from triage.ingest import IngestService

#: A generic token as a password manager writes one: printable ASCII, `&`, `<` and `>` among it
#: (ingest_tokens takes any printable ASCII without whitespace).
PUNCTUATED = "gen&token<0123456789>xyz"


def go_json(value: object) -> bytes:
    """`value` as Go's encoding/json writes it (Grafana, Alertmanager, most shippers): `&`, `<`
    and `>` escaped as \\u0026, \\u003c and \\u003e (its default HTML-safe escaping)."""
    text = json.dumps(value, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e").encode()


@pytest.fixture
async def punctuated_gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway with the generic source's token PUNCTUATED."""
    tokens = json.dumps(dict(TOKENS, generic=PUNCTUATED))
    settings = ingest_settings(queues.url, queues.endpoint, ingest_tokens=tokens)
    async with running(settings) as service:
        yield service


# --- A held token echoed in a body, as a Go sender writes it --------------------------------


async def test_a_token_echoed_with_go_json_escapes_is_never_queued(
    punctuated_gateway: IngestService, queues: Queues
) -> None:
    """A sender's own token echoed in its alert (a callback URL with ?key=) is blanked in what
    is queued however the sender's JSON writer escaped its characters."""
    alert = {
        "title": "webhook callback failing",
        "dedup_key": "callback-1",
        "description": f"POST https://hooks.example/cb?key={PUNCTUATED} answered 500",
    }
    body = go_json(alert)
    assert PUNCTUATED.encode() not in body  # the token stands only escaped
    headers = {"Authorization": f"Bearer {PUNCTUATED}", "Content-Type": "application/json"}
    async with loopback_client(punctuated_gateway.port) as client:
        answer = await client.post("/v1/alerts/generic", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    (queued,) = queued_bodies(queues)
    # What the daemon reads: the queued JSON parsed, every string as it will show it.
    shown = json.dumps(json.loads(queued), ensure_ascii=False)
    assert "callback failing" in shown
    assert PUNCTUATED not in shown


# --- A webhook group split to fit the queue ------------------------------------------------


def group_with_envelope(envelope_bytes: int, alerts: int) -> bytes:
    """An Alertmanager webhook group whose fields besides its alerts (a common annotation)
    take about `envelope_bytes`, holding `alerts` small alerts."""
    group = json.loads(payload("alertmanager/group-firing.json"))
    group["commonAnnotations"] = {"description": "x" * envelope_bytes}
    template = group["alerts"][0]
    group["alerts"] = [
        {**template, "labels": {**template["labels"], "instance": f"db-{i}:9100"}}
        for i in range(alerts)
    ]
    return json.dumps(group).encode()


async def test_a_group_split_to_fit_the_queue_does_not_multiply_what_it_queues(
    gateway: IngestService, queues: Queues
) -> None:
    """A sender holding a token cannot make one request queue many times the bytes it sent: a
    webhook group split for a queue of small messages is refused (413) rather than having its
    envelope copied into a near-full message per alert."""
    await queue_takes_at_most(queues, gateway, 16 * 1024)
    body = group_with_envelope(14200, alerts=40)
    async with loopback_client(gateway.port) as client:
        answer = await client.post(
            "/v1/alerts/alertmanager", content=body, headers=bearer("alertmanager")
        )
    queued_bytes = sum(len(text.encode()) for text in take_queued(queues))
    if answer.status_code != 413:
        assert answer.status_code == 202, answer.text
        assert queued_bytes <= 2 * len(body), (answer.json(), queued_bytes, len(body))


# --- The sender behind a proxy that appends its port -----------------------------------------


@pytest.fixture
async def proxied(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway behind one trusted proxy (TRIAGE_INGEST_TRUSTED_PROXY_HOPS=1)."""
    settings = ingest_settings(queues.url, queues.endpoint, ingest_trusted_proxy_hops=1)
    async with running(settings) as service:
        yield service


@pytest.mark.parametrize(
    ("holder", "same"),
    [
        ("203.0.113.1:40001", "203.0.113.1:40002"),
        ("[2001:db8:1:2::1]:40001", "[2001:db8:1:2::1]:40002"),
    ],
    ids=["ipv4-port", "ipv6-port"],
)
async def test_a_sender_relayed_with_its_port_has_one_share_however_many_connections(
    proxied: IngestService, holder: str, same: str
) -> None:
    """Behind a proxy that appends the client's address with its port, a sender's share of the
    budget for bodies not yet authenticated is still its address's: a second connection (a
    new source port) of the same sender is refused 503 while the first holds the share."""
    gateway = proxied.gateway
    assert gateway is not None
    gateway.limits = dataclasses.replace(gateway.limits, unauthenticated_per_peer_bytes=100_000)
    stalled = await _stall_sentry(proxied.port, holder)
    await until(lambda: gateway.bodies.unauthenticated_bytes >= 80_000, "the body was never read")
    signed = {"Sentry-Hook-Signature": "0" * 64, "X-Forwarded-For": same}
    async with loopback_client(proxied.port) as client:
        again = await client.post("/v1/alerts/sentry", content=b" " * 60_000, headers=signed)
    stalled.close()
    assert again.status_code == 503, again.text
