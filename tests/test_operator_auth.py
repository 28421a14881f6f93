"""Credentials an operator or a client sends where they do not belong, on the daemon's endpoint
server (SQLite store, loopback port): a token in a query string opens nothing and is written
to no log line, even when the request line around it is malformed; a login form posted after
its CSRF cookie expired says so instead of calling a right token wrong."""

from __future__ import annotations

import asyncio

import pytest
import structlog

from test_operator_hostile import TOKEN, _raw, client, serving
from test_operator_hostile import store as store  # a SQLite store on disk
from triage.incidents.sqlite import SQLiteStore


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET /api/v1/incidents?token=%s HTTP/1.1",  # well formed
        b"GET /api/v1/incidents?token=%s HTTP/1.1 x",  # a stray word: refused as bad_request
        b"GET /api/v1/incidents?token=%s HTTP/2.0",  # a version we do not speak
        b"GET /?a=1&token=%s&b=\xff HTTP/1.1",  # a byte no target may hold
    ],
)
async def test_a_token_in_a_query_string_opens_nothing_and_is_not_logged(
    store: SQLiteStore, request_line: bytes
) -> None:
    """A token in the URL is refused (401 or 400) and no log line holds any part of it."""
    request = request_line.replace(b"%s", TOKEN.encode()) + b"\r\nHost: x\r\n\r\n"
    async with serving(store) as server:
        with structlog.testing.capture_logs() as logs:
            answer = await asyncio.to_thread(_raw, server.port, request)
    assert answer.split(b" ")[1] in (b"400", b"401", b"200", b"505"), answer[:60]
    assert b"triage status" not in answer and b'"incidents"' not in answer
    logged = repr(logs)
    assert TOKEN[:12] not in logged and TOKEN[-12:] not in logged, logged


async def test_a_login_whose_form_expired_does_not_call_the_token_wrong(store: SQLiteStore) -> None:
    """The right token posted without the form's CSRF cookie (it lasts an hour) is refused as
    an expired form; a wrong token with a fresh form is refused as a wrong token."""
    async with serving(store) as server, client(server) as http:
        form = await http.get("/")
        csrf = form.cookies["triage_csrf"]
        http.cookies.clear()  # the browser dropped the form's cookie: an hour went by
        stale = await http.post("/login", data={"csrf": csrf, "token": TOKEN})
        http.cookies.set("triage_csrf", csrf)
        wrong = await http.post("/login", data={"csrf": csrf, "token": "w" * len(TOKEN)})
    assert stale.status_code == wrong.status_code == 401
    assert "form expired" in stale.text and "Wrong token" not in stale.text
    assert "Wrong token" in wrong.text
