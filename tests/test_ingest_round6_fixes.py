"""The gateway fixes for red team round 6 (tests/test_redteam_round6_gateway.py holds the
attacks themselves): how long a signed time keeps a signature remembered, the gateway's own
tokens blanked in what it queues, and browser requests refused by what Fetch Metadata says."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import boto3
import httpx2
import pytest

from daemon_harness import Queues
from ingest_harness import (
    TOKENS,
    basic,
    bearer,
    ingest_settings,
    loopback_client,
    payload,
    running,
    sentry_headers,
)
from triage.ingest import IngestService
from triage.ingest.credentials import TOKEN_BLANK, without_tokens
from triage.ingest.query import Query, without_token_values
from triage.ingest.replay import Replayed, ReplayGuard

GENERIC = "/v1/alerts/generic"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def queued(queues: Queues) -> list[str]:
    """The bodies now on the queue (left in place: visibility 0)."""
    response = queues.client().receive_message(
        QueueUrl=queues.url, MaxNumberOfMessages=10, VisibilityTimeout=0
    )
    return [m["Body"] for m in response.get("Messages", [])]


@pytest.fixture
async def gateway(queues: Queues) -> AsyncIterator[IngestService]:
    async with running(ingest_settings(queues.url, queues.endpoint)) as service:
        yield service


@pytest.fixture
async def client(gateway: IngestService) -> AsyncIterator[httpx2.AsyncClient]:
    async with loopback_client(gateway.port) as c:
        yield c


# --- The replay guard and a signed time ------------------------------------------------------


def test_a_signature_sent_ahead_of_our_clock_is_remembered_until_its_time_leaves_the_window() -> (
    None
):
    """A signature whose time is 200 s ahead is remembered for the window plus those 200 s (as
    long as that time passes the timestamp check), then forgotten."""
    clock, wall = Clock(), Clock(5000.0)
    guard = ReplayGuard(window_s=300, clock=clock, wall_clock=wall)
    with guard.delivery("a" * 64, sent_at=wall.now + 200):
        pass
    clock.now += 499
    with pytest.raises(Replayed), guard.delivery("a" * 64):
        pass
    clock.now += 2
    with guard.delivery("a" * 64):
        pass


def test_a_signature_sent_behind_our_clock_is_remembered_for_the_window() -> None:
    """A time behind our clock never shortens the memory below the window: the guard still
    stops a replay sent without (or with a changed) unsigned timestamp."""
    clock, wall = Clock(), Clock(5000.0)
    guard = ReplayGuard(window_s=300, clock=clock, wall_clock=wall)
    with guard.delivery("b" * 64, sent_at=wall.now - 250):
        pass
    clock.now += 299
    with pytest.raises(Replayed), guard.delivery("b" * 64):
        pass


def test_a_long_remembered_signature_does_not_keep_a_lapsed_one_behind_it() -> None:
    """A signature remembered longer (its time ahead) ahead of one remembered for the window
    alone does not keep the second one refused past its own window."""
    clock, wall = Clock(), Clock(5000.0)
    guard = ReplayGuard(window_s=300, clock=clock, wall_clock=wall)
    with guard.delivery("c" * 64, sent_at=wall.now + 250):
        pass
    with guard.delivery("d" * 64):
        pass
    clock.now += 301
    with guard.delivery("d" * 64):
        pass
    with pytest.raises(Replayed), guard.delivery("c" * 64):
        pass


async def test_a_sentry_delivery_with_the_same_timestamp_is_still_a_duplicate(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """The replay key holds Sentry-Hook-Timestamp beside the signature, so a retry or a
    capture sent with its own timestamp is still answered `duplicate` and queued once."""
    body = payload("sentry/issue-resolved.json")
    headers = {**sentry_headers(body), "Sentry-Hook-Timestamp": str(int(time.time()))}
    first = await client.post("/v1/alerts/sentry", content=body, headers=headers)
    again = await client.post("/v1/alerts/sentry", content=body, headers=headers)
    assert first.status_code == 202, first.text
    assert again.status_code == 200 and again.json().get("duplicate") is True, again.text
    assert len(queued(queues)) == 1


# --- A source added to the secret -----------------------------------------------------------


async def test_requests_for_a_source_that_stays_off_reread_the_secret_at_most_once_an_interval(
    queues: Queues,
) -> None:
    """Requests for a source the secret does not hold are 404, and however many come within
    the refresh interval none reads the secret again: a scan cannot hammer Secrets Manager."""
    secrets = boto3.client("secretsmanager", endpoint_url=queues.endpoint, region_name="us-east-1")
    arn = secrets.create_secret(
        Name="triage/ingest-round6-off", SecretString=json.dumps({"generic": TOKENS["generic"]})
    )["ARN"]
    settings = ingest_settings(
        queues.url,
        queues.endpoint,
        ingest_tokens=None,
        ingest_tokens_secret_id=arn,
        ingest_tokens_refresh_s=3600,
    )
    async with running(settings) as service, loopback_client(service.port) as client:
        assert service.gateway is not None
        store = service.gateway.tokens
        reads = []
        real_get = store._client.get_secret_value

        async def counted(**kwargs: object) -> object:
            reads.append(kwargs)
            return await real_get(**kwargs)

        store._client.get_secret_value = counted
        for _ in range(10):
            answer = await client.post(
                "/v1/alerts/threshold",
                content=b"{}",
                headers={"Authorization": "Bearer " + "x" * 24},
            )
            assert answer.status_code == 404, answer.text
    assert reads == []


# --- The gateway's own tokens in what it queues ---------------------------------------------


def test_a_query_field_holding_a_token_is_dropped_by_name() -> None:
    """A field whose value is a held token (whitespace around it too) is dropped and named;
    a field holding other text, or a token inside more text, stays for the later blanking."""
    token = TOKENS["generic"]
    query = Query((("title", "disk"), ("key", f" {token} "), ("k", f"x{token}")))
    assert without_token_values(query, [token]) == Query((("title", "disk"), ("k", f"x{token}")))
    assert without_token_values(query, [token]).dropped == ("key",)


def test_tokens_are_blanked_in_json_keys_values_and_escapes() -> None:
    """A token anywhere in a JSON text, in a key, a value, or inside more text, is blanked and
    the text still reads as the same JSON otherwise; a token holding a quote is found as the
    JSON escapes it."""
    quoted = 'abc"defghijklmnopq'
    text = json.dumps({"title": "t", "key": "T" * 20, "note": f"see ?k={'T' * 20}", quoted: 1})
    blanked = without_tokens(text, ["T" * 20, quoted])
    assert blanked is not None
    assert json.loads(blanked) == {
        "title": "t",
        "key": TOKEN_BLANK,
        "note": f"see ?k={TOKEN_BLANK}",
        TOKEN_BLANK: 1,
    }
    assert without_tokens(text, ["U" * 20]) is None


def test_a_token_written_as_a_json_number_is_blanked_as_a_string() -> None:
    """A token of digits alone, sent as a number, is blanked as well, and the text is JSON."""
    digits = "12345678901234567"
    blanked = without_tokens(json.dumps({"n": int(digits), "m": 1.5}), [digits])
    assert blanked is not None
    assert json.loads(blanked) == {"n": TOKEN_BLANK, "m": 1.5}


async def test_a_token_in_a_json_body_field_is_never_queued(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A JSON body that echoes the source's token in a field is queued with it blanked."""
    token = TOKENS["generic"]
    body = json.dumps({"title": "disk full on db-1", "dedup_key": "d1", "apikey2": token})
    answer = await client.post(GENERIC, content=body, headers=bearer("generic"))
    assert answer.status_code == 202, answer.text
    (queued_body,) = queued(queues)
    assert token not in queued_body
    assert json.loads(queued_body)["apikey2"] == TOKEN_BLANK


async def test_another_sources_token_in_a_form_body_is_never_queued(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A form body holding a token of another source (any held token is a secret) under a
    name that says nothing is queued without it."""
    token = TOKENS["grafana"]
    answer = await client.post(
        GENERIC,
        content=f"title=disk+full&dedup_key=d2&note={token}".encode(),
        headers={**bearer("generic"), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 202, answer.text
    (queued_body,) = queued(queues)
    assert token not in queued_body
    assert "disk full" in queued_body


async def test_a_query_token_field_is_named_in_the_answer(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A query field that repeats the token is dropped, and the answer names it, so the sender
    sees why it went."""
    token = TOKENS["generic"]
    answer = await client.get(
        f"{GENERIC}?title=disk&sig={token}", headers=basic("uptime-checker", token)
    )
    assert answer.status_code == 202, answer.text
    assert "sig" in answer.json()["dropped_fields"]
    (queued_body,) = queued(queues)
    assert token not in queued_body


# --- Browsers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-site", "Origin": "https://other.example.com"},
        {"Sec-Fetch-Site": "cross-site"},  # an <img> or a navigation: no Origin
        {"Origin": "https://attacker.example"},  # a browser without Fetch Metadata
        {"Origin": "null"},  # a sandboxed frame, or a redirect across sites
    ],
    ids=["same-site", "cross-site-get", "origin-alone", "origin-null"],
)
async def test_a_browser_request_from_another_site_is_refused_403(
    client: httpx2.AsyncClient, queues: Queues, headers: dict[str, str]
) -> None:
    """A request a browser makes for another site's page (Fetch Metadata says so, or it sends
    an Origin and no Fetch Metadata) is 403 with a JSON error, before its credential counts."""
    answer = await client.get(
        f"{GENERIC}?title=forged", headers={**basic("triage", TOKENS["generic"]), **headers}
    )
    assert answer.status_code == 403, answer.text
    assert "another site" in answer.json()["error"]
    assert queued(queues) == []


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
async def test_a_form_post_with_an_origin_alone_is_refused_403(
    client: httpx2.AsyncClient, queues: Queues, content_type: str
) -> None:
    """A post of a form's media type with an Origin and no Fetch Metadata (an older browser's
    form) is 403: a page can send it to another site unasked."""
    answer = await client.post(
        GENERIC,
        content=b"title=forged",
        headers={
            **basic("triage", TOKENS["generic"]),
            "Origin": "https://attacker.example",
            "Content-Type": content_type,
        },
    )
    assert answer.status_code == 403, answer.text
    assert queued(queues) == []


async def test_a_servers_json_post_with_an_origin_is_taken(
    client: httpx2.AsyncClient, queues: Queues
) -> None:
    """A JSON post with an Origin and no Fetch Metadata is a server's (a page's would be
    preflighted, which the gateway refuses): it is taken as any other."""
    answer = await client.post(
        GENERIC,
        json={"title": "disk full on db-1", "status": "firing"},
        headers={**basic("triage", TOKENS["generic"]), "Origin": "https://sender.example"},
    )
    assert answer.status_code == 202, answer.text
    assert len(queued(queues)) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1"},
        {"Sec-Fetch-Site": "none"},  # the operator typing the URL
    ],
    ids=["same-origin", "typed"],
)
async def test_a_browser_request_of_its_own_is_taken(
    client: httpx2.AsyncClient, queues: Queues, headers: dict[str, str]
) -> None:
    """A request the user made themselves (`none`) or the gateway's own origin made is no
    forgery: it is taken as any other."""
    answer = await client.get(
        f"{GENERIC}?title=typed", headers={**basic("triage", TOKENS["generic"]), **headers}
    )
    assert answer.status_code == 202, answer.text
    assert len(queued(queues)) == 1
