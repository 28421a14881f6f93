"""The ticket backend sink against answers a broken or hostile backend gives, each from a
loopback server on 127.0.0.1: odd `Retry-After` values, a 303 to a create, interim 1xx heads,
JSON in another Unicode encoding, and a create the backend took while we timed out."""

from __future__ import annotations

import asyncio
import codecs
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from factories import view
from hostile_server import Answer, answer, hostile
from triage.demo.ticketd import TicketServer
from triage.errors import SinkThrottledError, SinkUnavailableError
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect
from triage.sinks.http import MAX_WAIT_S

ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="orders-db disk full",
    team="data",
    priority=Priority.HIGH,
    occurred_at=datetime(2026, 11, 23, 3, tzinfo=UTC),
    identity={"dedup_key": "disk"},
)
TICKET = Ticket(title="Disk full", priority=Priority.HIGH, description="df says 100%")
JSON = {"Content-Type": "application/json"}


def effect(key: str = "fp:1") -> Effect:
    return Effect(EffectKind.OPEN, ALERT.fingerprint, view(ALERT), TICKET, None, 1, 1, False, key)


@asynccontextmanager
async def backend_sink(
    url: str, token: str = "backend-token-209", **settings: Any
) -> AsyncIterator[BackendSink]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BACKEND_TOKEN", token)
        s = Settings(backend_base_url=url, **settings)
        sink = BackendSink(s, BackendToken(s))
        try:
            yield sink
        finally:
            await sink.aclose()


async def failure(reply: Answer) -> Exception:
    """What the sink raises for a create answered with `reply`."""
    async with hostile(reply) as server, backend_sink(server.url) as sink:
        with pytest.raises((SinkThrottledError, SinkUnavailableError)) as caught:
            await sink.apply(effect())
    return caught.value


#: Retry-After values that are neither delta-seconds (ASCII digits, as HTTP writes them; a
#: fraction and an exponent are taken too) nor an HTTP date, though float() reads most.
NOT_RETRY_AFTER = ["1_0", "+5", "inf", "nan", "0x10", " 5 5", "5."]


@pytest.mark.parametrize("value", NOT_RETRY_AFTER)
async def test_a_retry_after_only_python_reads_as_a_number_is_no_wait_asked(value: str) -> None:
    """A 429 or 503 whose Retry-After is no delta-seconds and no date is answered as one
    without it: the 429 waits the sink's default, the 503 asks for no wait of its own."""
    throttled = await failure(answer(429, {"Retry-After": value}))
    assert isinstance(throttled, SinkThrottledError) and throttled.retry_after_s == 5.0
    unavailable = await failure(answer(503, {"Retry-After": value}))
    assert isinstance(unavailable, SinkUnavailableError) and unavailable.retry_after_s is None


@pytest.mark.parametrize("status", [429, 503])
async def test_a_wait_of_twelve_digits_is_the_longest_wait(status: int) -> None:
    """A Retry-After of twelve digits is a backend asking for a very long wait: the longest
    one a sink takes (an hour), not the default."""
    caught = await failure(answer(status, {"Retry-After": "9" * 12}))
    assert getattr(caught, "retry_after_s", None) == MAX_WAIT_S


async def test_a_wait_of_more_seconds_than_a_float_holds_says_nothing() -> None:
    """A Retry-After of hundreds of digits (past what a float holds) says nothing usable, as
    the summariser reads it too: the 429 waits the sink's default, not an hour."""
    caught = await failure(answer(429, {"Retry-After": "9" * 400}))
    assert isinstance(caught, SinkThrottledError) and caught.retry_after_s == 5.0


async def test_a_303_to_a_login_page_is_a_wait_and_its_location_is_not_fetched() -> None:
    """A 303 See Other to the create POST naming no ticket (a login page) is not taken as the
    ticket made: no request goes to its Location (not even on the same host, where the token
    would go along), and the message waits as for any redirect."""
    async with hostile(answer(303, {"Location": "/login?next=/api/service/tickets"})) as server:
        async with backend_sink(server.url) as sink:
            with pytest.raises(SinkUnavailableError) as caught:
                await sink.apply(effect())
        assert caught.value.reason == "redirected"
        assert [r.head.split(b" ", 1)[0] for r in server.requests] == [b"POST"]


def interim(status: int, final: bytes) -> Answer:
    """A 1xx interim head (100 Continue, 103 Early Hints), then the final answer."""

    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(f"HTTP/1.1 {status} Interim\r\nLink: </x>; rel=preload\r\n\r\n".encode())
        head = f"HTTP/1.1 201 Created\r\nContent-Length: {len(final)}\r\nConnection: close\r\n"
        writer.write(head.encode() + b"\r\n" + final)
        await writer.drain()

    return write


@pytest.mark.parametrize("status", [100, 102, 103])
async def test_an_interim_answer_before_the_created_one_is_passed_over(status: int) -> None:
    """1xx heads before the 201 are not the answer: the ticket is named by the final one."""
    created = interim(status, b'{"id": "E-1"}')
    async with hostile(created) as server, backend_sink(server.url) as sink:
        assert (await sink.apply(effect())).ref == "E-1"


@pytest.mark.parametrize(
    ("charset", "body"),
    [
        ("utf-16", '{"id": "U-1"}'.encode("utf-16")),
        ("utf-8", codecs.BOM_UTF8 + b'{"id": "U-1"}'),
        ("x-no-such-charset", b'{"id": "U-1"}'),
    ],
    ids=["utf-16", "utf-8-bom", "unknown-charset"],
)
async def test_a_create_answer_in_another_unicode_encoding_is_read(
    charset: str, body: bytes
) -> None:
    """JSON in UTF-16 or with a byte-order mark, or labelled with a charset no codec has, is
    read as JSON is (RFC 8259 detects its encoding from the bytes): the ticket keeps its id."""
    headers = {"Content-Type": f"application/json; charset={charset}"}
    async with hostile(answer(201, headers, body)) as server, backend_sink(server.url) as sink:
        assert (await sink.apply(effect())).ref == "U-1"


def wait_until(condition: Callable[[], bool], deadline_s: float, what: str) -> None:
    """Poll `condition` until it holds, failing after `deadline_s`."""
    end = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.01)


async def test_a_create_the_backend_took_while_we_timed_out_is_retried_under_its_key(
    backend: TicketServer,
) -> None:
    """A create the backend made after our timeout gave up on it is sent again under the same
    Idempotency-Key: the backend answers with the ticket it made, and there is one ticket."""
    backend.delay_s = 30.0
    async with backend_sink(backend.url, backend.token, backend_timeout_s=0.2) as sink:
        with pytest.raises(SinkUnavailableError, match="Timeout"):
            await sink.apply(effect("fp:5"))
        backend.release_held()
        await asyncio.to_thread(wait_until, lambda: len(backend.tickets) == 1, 10, "the ticket")
        assert (await sink.apply(effect("fp:5"))).ref == "T-1"
    assert len(backend.tickets) == 1 and backend.replayed_creates == 1
    assert backend.tickets[0]["headers"]["idempotency-key"] == "fp:5"


@pytest.mark.parametrize("kind", [EffectKind.OPEN, EffectKind.UPDATE])
async def test_an_upgrade_nobody_asked_for_is_a_broken_answer_not_a_refusal(
    kind: EffectKind,
) -> None:
    """A 101 Switching Protocols as the final answer to a POST that asked for no upgrade
    breaks HTTP's rules, as an answer cut short does: the call failed (retried, the breaker
    counts it), and the ticket is not refused for good (no DLQ for the message)."""
    switching = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    )

    async def write(writer: asyncio.StreamWriter) -> None:
        writer.write(switching)
        await writer.drain()

    later = Effect(kind, ALERT.fingerprint, view(ALERT), TICKET, "T-1", 2, 1, False, "fp:2")
    routes = {"backend_update_route": "/api/service/tickets/{ref}/updates"}
    async with hostile(write) as server, backend_sink(server.url, **routes) as sink:
        with pytest.raises(SinkUnavailableError, match="101"):
            await sink.apply(effect() if kind is EffectKind.OPEN else later)


@pytest.mark.parametrize(
    ("status", "kind", "outcome"),
    [
        (201, EffectKind.OPEN, "created"),
        (429, EffectKind.OPEN, "throttled"),
        (410, EffectKind.UPDATE, "gone"),
    ],
)
async def test_an_answer_whose_body_cannot_be_decoded_is_judged_by_its_status(
    status: int, kind: EffectKind, outcome: str, logs: list[dict[str, Any]]
) -> None:
    """An answer whose body is not in the coding its Content-Encoding names (gzip that is
    not gzip) came whole and would come so again: it is judged by its status, as one too large
    to read is (a 201 is the ticket made, named by its key; a 429 still holds; a 410 is still
    gone), not a network failure whose retries would take the message to the DLQ."""
    reply = answer(status, {"Content-Encoding": "gzip"}, b'{"id": "not gzip"}')
    later = Effect(kind, ALERT.fingerprint, view(ALERT), TICKET, "T-1", 2, 1, False, "fp:2")
    routes = {"backend_update_route": "/api/service/tickets/{ref}/updates"}
    async with hostile(reply) as server, backend_sink(server.url, **routes) as sink:
        if outcome == "throttled":
            with pytest.raises(SinkThrottledError):
                await sink.apply(effect())
            return
        applied = await sink.apply(effect("fp:3") if kind is EffectKind.OPEN else later)
    if outcome == "created":
        assert applied.ref == "fp:3"
        [line] = [e for e in logs if e["event"] == "backend.no_ticket_id"]
        assert line["answer"].startswith("unread (")
    else:
        assert applied.gone


@pytest.mark.parametrize(
    ("location", "ref"),
    [
        ("/api/service/tickets/T-9", "T-9"),
        ("{url}/api/service/tickets/T-9", "T-9"),
        ("tickets/T-9", "T-9"),  # relative to the create URL, as RFC 3986 resolves it
        ("http://elsewhere.test/api/service/tickets/T-9", "fp:4"),  # another host
        ("/api/other/T-9", "fp:4"),  # not under the create route
        ("/api/service/tickets/T-9/comments", "fp:4"),  # not one segment below it
        ("/api/service/tickets/T-9?token=x", "fp:4"),  # a query
        ("/api/service/tickets/x/../../admin", "fp:4"),  # dot segments climb out
        ("/api/service/tickets/OPS%2F1", "fp:4"),  # an escaped slash
        ("/api/service/tickets/%3Cscript%3E", "fp:4"),  # no plausible ticket id
        ("/api/service/tickets/", "fp:4"),  # no id at all
    ],
)
async def test_a_201_naming_its_ticket_only_in_location_is_named_by_it(
    location: str, ref: str
) -> None:
    """A 201 whose body holds no id but whose Location names the new ticket as one plausible
    segment under the create route, on the backend's own origin, gives the ticket that id
    (later updates reach `/tickets/T-9/…`, which the backend knows); any other Location is
    not taken (the key names the ticket) and nothing is fetched from it."""
    origin: list[str] = []

    async def created(writer: asyncio.StreamWriter) -> None:
        await answer(201, {"Location": location.format(url=origin[0])})(writer)

    async with hostile(created) as server, backend_sink(server.url) as sink:
        origin.append(server.url)
        assert (await sink.apply(effect("fp:4"))).ref == ref
    assert len(server.requests) == 1


async def test_the_probe_takes_no_upgrade_nobody_asked_for_as_an_answer() -> None:
    """The breaker's probe (OPTIONS on the create route) answered 101 has heard no answer, as
    a create answered so has: it fails, so the breaker stays open."""

    async def switching(writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"
        )
        await writer.drain()

    async with hostile(switching) as server, backend_sink(server.url) as sink:
        with pytest.raises(SinkUnavailableError, match="101"):
            await sink.probe()
