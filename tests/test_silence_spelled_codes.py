"""A silence's `=`/`!=` matcher copied as triage shows a value spelled by its codes (a letter
drawn like a Latin one inside a Latin word, `p<U+0430>yments` in a silence list, `p\\u0430yments`
on a page or in the terminal) holds for the value that was shown so, and is shown back the
same way; the ASCII word it looks like still matches nothing."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from factories import alert
from test_operator_api import NOW
from test_store import LEASE, POLICY
from triage.cli import main
from triage.incidents.sqlite import SQLiteStore
from triage.incidents.store import Routing
from triage.models import Priority, Ticket

#: A team written with a Cyrillic a (U+0430) inside a Latin word.
LOOK_ALIKE = "p\u0430yments"


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An operator's shell pointed at a store with one open incident of the look-alike team."""
    path = tmp_path / "triage.db"

    async def seed() -> None:
        store = SQLiteStore(str(path), POLICY, LEASE, POLICY.reopen_window * 24)
        await store.open()
        begun = await store.begin(alert("db-disk"), "m1", NOW)
        assert begun.after is not None
        ticket = Ticket(title="db disk", priority=Priority.HIGH, description="d")
        await store.save_ticket(
            begun.after.fingerprint, "m1", ticket, Routing("default", LOOK_ALIKE, {})
        )
        await store.confirm(begun.after.fingerprint, "m1", "backend", "T-1", finish=True)
        await store.aclose()

    asyncio.run(seed())
    monkeypatch.setenv("TRIAGE_STORE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("TRIAGE_LOG_LEVEL", "warning")
    return str(path)


def _add(capsys: pytest.CaptureFixture[str], matcher: str) -> tuple[list[str], str]:
    """The matchers `silence add --match matcher` prints, and its stderr."""
    code = main(["silence", "add", "--for", "1h", "--comment", "c", "--match", matcher])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)["matchers"], err


@pytest.mark.parametrize("typed", ["team=p<U+0430>yments", "team=p\\u0430yments"])
def test_a_matcher_copied_as_shown_holds_for_the_value_shown(
    store_url: str, capsys: pytest.CaptureFixture[str], typed: str
) -> None:
    """`team=p<U+0430>yments` (as a silence list writes it) and `team=p\\u0430yments` (as the
    page writes it) quiet the incident of that team: no "matches none" warning, and the
    matcher is shown back as the list writes it."""
    matchers, err = _add(capsys, typed)
    assert "matches none" not in err
    assert matchers == ["team=p<U+0430>yments"]


def test_the_ascii_word_it_looks_like_still_matches_nothing(
    store_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`team=payments` in ASCII letters does not quiet the look-alike team: it is said."""
    matchers, err = _add(capsys, "team=payments")
    assert matchers == ["team=payments"]
    assert "matches none of the 1 open incidents" in err


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("team=a\\ud800b", "team=a\\ud800b"),  # half a pair: no character, kept as typed
        ("team=<U+110000>", "team=<U+110000>"),  # past Unicode's last code point
        ("team=x<U+41", "team=x<U+41"),  # not closed
        ("team=a\\\\u0430b", "team=a\\\\u0430b"),  # after a backslash: the alert's own text
        ("team=pay\\u001bments", "team=pay\\u001bments"),  # a control: as an alert spells it
    ],
)
def test_a_spelling_that_names_no_character_is_kept_as_typed(
    store_url: str, capsys: pytest.CaptureFixture[str], typed: str, kept: str
) -> None:
    """A code that is no character (half a surrogate pair, past U+10FFFF), a spelling left
    open, one after a backslash (how triage writes an alert's own `\\u0430`) and a `\\u`
    spelling of a control (an alert's own text may hold one) are the text typed."""
    matchers, _ = _add(capsys, typed)
    assert matchers == [kept]
