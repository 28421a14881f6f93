"""Round 5 of the gateway and the operators' API against attackers (task 503), each over a real
connection to the real server on 127.0.0.1: a header value the gateway quotes back in a refusal
is redacted before it is cut, so neither the gateway's own token nor a pasted credential comes
back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from structlog.testing import capture_logs

from daemon_harness import Queues
from ingest_harness import TOKENS, ingest_settings, running
from test_ingest_hostile import exchange, head, received
from triage.ingest import IngestService

#: A credential of a shape the redactor knows, longer than the 40 characters a refusal quotes:
#: cut first, the 39 kept would no longer look like one.
GITHUB_TOKEN = "github_pat_11ABCDEFG0aB3dE5fG7hJ9kL_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5" * 2
#: The gateway's generic token with capitals, as real ones have: lower-cased before it is quoted,
#: it would no longer be the value every redactor holds.
MIXED_CASE = "Generic-TOKEN-0123456789-AbCdEf"


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway with the harness's tokens, the generic one in mixed case."""
    tokens = json.dumps({**TOKENS, "generic": MIXED_CASE})
    async with running(ingest_settings(queues.url, queues.endpoint, ingest_tokens=tokens)) as gw:
        yield gw


# --- A header value quoted back ----------------------------------------------------------------


@pytest.mark.parametrize("secret", [MIXED_CASE, GITHUB_TOKEN], ids=["gateway-token", "long-pat"])
@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("Content-Type: application/json; charset={}", "charset"),
        ("Content-Encoding: {}", "content coding"),
    ],
    ids=["charset", "content-coding"],
)
async def test_a_refusal_never_quotes_a_credential_sent_in_a_header(
    gateway: IngestService, queues: Queues, header: str, said: str, secret: str
) -> None:
    """A charset or content coding holding a credential is refused (415) saying which header
    was wrong, without quoting the credential or any 20 characters of it, in one line."""
    body = b'{"title": "disk full", "dedup_key": "d1"}'
    headers = (
        f"Authorization: Bearer {MIXED_CASE}\r\n"
        + header.format(secret)
        + f"\r\nContent-Length: {len(body)}\r\n"
    )
    with capture_logs() as logs:
        answer = await exchange(gateway.port, head("/v1/alerts/generic", headers) + body)
    assert answer.status == 415, answer.body
    error = answer.json()["error"]
    assert said in error and "[REDACTED:" in error, error
    assert secret[:20].lower() not in answer.body.decode().lower(), error
    assert [e["reason"] for e in logs if e["event"] == "ingest.refused"] == [
        "unsupported_charset" if said == "charset" else "unsupported_encoding"
    ]
    assert received(queues) == []
