"""The ticket backend sink's round 6 fixes, each at the class of its red-team case
(tests/test_redteam_round6_sinks.py): a web page answering a create, a ticket named inside an
envelope, a create's 409 that names its ticket, a body whose group is bounded whatever its
members, and a later effect's 2xx that says it failed. Each is the real sink over real HTTP
to a loopback server on 127.0.0.1 (`hostile_server`)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from factories import view
from hostile_server import Answer, answer, hostile
from triage.errors import SinkThrottledError, SinkUnavailableError
from triage.models import Alert, EffectKind, Priority, Status, Ticket
from triage.secrets import BackendToken
from triage.settings import Settings
from triage.sinks.backend import BackendSink
from triage.sinks.base import Effect
from triage.view import GroupView, MemberView

TOKEN = "round6-fixes-token"
ALERT = Alert(
    source="generic",
    status=Status.FIRING,
    title="orders queue backlog",
    team="payments",
    priority=Priority.HIGH,
    occurred_at=datetime(2026, 12, 6, 3, tzinfo=UTC),
    identity={"dedup_key": "orders-backlog"},
)
TICKET = Ticket(title="Orders backlog", priority=Priority.HIGH, description="42k messages")
CREATE_ROUTE = "/api/service/tickets"
UPDATE_ROUTE = "/api/service/tickets/{ref}/updates"
RESOLVE_ROUTE = "/api/service/tickets/{ref}/resolve"


def effect(kind: EffectKind, ref: str | None = None, key: str = "fp:1") -> Effect:
    return Effect(kind, ALERT.fingerprint, view(ALERT), TICKET, ref, 3, 2, False, key)


@pytest.fixture(autouse=True)
def backend_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend sink's token, from the environment as the daemon reads it."""
    monkeypatch.setenv("BACKEND_TOKEN", TOKEN)


@asynccontextmanager
async def backend_at(url: str) -> AsyncIterator[BackendSink]:
    settings = Settings(
        backend_base_url=url,
        backend_service_route=CREATE_ROUTE,
        backend_update_route=UPDATE_ROUTE,
        backend_resolve_route=RESOLVE_ROUTE,
    )
    sink = BackendSink(settings, BackendToken(settings))
    try:
        yield sink
    finally:
        await sink.aclose()


def json_answer(status: int, body: object, headers: dict[str, str] | None = None) -> Answer:
    return answer(
        status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()
    )


async def opened_by(reply: Answer) -> str | None:
    """The reference a create answered with `reply` records."""
    async with hostile(reply) as server, backend_at(server.url) as sink:
        return (await sink.apply(effect(EffectKind.OPEN, key="fp:9"))).ref


@pytest.mark.parametrize(
    "reply",
    [
        answer(200, {}, b"\n  <!DOCTYPE html><html><body>Sign in</body></html>"),
        answer(200, {"Content-Type": "text/plain"}, b"\xef\xbb\xbf<html>Sign in</html>"),
        answer(201, {"Content-Type": "application/xhtml+xml"}, b"Welcome"),
        answer(200, {"Content-Type": "application/xml"}, b"<ticket/>"),
    ],
    ids=["untyped-html", "bom-html-as-text", "xhtml-type", "xml"],
)
async def test_a_create_answered_with_a_web_page_is_retried(reply: Answer) -> None:
    """A 2xx create answered with a page (HTML or XML, by its type or its first character,
    whatever the type says) fails as a bad response, retried, instead of recording a ticket
    named by its Idempotency-Key that was never made."""
    with pytest.raises(SinkUnavailableError) as failed:
        await opened_by(reply)
    assert failed.value.reason == "bad_response"


async def test_a_create_answered_in_plain_text_is_still_named_by_its_key() -> None:
    """A create answered with plain text that is no page (`Created`) is still the ticket made,
    named by its Idempotency-Key as before: only a web page is taken for a stranger's answer."""
    assert await opened_by(answer(201, {"Content-Type": "text/plain"}, b"Created")) == "fp:9"


@pytest.mark.parametrize(
    ("body", "ref"),
    [
        ({"result": {"ticket_id": "INC0012345", "state": "new"}}, "INC0012345"),
        ({"ticket": {"key": "OPS-7"}}, "OPS-7"),
        ({"data": {"id": 42}}, "42"),
        ({"id": "T-1", "data": {"id": "T-2"}}, "T-1"),  # the answer's own key first
        ({"data": {"id": "https://evil.example/T-3"}}, "fp:9"),  # refused as no id
        ({"data": {"attributes": {"id": "T-4"}}}, "fp:9"),  # one envelope only
    ],
    ids=["servicenow-result", "ticket", "jsonapi-int", "own-key-first", "url", "two-deep"],
)
async def test_a_ticket_named_inside_one_envelope_is_its_reference(body: object, ref: str) -> None:
    """A create answer's ticket id under `data`, `result` or `ticket` (one wrapping object)
    names the ticket, under the same plausibility rules as a top-level id; the answer's own
    keys come first, and nothing deeper is read."""
    assert await opened_by(json_answer(201, body)) == ref


async def test_a_failed_create_whose_envelope_holds_a_plausible_word_is_not_a_ticket() -> None:
    """A JSend failure (`{"status": "fail", "data": {"key": "required"}}`, 200) is retried as
    a bad response: the word under its `data` is a validation message, not a ticket id, so
    only a top-level id spares a create its failure."""
    with pytest.raises(SinkUnavailableError) as failed:
        await opened_by(json_answer(200, {"status": "fail", "data": {"key": "required"}}))
    assert failed.value.reason == "bad_response"


@pytest.mark.parametrize(
    "reply",
    [
        json_answer(409, {"error": "conflict"}, {"Location": f"{CREATE_ROUTE}/T-8"}),
        json_answer(409, {"error": "idempotency_key_reused", "data": {"id": "T-8"}}),
    ],
    ids=["location-only", "body-envelope"],
)
async def test_a_create_409_naming_its_ticket_by_location_or_envelope_adopts_it(
    reply: Answer,
) -> None:
    """A create's 409 that names the ticket its key made, by Location alone or in an envelope,
    gives the incident that ticket."""
    assert await opened_by(reply) == "T-8"


async def test_a_create_409_naming_no_ticket_is_still_held() -> None:
    """A create's 409 that names no ticket (the same key in flight) is still a wait, holding
    only its own message: no reference is made up for it."""
    with pytest.raises(SinkThrottledError) as held:
        await opened_by(json_answer(409, {"error": "request_in_progress"}))
    assert held.value.pauses_intake is False


def group_of(count: int, title_chars: int) -> GroupView:
    since = datetime(2026, 12, 6, 3, tzinfo=UTC)
    members = tuple(
        MemberView(f"{n:032x}", f"{n} " + "é" * title_chars, Status.FIRING, since + timedelta(n))
        for n in range(count)
    )
    return GroupView({"alertname": "X" * 10_000}, members, untracked=7)


async def test_a_group_of_huge_titles_is_bounded_newest_first_and_counted() -> None:
    """A group of 1,000 members with 10,000-character (non-ASCII) titles and a huge label
    value is sent in bodies under 100 KiB: the newest members listed first, the rest (and the
    untracked) counted in `members_not_listed`, every title cut short."""
    opening = replace(
        effect(EffectKind.OPEN), alert=replace(view(ALERT), group=group_of(1000, 10_000))
    )
    async with (
        hostile(json_answer(201, {"id": "T-1"}), json_answer(200, {"ok": True})) as server,
        backend_at(server.url) as sink,
    ):
        await sink.apply(opening)
        await sink.apply(replace(opening, kind=EffectKind.CLOSE, ref="T-1", idempotency_key="k2"))
    assert max(len(r.body) for r in server.requests) <= 100 * 1024
    group = json.loads(server.requests[0].body)["group"]
    assert group["alerts"] == 1007
    assert group["members"][0]["title"].startswith("999 ")
    assert group["members_not_listed"] == 1007 - len(group["members"])
    assert all(len(m["title"]) <= 200 for m in group["members"])


@pytest.mark.parametrize(
    "body",
    [
        {"success": False, "id": "T-1"},
        {"status": "error", "ticket": {"id": "T-1"}},
        {"errors": [{"message": "locked"}], "key": "T-1"},
    ],
    ids=["success-false", "jsend-error-envelope", "graphql-errors"],
)
@pytest.mark.parametrize("kind", [EffectKind.UPDATE, EffectKind.REOPEN, EffectKind.CLOSE])
async def test_a_later_effect_whose_2xx_says_it_failed_is_retried_though_it_names_the_ticket(
    body: object, kind: EffectKind
) -> None:
    """An update, reopen or close answered 2xx with a body that says it failed is retried as
    a bad response even when the body names the ticket it was asked about: that proves a
    create, not that a later effect was applied."""
    async with hostile(json_answer(200, body)) as server, backend_at(server.url) as sink:
        with pytest.raises(SinkUnavailableError) as failed:
            await sink.apply(effect(kind, "T-1", key="fp:4"))
    assert failed.value.reason == "bad_response"


async def test_a_failed_create_that_names_its_ticket_is_still_the_ticket() -> None:
    """A create's 2xx that says it failed but names the ticket it made (a warning about a side
    step, the ticket made all the same) is still that ticket, as before."""
    assert await opened_by(json_answer(201, {"ok": False, "id": "T-5"})) == "T-5"


async def test_a_create_409_whose_failure_envelope_holds_a_word_is_still_held() -> None:
    """A create's 409 in JSend's failure form (`{"status": "fail", "data": {"key": "taken"}}`)
    names no ticket: the word under its `data` is the failure's detail, so it is held as the
    same key in flight, not adopted as the ticket `taken`."""
    with pytest.raises(SinkThrottledError):
        await opened_by(json_answer(409, {"status": "fail", "data": {"key": "taken"}}))
