"""Round 9 of the sinks' answers under faults (helper 561), each from a loopback server on
127.0.0.1: a backend that writes its JSON in the charset its Content-Type names."""

from __future__ import annotations

import pytest

from hostile_server import answer, hostile
from test_backend_hostile_answers import backend_sink, effect
from triage.errors import SinkUnavailableError


@pytest.mark.parametrize(
    ("charset", "body"),
    [
        ("iso-8859-1", '{"id": "T-1", "title": "café"}'),
        ("windows-1252", '{"data": {"id": "T-1", "title": "“quoted”"}}'),
        ("shift_jis", '{"id": "T-1", "title": "ディスク"}'),
    ],
)
async def test_a_create_answer_in_the_charset_it_names_names_its_ticket(
    charset: str, body: str
) -> None:
    """A create answered with JSON in the (non-UTF-8) charset its Content-Type names is read
    in it: the ticket is the backend's id, not the idempotency key no route knows."""
    headers = {"Content-Type": f"application/json; charset={charset}"}
    reply = answer(201, headers, body.encode(charset))
    async with hostile(reply) as server, backend_sink(server.url) as sink:
        applied = await sink.apply(effect())
    assert applied.ref == "T-1"


async def test_a_failure_in_the_charset_it_names_is_no_ticket_made() -> None:
    """A 200 whose windows-1252 JSON says `ok: false` is a failure (retried under its key),
    not a create done with no ticket behind it."""
    body = '{"ok": false, "error": "quota dépassé"}'.encode("windows-1252")
    headers = {"Content-Type": "application/json; charset=windows-1252"}
    async with hostile(answer(200, headers, body)) as server, backend_sink(server.url) as sink:
        with pytest.raises(SinkUnavailableError, match="says it failed"):
            await sink.apply(effect())
