"""Red team, round 8: the webhook gateway and faults. Each xfail is a bug a sender, an attacker
or an operator meets today (the reason says which), and passes once it is fixed.

- A sender's own token echoed in its alert percent-encoded in a URL, or HTML-escaped, as every
  writer of those encodes its `&`, `<` and `>`, is queued (and shown by every sink) as it stands.
- The same token escaped in JSON (Go's `\\u0026`) is found only where `json.loads` reads the
  body, not where the daemon does: past a byte-order mark, or in an object encoded twice.
- A batch entry the queue's KMS key fails (throttled, or the key refusing us), which SQS marks
  SenderFault as it does every 4xx, is answered 422, which a sender drops, not 503: the same
  failure on a send alone is 503.
- A captured Sentry delivery sent again with its own `Sentry-Hook-Timestamp` written another
  way (`1700000000.0` for `1700000000`: the same time) passes the replay guard as a new one.
"""

from __future__ import annotations

import html
import json
import time
import urllib.parse
from collections.abc import AsyncIterator, Callable

import pytest

from daemon_harness import Queues
from ingest_harness import (
    TOKENS,
    SqsProxy,
    ingest_settings,
    loopback_client,
    payload,
    running,
)
from ingest_harness import sentry_headers as sentry_signed
from test_ingest_gateway import post_batched
from test_redteam_round3b_smuggling import queued_bodies
from triage.decode import load_object
from triage.ingest import IngestService

#: A generic token as a password manager writes one: printable ASCII with `&`, `<` and `>`.
PUNCTUATED = "gen&token<0123456789>xyz"
SENTRY_BODY = payload("sentry/issue-created.json")


@pytest.fixture
async def punctuated_gateway(queues: Queues) -> AsyncIterator[IngestService]:
    """The gateway with the generic source's token PUNCTUATED."""
    tokens = json.dumps(dict(TOKENS, generic=PUNCTUATED))
    settings = ingest_settings(queues.url, queues.endpoint, ingest_tokens=tokens)
    async with running(settings) as service:
        yield service


# --- A held token echoed in a web encoding ---------------------------------------------------


def percent_encoded(token: str) -> tuple[str, str]:
    """`token` as a URL writer puts it in a path (Go's url.PathEscape, Python's quote), in the
    callback URL an alert quotes: a Slack-style hook URL carries its secret so."""
    encoded = urllib.parse.quote(token, safe="")
    return encoded, f"POST https://hooks.example/relay/{encoded}/alerts answered 500"


def html_escaped(token: str) -> tuple[str, str]:
    """`token` as an HTML template writes it (Go's html/template, Grafana's and Alertmanager's
    notification templates): `&amp;`, `&lt;`, `&gt;`, in a link an alert quotes."""
    escaped = html.escape(token)
    return escaped, f'<a href="https://hooks.example/relay/{escaped}/alerts">callback</a> 500'


@pytest.mark.parametrize("encoding", [percent_encoded, html_escaped], ids=["percent", "html"])
async def test_a_token_echoed_in_a_web_encoding_is_never_queued(
    punctuated_gateway: IngestService,
    queues: Queues,
    encoding: Callable[[str], tuple[str, str]],
) -> None:
    """A sender's own token echoed in its alert, in a URL percent-encoded or in HTML escaped
    as every writer of them encodes `&`, `<` and `>`, is blanked in what is queued: anyone
    reading the ticket decodes it at a glance (a Markdown or HTML sink shows `&amp;` as `&`),
    and no name beside it says secret."""
    encoded, description = encoding(PUNCTUATED)
    assert encoded != PUNCTUATED
    alert = {"title": "webhook callback failing", "dedup_key": "cb-1", "description": description}
    headers = {"Authorization": f"Bearer {PUNCTUATED}", "Content-Type": "application/json"}
    async with loopback_client(punctuated_gateway.port) as client:
        answer = await client.post("/v1/alerts/generic", content=json.dumps(alert), headers=headers)
    assert answer.status_code == 202, answer.text
    (queued,) = queued_bodies(queues)
    assert "callback failing" in queued
    assert encoded not in queued


def go_escaped(text: str) -> str:
    """JSON text with `&`, `<` and `>` escaped as Go's encoding/json writes them."""
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def with_bom(text: str) -> bytes:
    """The body led by a UTF-8 byte-order mark (PowerShell's `Out-File -Encoding utf8`)."""
    return b"\xef\xbb\xbf" + text.encode()


def encoded_twice(text: str) -> bytes:
    """The object's JSON encoded again as a JSON string (a forwarder that serialised the JSON
    it already had), which the daemon reads as the object (triage.decode.object_of)."""
    return json.dumps(text).encode()


@pytest.mark.parametrize("framing", [with_bom, encoded_twice], ids=["bom", "encoded-twice"])
async def test_a_token_escaped_in_json_the_daemon_reads_is_never_queued(
    punctuated_gateway: IngestService, queues: Queues, framing: Callable[[str], bytes]
) -> None:
    """A sender's token echoed in JSON that escapes it as Go does (`\\u0026`) is blanked in
    what is queued in every framing the daemon reads as that JSON (triage.decode: past a
    byte-order mark, an object's JSON encoded again as a string), since it shows it."""
    alert = {
        "title": "webhook callback failing",
        "dedup_key": "callback-1",
        "description": f"POST https://hooks.example/cb?k={PUNCTUATED} answered 500",
    }
    body = framing(go_escaped(json.dumps(alert, separators=(",", ":"))))
    assert PUNCTUATED.encode() not in body  # the token stands only escaped
    headers = {"Authorization": f"Bearer {PUNCTUATED}", "Content-Type": "application/json"}
    async with loopback_client(punctuated_gateway.port) as client:
        answer = await client.post("/v1/alerts/generic", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    (queued,) = queued_bodies(queues)
    # What the daemon reads: the queued body as triage.decode parses it.
    shown = json.dumps(load_object(queued, "body"), ensure_ascii=False)
    assert "callback failing" in shown
    assert PUNCTUATED not in shown


# --- A batch entry failed by the queue's KMS key ---------------------------------------------


class KmsFailingProxy(SqsProxy):
    """The SQS proxy that fails each marked SendMessageBatch entry (SenderFault, as SQS marks a
    4xx) with `code`, a KMS error, instead of InvalidMessageContents."""

    code = "KMS.ThrottlingException"

    def _fail_marked(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        status, reply_headers, reply = super()._fail_marked(method, path, headers, body)
        answer = json.loads(reply)
        for entry in answer["Failed"]:
            entry["Code"] = self.code
        return status, reply_headers, json.dumps(answer).encode()


@pytest.mark.parametrize("code", ["KMS.ThrottlingException", "KmsAccessDenied"])
async def test_a_batch_entry_the_queues_kms_key_fails_is_retried_not_refused(
    queues: Queues, moto_url: str, code: str
) -> None:
    """Webhooks sharing a SendMessageBatch whose entries the queue's KMS key fails (KMS busy,
    or the role lacking kms:GenerateDataKey), which SQS marks SenderFault, are answered 503
    with Retry-After, as the same failure of a send alone is: a 422 makes Alertmanager and
    Grafana drop the alert for good, over a key an operator can fix."""
    with KmsFailingProxy(moto_url) as proxy:
        proxy.code = code
        proxy.fail_marker, proxy.fail_as_sender_fault = "doomed", True
        settings = ingest_settings(queues.url, proxy.url, ingest_linger_ms=100)
        bodies = [
            json.dumps({"title": f"doomed {i}", "dedup_key": f"doomed-{i}"}).encode()
            for i in range(2)
        ]
        async with running(settings) as service, loopback_client(service.port) as client:
            answers = await post_batched(client, proxy, bodies)
    assert proxy.count("SendMessageBatch") == 1
    assert [a.status_code for a in answers] == [503, 503], [a.text for a in answers]


# --- A Sentry capture replayed with its time written another way -----------------------------


async def test_a_sentry_capture_with_its_timestamp_respelled_is_a_duplicate(
    gateway: IngestService, queues: Queues
) -> None:
    """A captured Sentry delivery sent again within the window with the same
    Sentry-Hook-Timestamp written another way (a fraction, a plus sign, an exponent: the same
    Unix time) is answered `duplicate` and queued once, not once per spelling."""
    sent = str(int(time.time()))
    spellings = [sent, f"{sent}.0", f"+{sent}", f"{sent}.000"]
    answers = []
    async with loopback_client(gateway.port) as client:
        for spelling in spellings:
            headers = {**sentry_signed(SENTRY_BODY), "Sentry-Hook-Timestamp": spelling}
            answer = await client.post("/v1/alerts/sentry", content=SENTRY_BODY, headers=headers)
            answers.append(answer.status_code)
    assert answers[0] == 202
    assert answers[1:] == [200, 200, 200], answers
    assert len(queued_bodies(queues)) == 1
