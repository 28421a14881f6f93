"""`triage ingest` red-teamed on raw sockets: request framings a proxy in front may read
otherwise than the gateway, credentials padded to pass, and connections that hold a slot by
trickling their request head. Each is answered with a clear status and one line, and nothing
of it is queued."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, payload, running
from test_ingest_hostile import exchange, received
from triage.ingest import IngestService

GENERIC = payload("generic/firing.json")
BEARER = f"Authorization: Bearer {TOKENS['generic']}\r\n"


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway on a free port, with the harness's tokens, in front of moto's `alerts` queue."""
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


# --- Credentials --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "padding",
    ["\u00a0", "\u3000", "\u2028", "\u0085"],
    ids=["nbsp", "ideographic-space", "line-separator", "next-line"],
)
@pytest.mark.parametrize("header", ["Authorization: Bearer ", "X-Grafana-Token: "])
async def test_a_token_padded_with_unicode_space_is_401(
    gateway: IngestService, queues: Queues, header: str, padding: str
) -> None:
    """A token with a Unicode space before or after it (Python's `str.strip` removes those, HTTP
    does not: only spaces and tabs surround a header value) is refused like any other."""
    for credential in (TOKENS["generic"] + padding, padding + TOKENS["generic"]):
        request = f"POST /v1/alerts/generic HTTP/1.1\r\nHost: x\r\n{header}{credential}\r\n"
        request += f"Content-Length: {len(GENERIC)}\r\n\r\n"
        answer = await exchange(gateway.port, request.encode() + GENERIC)
        assert answer.status == 401, (header, credential)
    assert received(queues) == []
