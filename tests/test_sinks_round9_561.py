"""Round 9 of the sinks' answers under faults (helper 561), each from a loopback server on
127.0.0.1: a backend, Slack or GitHub that writes its JSON in the charset its Content-Type
names."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr

from hostile_server import answer, hostile
from test_backend_hostile_answers import backend_sink, effect
from test_slack_sink import effect as slack_effect
from test_slack_sink import open_sink
from triage.errors import SinkRejectedError, SinkThrottledError, SinkUnavailableError
from triage.settings import Settings
from triage.sinks.github.api import GitHubApi


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


async def test_a_slack_refusal_in_the_charset_it_names_is_a_refusal() -> None:
    """A 200 whose ISO-8859-1 JSON says `ok: false` with `invalid_blocks` is Slack's refusal
    (the post is sent again as plain text), not a post the channel never got."""
    body = '{"ok": false, "error": "invalid_blocks", "detail": "bloc refusé"}'.encode("latin-1")
    refused = answer(200, {"Content-Type": "application/json; charset=iso-8859-1"}, body)
    posted = answer(200, {"Content-Type": "text/html"}, b"ok")
    async with hostile(refused, posted) as server:
        url = server.url + "/services/T0/B0/secret"
        async with open_sink(url) as sink:
            await sink.apply(slack_effect())
    assert len(server.requests) == 2
    assert b'"blocks"' in server.requests[0].body
    assert b'"blocks"' not in server.requests[1].body


async def test_a_github_answer_in_the_charset_it_names_is_read() -> None:
    """A 201 from GitHub (or a proxy in front of it) whose JSON is in the windows-1252 it
    names is the created issue, not a `bad_response` retried until the DLQ."""
    body = '{"number": 7, "title": "café"}'.encode("windows-1252")
    created = answer(201, {"Content-Type": "application/json; charset=windows-1252"}, body)
    async with hostile(created) as server:
        settings = Settings(
            github_api_url=server.url, github_repository="acme/x", github_token=SecretStr("t0k")
        )
        api = GitHubApi(settings)
        try:
            issue = await api.call("POST", "/repos/acme/x/issues", json={"title": "t"})
        finally:
            await api.aclose()
    assert issue == {"number": 7, "title": "café"}


@pytest.mark.parametrize(
    "body",
    [
        b'\xef\xbb\xbf{"ok": false, "error": "channel_is_archived"}',
        '{"ok": false, "error": "channel_is_archived"}'.encode("utf-16"),
    ],
    ids=["utf-8 bom", "utf-16 bom"],
)
async def test_a_slack_refusal_after_a_byte_order_mark_is_a_refusal(body: bytes) -> None:
    """A 200 whose JSON `ok: false` follows a byte order mark (a gateway's UTF-8 with BOM, or
    UTF-16) is Slack's refusal, skipped with its word, not counted as a post the channel got."""
    reply = answer(200, {"Content-Type": "application/json"}, body)
    async with hostile(reply) as server:
        url = server.url + "/services/T0/B0/secret"
        async with open_sink(url) as sink:
            applied = await sink.apply(slack_effect())
    assert applied.skipped == "slack refused: channel_is_archived"


async def test_a_backend_error_code_after_a_byte_order_mark_is_named() -> None:
    """A backend's 429 whose JSON error follows a UTF-8 byte order mark names its error code
    in the error (the one line that says why), not "no error code"."""
    body = b'\xef\xbb\xbf{"error": "quota_exceeded"}'
    reply = answer(429, {"Content-Type": "application/json"}, body)
    async with hostile(reply) as server, backend_sink(server.url) as sink:
        with pytest.raises(SinkThrottledError, match="quota_exceeded"):
            await sink.apply(effect())


async def test_a_github_error_message_after_a_byte_order_mark_is_named() -> None:
    """GitHub's (or its proxy's) 422 whose JSON follows a UTF-8 byte order mark names its
    message in the refusal, not "no error message"."""
    body = b'\xef\xbb\xbf{"message": "Validation Failed"}'
    reply = answer(422, {"Content-Type": "application/json"}, body)
    async with hostile(reply) as server:
        settings = Settings(
            github_api_url=server.url, github_repository="acme/x", github_token=SecretStr("t0k")
        )
        api = GitHubApi(settings)
        try:
            with pytest.raises(SinkRejectedError, match="Validation Failed"):
                await api.call("POST", "/repos/acme/x/issues", json={"title": "t"})
        finally:
            await api.aclose()


async def test_a_create_answer_in_utf16_that_breaks_off_with_no_length_is_retried() -> None:
    """An HTTP/1.0 201 (no length: it ends where the connection closes) whose UTF-16 JSON
    breaks off is a broken answer, retried under its key, as its UTF-8 form is; not a ticket
    named by the idempotency key the backend never gave it."""
    body = '{"id": "T-1'.encode("utf-16")

    async def cut(writer: asyncio.StreamWriter) -> None:
        head = b"HTTP/1.0 201 Created\r\nContent-Type: application/json\r\n\r\n"
        writer.write(head + body)
        await writer.drain()

    async with hostile(cut) as server, backend_sink(server.url) as sink:
        with pytest.raises(SinkUnavailableError, match="breaks off"):
            await sink.apply(effect())
