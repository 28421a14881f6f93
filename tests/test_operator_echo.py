"""The operator's API and command line never send back a secret an operator pasted: a refused
matcher, a refused query value and a silence's warnings quote what was typed redacted, as the
silence itself is shown (loopback HTTP on an in-memory store; the command line on SQLite)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest

from memory_store import MemoryStore
from test_operator_api import BEARER, serving
from test_operator_silence_warnings import store_url as store_url  # the seeded SQLite store
from triage.cli import main

KEY = "AKIAIOSFODNN7EXAMPLE"
#: Matchers that are refused, each quoting what was typed (an operator typo, a quoted value).
REFUSED = (f"session=={KEY}", f'env="{KEY}"', f"env!=~{KEY}")
#: Matchers that are made with a warning that quotes them (a label no incident has).
WARNED = (f"Env=~{KEY}", f"no_such_label={KEY}")


@pytest.fixture
async def api() -> AsyncIterator[httpx2.AsyncClient]:
    """The operator API over loopback HTTP on an empty in-memory store."""
    async with serving(MemoryStore()) as client:
        yield client


def _body(matcher: str) -> dict[str, object]:
    return {"matchers": ["team=payments", matcher], "duration": "1h", "comment": "c"}


async def test_a_refused_matcher_is_answered_without_the_secret_it_holds(
    api: httpx2.AsyncClient,
) -> None:
    """Each refusal is a 400 that still says what was wrong, with the pasted key redacted."""
    for matcher in REFUSED:
        refused = await api.post("/api/v1/silences", json=_body(matcher), headers=BEARER)
        assert refused.status_code == 400, (matcher, refused.text)
        assert KEY not in refused.text, (matcher, refused.text)
        assert refused.json()["error"], matcher


async def test_a_silences_warnings_quote_its_matchers_redacted(api: httpx2.AsyncClient) -> None:
    """The warnings of a made silence and of a dry run name the matcher as it is shown."""
    for matcher in WARNED:
        for path in ("/api/v1/silences?dry_run=1", "/api/v1/silences"):
            answer = await api.post(path, json=_body(matcher), headers=BEARER)
            assert answer.status_code in (200, 201), (matcher, answer.text)
            assert answer.json().get("warnings"), (matcher, path, answer.text)
            assert KEY not in answer.text, (matcher, path, answer.text)


async def test_a_refused_query_value_is_answered_without_the_secret(
    api: httpx2.AsyncClient,
) -> None:
    """A listing's refused parameter (`?limit=<key>`) is a 400 without the key."""
    for query in (f"limit={KEY}", f"offset={KEY}", f"state={KEY}"):
        refused = await api.get(f"/api/v1/incidents?{query}", headers=BEARER)
        assert refused.status_code == 400, (query, refused.text)
        assert KEY not in refused.text, (query, refused.text)


def test_the_command_line_quotes_a_refused_or_warned_matcher_redacted(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage silence add` refusals (exit 2) and warnings (exit 0) on stderr hold no key."""
    base = ["silence", "add", "--for", "1h", "--comment", "c", "--author", "op", "--match"]
    for matcher, code in [*((m, 2) for m in REFUSED), *((m, 0) for m in WARNED)]:
        for dry in ([], ["--dry-run"]):
            assert main([*base, matcher, *dry]) == code, matcher
            out, err = capsys.readouterr()
            assert err.strip(), matcher
            assert KEY not in out + err, (matcher, dry, err)
