"""Hostile characters in what the backend sink posts, against the loopback ticket backend: the
ticket's text is what a ticket system shows and stores, so it carries no NUL (PostgreSQL's
jsonb refuses `\\u0000`), no bidi control or invisible character, and a lone surrogate in the
alert is U+FFFD instead of a UnicodeEncodeError that fails the message."""

from __future__ import annotations

import dataclasses
import json
import unicodedata

from factories import view
from test_backend_sink import ALERT, ROUTES, open_sink, token_env
from triage.demo.ticketd import TicketServer
from triage.models import EffectKind, Priority, Status, Ticket
from triage.sinks.base import Effect
from triage.view import GroupView, MemberView

__all__ = ["token_env"]  # BACKEND_TOKEN for the loopback backend, shared with test_backend_sink

WORDS = "db\u202e down\u200b\U000e0041 \x00at\x1b[2J 03:00\x08\r\nnext"
LONE = "\ud800"


def _unshowable(value: object) -> list[str]:
    """Every character in the JSON value's text that a ticket system should not be given."""
    text = json.dumps(value, ensure_ascii=False)
    bad = {"\u202e", "\u200b", "\U000e0041", "\x00", "\x1b", "\x08", "\r"}
    return [hex(ord(ch)) for ch in text if ch in bad or unicodedata.category(ch) == "Cs"]


async def test_hostile_characters_never_reach_the_ticket(backend: TicketServer) -> None:
    """Open, update and close bodies hold no control, bidi or invisible character and no lone
    surrogate in any field (the group's and the links' included), the text around them kept,
    and every post is made."""
    member = MemberView("m1", f"member {WORDS}{LONE}", Status.FIRING, ALERT.occurred_at)
    hostile = ALERT.model_copy(
        update={
            "team": f"data{LONE}",
            "links": {f"dash{WORDS}": f"https://grafana.example.com/d/{LONE}"},
        }
    )
    group = GroupView({f"service{WORDS}": f"api{LONE}"}, (member,))
    seen = dataclasses.replace(view(hostile), group=group)
    ticket = Ticket(title=f"t {WORDS}", priority=Priority.HIGH, description=WORDS, steps=(WORDS,))

    def effect(kind: EffectKind, ref: str | None, key: str) -> Effect:
        return Effect(kind, hostile.fingerprint, seen, ticket, ref, 3, 2, False, key)

    async with open_sink(backend.url, **ROUTES) as sink:
        ref = (await sink.apply(effect(EffectKind.OPEN, None, "fp:1"))).ref
        assert ref is not None
        await sink.apply(effect(EffectKind.REOPEN, ref, "fp:2"))
        await sink.apply(effect(EffectKind.CLOSE, ref, "fp:3"))
    [opened] = backend.tickets
    assert _unshowable(opened["body"]) == []
    assert opened["body"]["description"] == "db down  at [2J 03:00 \nnext"
    assert opened["body"]["team"] == "data\ufffd"
    events = backend.events
    assert len(events) == 2
    for event in events:
        assert _unshowable(event) == []
