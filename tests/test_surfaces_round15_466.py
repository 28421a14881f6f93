"""Round 15 (helper 466): operator-surface leftovers (a cut escape in `triage health`, a regex
silence's look-alike letter, a lowercase `z` in `?since=`) and the DLQ commands against moto's
server mode."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hostile_server import answer, hostile
from test_operator_filters import seed
from triage.app import open_configured_store
from triage.aws import Aws
from triage.cli import main
from triage.incidents import Store
from triage.ops.operator import parse_moment, parse_until
from triage.settings import load_settings
from triage.view import terminal_cut, terminal_text

#: The tail of an escape cut short: a backslash and `u` with fewer than four hex digits.
_HALF_ESCAPE = re.compile(r"(?<!\\)\\u[0-9a-fA-F]{0,3}$")


async def test_health_cuts_its_quoted_answer_between_whole_escapes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage health` quoting a long answer cuts it between escapes: an ESC whose `\\u001b`
    straddles the cut is left out whole, not shown as `\\u00` (which reads as another code)."""
    body = b"x" * 197 + b"\x1b" + b"y" * 50
    async with hostile(answer(200, {"Content-Type": "text/plain"}, body)) as server:
        monkeypatch.setenv("TRIAGE_HTTP_PORT", server.url.rsplit(":", 1)[1].strip("/"))
        await asyncio.to_thread(main, ["health"])
    (line,) = capsys.readouterr().err.splitlines()
    shown = line.split("not triage's answer: ", 1)[1]
    assert shown == "x" * 197 + "…", shown


@pytest.mark.parametrize("chars", range(1, 30))
def test_terminal_cut_never_ends_in_part_of_an_escape(chars: int) -> None:
    """`view.terminal_cut` at any width keeps each escape whole (`\\u001b`, a surrogate pair's
    two, a doubled backslash) and stays within `chars`, marking a cut with "…"."""
    text = "a\x1bb\\u0041c\U0001d5c9\u202ed\\\\e" * 2
    cut = terminal_cut(text, chars)
    assert len(cut) <= chars, cut
    assert cut.endswith("…"), cut
    kept = cut.removesuffix("…")
    assert not _HALF_ESCAPE.search(kept), cut
    assert terminal_text(text).startswith(kept), cut


# --- a silence's look-alike letter ------------------------------------------------------------


@pytest.fixture
async def seeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Store]:
    """A SQLite store of eight open incidents (teams payments and search), the one
    TRIAGE_STORE_URL names."""
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{tmp_path / 'triage.db'}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    settings = load_settings()
    aws = Aws(settings)
    opened = await open_configured_store(settings, aws)
    await seed(opened, 8)
    yield opened
    await opened.aclose()
    await aws.aclose()


@pytest.mark.parametrize("matcher", ["team=p\u0430yments", "team=~billing|p\u0430yments"])
async def test_a_silence_matching_nothing_for_a_look_alike_letter_names_it(
    seeded: Store, capsys: pytest.CaptureFixture[str], matcher: str
) -> None:
    """A silence that matches no open incident because a value or a pattern holds a Cyrillic
    a inside a Latin word is warned of that letter by its code and name, and of the value it
    would match written in Latin letters, not only that it matches none."""
    args = ["silence", "add", "--match", matcher, "--for", "1h", "--comment", "c", "--dry-run"]
    assert await asyncio.to_thread(main, args) == 0
    err = capsys.readouterr().err
    hints = [line for line in err.splitlines() if "U+0430" in line]
    assert hints, err
    assert "CYRILLIC SMALL LETTER A" in hints[0], hints
    assert "team=payments" in hints[0], hints


# --- an ISO time with a lowercase z ---------------------------------------------------------

#: RFC 3339 (5.6, its note) allows `t` and `z` in lower case.
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("typed", ["2026-12-06T10:00:00z", "2026-12-06t10:00z"])
def test_since_reads_an_iso_time_with_a_lowercase_z(typed: str) -> None:
    """`?since=`, the page's since and `--since` (all `parse_moment`) read a time ending in a
    lowercase `z` as UTC, as RFC 3339 allows, rather than refusing it."""
    assert parse_moment("since", typed, NOW) == datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


def test_a_silences_until_reads_an_iso_time_with_a_lowercase_z() -> None:
    """A silence's `--until` / `until` ending in a lowercase `z` is read as UTC too."""
    end = parse_until("2026-12-07t06:00z", NOW)
    assert end == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)


async def test_incidents_list_since_takes_a_lowercase_z(
    seeded: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    """`triage incidents list --since 2000-01-01T00:00:00z` lists the open incidents, not
    an error."""
    args = ["incidents", "list", "--since", "2000-01-01T00:00:00z"]
    assert await asyncio.to_thread(main, args) == 0, capsys.readouterr().err
    assert len(capsys.readouterr().out.splitlines()) == 8
