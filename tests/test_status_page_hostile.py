"""Hostile text on the operator's status page and in the JSON API, served in process on a
loopback port against a SQLite store: what the page shows is escaped for HTML and holds only
visible characters, alert text cannot reorder the page around it, the page is never cached or
sniffed, and the API answers JSON every parser takes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from factories import alert, ends_after
from test_operator_hostile import BEARER, NOW, client, serving
from triage.incidents.lifecycle import Policy
from triage.incidents.silences import Matcher, Silence
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Routing
from triage.models import Priority, Ticket

#: Reorders what follows it (an override and an isolate), hides text (zero-width, tag
#: letters), acts on a terminal or a parser (ESC, NUL, a carriage return), and is no character.
HOSTILE = "db\u202e down\u2066 \u200bnow\U000e0041\U000e0042 \x1b[2J\x00\r \ud800 end"
#: What an incident can hold of it: the SQLite store refuses a lone surrogate (the DynamoDB
#: store, an older release or another writer may not; a silence's comment holds one here).
STORED = HOSTILE.replace("\ud800", "")
#: Right-to-left words: shown as they are, isolated from what stands beside them.
ARABIC = "\u0642\u0627\u0639\u062f\u0629 \u0627\u0644\u0628\u064a\u0627\u0646\u0627\u062a"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    opened = SQLiteStore(str(tmp_path / "t.db"), Policy(), timedelta(minutes=2), timedelta(days=1))
    await opened.open()
    yield opened
    await opened.aclose()


async def _seed(store: SQLiteStore) -> str:
    """An open incident whose title, team and ticket id are hostile, and a silence whose
    comment is, with a lone surrogate (stored by an older release, or another writer)."""
    source = alert("hostile").model_copy(
        update={"title": f"{STORED} {ARABIC}", "team": f"ops{STORED}"}
    )
    opened = await store.begin(source, "m", NOW - timedelta(minutes=5))
    assert opened.after is not None
    fingerprint = opened.after.fingerprint
    ticket = Ticket(title="t", priority=Priority.CRITICAL, description="d")
    await store.save_ticket(fingerprint, "m", ticket, Routing("default", "ops", {}))
    await store.confirm(fingerprint, "m", "backend", f"T-1{STORED}", finish=True)
    silence = Silence.new([Matcher.parse("team=x")], NOW, ends_after(NOW, 300), "c", "a")
    fields = {name: getattr(silence, name) for name in Silence.__slots__}
    await store.add_silence(Silence(**{**fields, "comment": f"maint {HOSTILE}"}), NOW)
    return fingerprint


def _unshowable(text: str) -> list[str]:
    """The characters of `text` that no page should show: controls (but "\\n"), format
    characters that reorder or hide text, and lone surrogates."""
    return [
        hex(ord(ch))
        for ch in text
        if (ch != "\n" and (unicodedata.category(ch) in ("Cc", "Cs") or ch in "\u202e\u2066\u200b"))
        or 0xE0000 <= ord(ch) <= 0xE007F
    ]


async def test_the_page_shows_only_visible_characters(store: SQLiteStore) -> None:
    """Bidi controls, zero-width and tag characters, controls and lone surrogates in a title,
    a team, a ticket id and a silence's comment are not on the page (the surrogate is U+FFFD),
    and the words around them are."""
    await _seed(store)
    async with serving(store) as server, client(server) as http:
        page = await http.get("/", headers=BEARER)
    assert page.status_code == 200
    html = page.content.decode("utf-8")
    assert _unshowable(html) == []
    assert "db down now" in html
    assert "[2J" in html and "\ufffd end" in html and "maint db down" in html


async def test_alert_text_is_isolated_from_the_page_around_it(store: SQLiteStore) -> None:
    """Every text from an alert or a silence stands in an element of its own direction
    (`dir=auto`, isolated as a <bdi> is): right-to-left words (or a direction mark) cannot
    reorder the flags, facts and numbers beside them."""
    await _seed(store)
    async with serving(store) as server, client(server) as http:
        html = (await http.get("/", headers=BEARER)).text
    assert re.search(rf"<span dir=auto>[^<]*{ARABIC}[^<]*</span>", html), html
    assert re.search(r"<span class=tag dir=auto>ops[^<]*</span>", html)  # a team: a tag
    assert re.search(r"<td><span dir=auto>maint [^<]*</span></td>", html)


async def test_the_page_is_not_cached_nor_sniffed(store: SQLiteStore) -> None:
    """The page (and the login form) says `Cache-Control: no-store` (it lists incidents and
    silences: no shared proxy or browser history keeps a copy) and `nosniff`, beside a
    Content-Security-Policy that allows no script, no image and no other page's frame."""
    async with serving(store) as server, client(server) as http:
        answers = [await http.get("/", headers=BEARER), await http.get("/")]
    for answer in answers:
        headers = answer.headers
        assert headers["cache-control"] == "no-store"
        assert headers["x-content-type-options"] == "nosniff"
        policy = headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert "frame-ancestors 'none'" in policy


async def test_the_api_answers_json_every_parser_takes(store: SQLiteStore) -> None:
    """A lone surrogate stored in a silence's comment (or any text) is U+FFFD in the API's
    answers, not a `\\ud800` escape, which strict JSON parsers (Go's, Rust's) refuse;
    every other character is answered as stored."""
    fingerprint = await _seed(store)
    async with serving(store) as server, client(server) as http:
        answers = [
            await http.get("/api/v1/incidents", headers=BEARER),
            await http.get(f"/api/v1/incidents/{fingerprint}", headers=BEARER),
            await http.get("/api/v1/silences", headers=BEARER),
        ]
    for answer in answers:
        assert answer.status_code == 200
        assert not re.search(r"\\ud[89a-f][0-9a-f]{2}", answer.text, re.IGNORECASE), answer.text
        assert answer.headers["x-content-type-options"] == "nosniff"
    [silence] = answers[2].json()["silences"]
    assert silence["comment"].endswith("\ufffd end")
    assert "\x1b[2J" in answers[0].json()["incidents"][0]["title"]  # as stored
