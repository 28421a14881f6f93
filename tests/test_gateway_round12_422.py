"""Round 12 of the webhook gateway (helper 422): bugs a sender, an attacker or an operator meets
with a real HTTP client against the gateway on 127.0.0.1, each fixed, each test failing before
its fix.

- The gateway's own token, repeated in a body in the spelling the gateway itself takes it in,
  HTTP Basic's base64 of `user:token` (a sender that echoes the headers it was configured
  with, a proxy's error quoting them), or base64 of the token alone, was queued as sent: the
  queue and its DLQ held the credential, and the daemon's redactor blanks such base64 only
  after the word `Basic`, so a bare one reached every sink.
- Two bodies over a queue size lowered since start, refused by SQS at once (sharing a batch
  call, or two requests in the same moment): the first asked SQS for the size again, the
  other was measured against the old size while that question was out (or within the second
  after it), read as the body's own fault, and answered 422, which Alertmanager and most
  senders drop for good, instead of 413 naming the size (or split to fit).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from daemon_harness import Queues
from ingest_harness import TOKENS, SqsProxy, bearer, ingest_settings, loopback_client, running
from test_ingest_gaps import queue_takes_at_most, take_queued
from test_ingest_gateway import post_batched
from triage.ingest import IngestService
from triage.ingest.credentials import TOKEN_BLANK, without_tokens

TOKEN = TOKENS["generic"]


def basic_of(user: str, token: str = TOKEN) -> str:
    """HTTP Basic's credential for `user` and `token`, as a client writes it."""
    return base64.b64encode(f"{user}:{token}".encode()).decode()


# --- The token queued in base64 ------------------------------------------------------------

#: The token in base64 as a body repeats it: Basic's `user:token` (a user name of each length
#: modulo 3, so the token starts at each offset of a base64 group), the token alone, without
#: padding, URL-safe, and with JSON's `\/` escape for a slash (PHP's json_encode writes it).
ENCODED = {
    "basic-1": basic_of("t"),
    "basic-2": basic_of("tr"),
    "basic-3": basic_of("tri"),
    "alone": base64.b64encode(TOKEN.encode()).decode(),
    "unpadded": basic_of("triage").rstrip("="),
    "url-safe": base64.urlsafe_b64encode(f"ops?>:{TOKEN}".encode()).decode(),
}


@pytest.mark.parametrize("name", sorted(ENCODED))
async def test_the_token_in_base64_is_never_queued(
    gateway: IngestService, queues: Queues, name: str
) -> None:
    """A body that repeats the gateway's token in base64 (Basic's `user:token`, or the token
    alone) is queued with that base64 blanked, as the token spelled plainly is."""
    encoded = ENCODED[name]
    body = json.dumps(
        {"title": "Disk full", "description": f"sent with Authorization: Basic {encoded}"}
    )
    body = body[:-1] + f', "auth": "{encoded}"}}'
    async with loopback_client(gateway.port) as client:
        answer = await client.post("/v1/alerts/generic", content=body, headers=bearer("generic"))
    assert answer.status_code == 202, answer.text
    [queued] = take_queued(queues)
    assert encoded not in queued
    assert json.loads(queued)["auth"] == TOKEN_BLANK
    assert json.loads(queued)["title"] == "Disk full"


def test_the_token_in_base64_with_json_escaped_slashes_is_blanked() -> None:
    """Base64 holding a slash, written by a JSON encoder that escapes it (`\\/`), is blanked
    whole: the escape does not hide the token."""
    user = next(u for u in ("a", "ab", "abc", "abcd", "zz?", "?>?") if "/" in basic_of(u))
    escaped = basic_of(user).replace("/", "\\/")
    blanked = without_tokens('{"auth": "' + escaped + '"}', [TOKEN])
    assert blanked is not None
    assert json.loads(blanked) == {"auth": TOKEN_BLANK}


#: A token whose base64 holds `+` and `/` wherever it starts in a group.
SLASHED = "rand>>>??~~~secret-0123"


@pytest.mark.parametrize("user", ["", "a", "ab"])
def test_the_token_in_base64_percent_encoded_in_a_url_is_blanked_whole(user: str) -> None:
    """Base64 of a token holding `+` and `/`, percent-encoded in a URL's query (`%2B`, `%2F`,
    `%3D`), is blanked whole: the escapes neither hide the token nor leave a piece of it."""
    encoded = quote(basic_of(user, SLASHED), safe="")
    assert "%2B" in encoded or "%2F" in encoded
    text = json.dumps({"url": f"https://hook.example/x?auth={encoded}&n=1"})
    blanked = without_tokens(text, [SLASHED])
    assert blanked is not None
    assert json.loads(blanked) == {"url": f"https://hook.example/x?auth={TOKEN_BLANK}&n=1"}


@pytest.mark.parametrize(
    "text",
    [
        '{"auth": "' + basic_of("triage", "another-token-0123456789") + '"}',
        '{"image": "' + base64.b64encode(bytes(range(256)) * 4).decode() + '"}',
        '{"count": 1234567890123456789012345678901234567890}',
    ],
    ids=["another-token", "binary", "long-number"],
)
def test_base64_without_a_token_is_left_as_sent(text: str) -> None:
    """Base64 (or a long run of digits) that decodes to no token of the gateway's is queued as
    sent."""
    assert without_tokens(text, [TOKEN]) is None


def test_base64_after_an_escape_in_text_that_is_no_json_keeps_each_line_json() -> None:
    """In NDJSON (no JSON as a whole), a token's base64 right after an escape (`\\n`,
    `\\u00e9`) is blanked and the escape kept whole, so each line still reads as JSON."""
    encoded = basic_of("ops")
    lines = [
        json.dumps({"title": "a", "note": f"header:\n{encoded}"}),
        json.dumps({"title": "b", "note": f"caf\u00e9{encoded}"}, ensure_ascii=True),
    ]
    blanked = without_tokens("\n".join(lines), [TOKEN])
    assert blanked is not None
    notes = [json.loads(line)["note"] for line in blanked.split("\n")]
    assert notes == [f"header:\n{TOKEN_BLANK}", f"caf\u00e9{TOKEN_BLANK}"]


# --- Two bodies refused at once for a queue size lowered since start ------------------------


@pytest.fixture
def proxy(moto_url: str) -> Iterator[SqsProxy]:
    with SqsProxy(moto_url) as running_proxy:
        yield running_proxy


async def test_two_bodies_over_a_lowered_queue_size_are_each_413_not_422(
    queues: Queues, proxy: SqsProxy
) -> None:
    """Two script alerts over the queue's MaximumMessageSize, lowered after the gateway read
    it, whose sends SQS refuses at once (one shared batch): each is answered 413 naming the
    size now, neither 422 (dropped) for having been measured by the size read before."""
    settings = ingest_settings(queues.url, proxy.url, ingest_linger_ms=100)
    big = [
        json.dumps({"title": f"Disk full {n}", "description": "x" * 100_000}).encode()
        for n in (1, 2)
    ]
    async with running(settings) as service, loopback_client(service.port) as client:
        await queue_takes_at_most(queues, service, 1024 * 1024)
        queues.client().set_queue_attributes(
            QueueUrl=queues.url, Attributes={"MaximumMessageSize": str(64 * 1024)}
        )
        answers = await post_batched(client, proxy, big)
    assert [a.status_code for a in answers] == [413, 413], [a.text for a in answers]
    assert all("65,536" in a.json()["error"] for a in answers)
