"""The status page's login as an operator pastes the token at 3 a.m., on the daemon's endpoint
server in process over loopback against a SQLite store."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from test_operator_api import TOKEN, serving
from test_store import LEASE, POLICY
from triage.incidents.sqlite import SQLiteStore
from triage.ops.api import SESSION_COOKIE, SESSION_S, Auth


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "t.db"), POLICY, LEASE, POLICY.reopen_window)
    await s.open()
    yield s
    await s.aclose()


@pytest.mark.parametrize("pasted", [f"{TOKEN} ", f" {TOKEN}\t", f"{TOKEN}\r\n"])
async def test_a_token_pasted_with_whitespace_around_it_logs_in(
    store: SQLiteStore, pasted: str
) -> None:
    """The right token with spaces, a tab or a line end around it (a paste) logs in, as the
    API's bearer header takes it; a token has no whitespace, so nothing else is let in."""
    async with serving(store) as client:
        form = await client.get("/")
        csrf = re.search(r'name=csrf value="([^"]+)"', form.text)
        assert csrf is not None
        answer = await client.post("/login", data={"token": pasted, "csrf": csrf.group(1)})
        wrong = await client.post("/login", data={"token": f"{TOKEN[:-1]} ", "csrf": csrf.group(1)})
    assert answer.status_code == 303, answer.text
    assert "triage_session=" in answer.headers["set-cookie"]
    assert wrong.status_code == 401


async def test_a_session_that_ended_is_said_on_the_login_form(store: SQLiteStore) -> None:
    """A session cookie past its 12 hours (or signed with an old token) gets the login form
    saying the session ended; a browser with no session gets the bare form."""
    hours_ago = Auth(TOKEN, wall_clock=lambda: time.time() - SESSION_S - 60).session()
    old_token = Auth("an-older-token-" + "y" * 24).session()
    async with serving(store) as client:
        fresh = await client.get("/")
        answers = [
            await client.get("/", headers={"Cookie": f"{SESSION_COOKIE}={value}"})
            for value in (hours_ago, old_token)
        ]
    assert "session ended" not in fresh.text and "type=password" in fresh.text
    for answer in answers:
        assert answer.status_code == 200 and "type=password" in answer.text
        assert "Your session ended" in answer.text
