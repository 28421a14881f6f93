"""Characters that draw nothing (`triage.unseen`): one list, Unicode's default-ignorable code
points and the blank glyphs, asked by the normaliser, the redactor, `display.visible` and the
terminal alike, so `db⠀down` (a blank Braille cell) passes for `db down` on no surface, while a
Braille drawing keeps its blank cells."""

from __future__ import annotations

import json
from typing import Any

import pytest
import regex

from ingest_harness import loopback_client
from test_backend_sink import ROUTES
from test_backend_sink import open_sink as open_backend
from test_escape_every_surface import _seed, effect
from test_operator_hostile import BEARER, serving
from test_status_page_hostile import store
from triage.demo.ticketd import TicketServer
from triage.display import visible, visible_json
from triage.incidents.sqlite import SQLiteStore
from triage.normalize.common import showing
from triage.redact import Redactor, dropped
from triage.sinks.github.text import issue_body, issue_title
from triage.sinks.slack import open_message, plain_message
from triage.unseen import draws_nothing, has_unseen, unseen_at, without_unseen
from triage.view import json_line, terminal_line

__all__ = ["store"]  # the status page's fixture

#: Characters that draw nothing where they stand between two letters.
BLANKS = {
    "braille": "\u2800",
    "null-notehead": "\U0001d159",
    "hangul-filler": "\u3164",
    "halfwidth-filler": "\uffa0",
    "choseong-filler": "\u115f",
    "grapheme-joiner": "\u034f",
    "khmer-inherent": "\u17b4",
    "mongolian-fvs": "\u180b",
}
blanks = pytest.mark.parametrize("blank", list(BLANKS.values()), ids=list(BLANKS))
#: Braille sparkline: the blank cell between dots is part of the drawing.
CHART = "cpu \u28c0\u28e4\u2800\u2800\u28f6\u28ff"


def _default_ignorable() -> list[str]:
    """Every code point Unicode says is Default_Ignorable_Code_Point (the regex module's
    tables, a second source besides ours)."""
    prop = regex.compile(r"\p{Default_Ignorable_Code_Point}")
    return [chr(n) for n in range(0x110000) if prop.match(chr(n))]


def test_every_default_ignorable_code_point_draws_nothing() -> None:
    """The list is Unicode's: each Default_Ignorable_Code_Point draws nothing, so a new one
    missing from `DEFAULT_IGNORABLE` fails here."""
    missing = [hex(ord(ch)) for ch in _default_ignorable() if not draws_nothing(ch)]
    assert missing == []


@blanks
def test_a_blank_draws_nothing_and_a_letter_or_space_does(blank: str) -> None:
    """Each blank draws nothing; a letter, a Braille pattern with dots and a space draw (or
    are) something."""
    assert draws_nothing(blank)
    assert not any(draws_nothing(ch) for ch in "a\u28ff \u00a0\u3000")


def test_a_blank_braille_cell_of_a_drawing_is_kept() -> None:
    """A run of blank Braille cells touching a pattern with dots is a drawing's: kept by
    `without_unseen`, found by neither `has_unseen` nor `unseen_at`; one between letters is
    not."""
    assert not has_unseen(CHART) and without_unseen(CHART) == CHART
    assert unseen_at("db\u2800\u2800down") == {2, 3}
    assert without_unseen(f"{CHART} db\u2800down") == f"{CHART} dbdown"


def test_a_title_made_only_of_blanks_shows_nothing() -> None:
    """`normalize.common.showing` asks the same list: a title of a null notehead or blank
    Braille cells alone is none."""
    assert showing("\U0001d159") is None
    assert showing("\u2800 \U0001d159\u3164") is None
    assert showing("\u2801") == "\u2801"


@blanks
def test_display_visible_drops_a_blank_between_words(blank: str) -> None:
    """Slack, the status page, the backend and GitHub's body show `visible` text: a blank
    between letters is dropped there (`dbdown`), never shown as a space (`db down`)."""
    assert visible(f"db{blank}down") == "dbdown"
    assert visible(f"db{blank}down", one_line=True) == "dbdown"
    assert visible_json({"t": f"db{blank}down"}) == {"t": "dbdown"}


def test_display_visible_keeps_a_braille_drawing_and_emoji() -> None:
    """A Braille drawing keeps its blank cells, and an emoji its colour selector and joiner."""
    assert visible(CHART) == CHART
    assert (
        visible("\u2764\ufe0f \U0001f469\u200d\U0001f4bb")
        == "\u2764\ufe0f \U0001f469\u200d\U0001f4bb"
    )


@blanks
def test_the_redactor_drops_a_blank_and_redacts_a_token_it_splits(blank: str) -> None:
    """The redactor drops every blank (`redact.dropped`), so a token split by one is still
    recognised, and no surface that drops it glues the halves after redaction; a second pass
    changes nothing."""
    token = "ghp_" + "A1b2C3d4E5f6G7h8I9" + blank + "j0K1l2M3n4O5p6Q7R8"
    redactor = Redactor()
    out = redactor.text(f"token {token} db{blank}down")
    assert "A1b2C3d4E5f6G7h8I9" not in out and "j0K1l2M3n4O5p6Q7R8" not in out, out
    assert out.endswith("dbdown") and blank not in out, out
    assert redactor.text(out) == out
    assert dropped(blank)


def test_the_redactor_drops_blank_braille_written_as_a_json_escape() -> None:
    """In JSON text, the blank Braille cell and the null notehead escaped (`\\u2800`, a
    surrogate pair for U+1D159) are dropped as the raw characters are."""
    redactor = Redactor()
    assert redactor.text('{"t": "db\\u2800down"}') == '{"t": "dbdown"}'
    assert redactor.text('{"t": "db\\ud834\\udd59down"}') == '{"t": "dbdown"}'


def test_the_redactor_keeps_a_braille_drawing() -> None:
    """A Braille sparkline in an alert is not over-redacted: its blank cells stay."""
    assert Redactor().text(CHART) == CHART


@blanks
def test_the_terminal_writes_a_blank_as_its_code(blank: str) -> None:
    """The terminal writes a blank between letters as `\\uXXXX` (a surrogate pair beyond the
    BMP, as JSON does), so `db⠀down` reads as neither `db down` nor `dbdown`."""
    shown = terminal_line(f"db{blank}down")
    assert blank not in shown and shown.startswith("db\\u") and shown.endswith("down")
    assert json.loads(json_line(f"db{blank}down")) == f"db{blank}down"


def test_the_terminal_shows_a_braille_drawing() -> None:
    """A Braille drawing's blank cells are drawn in the terminal as they are."""
    assert terminal_line(CHART) == CHART


def _texts(value: Any) -> list[str]:
    """Every string in a JSON-like value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


@blanks
def test_slack_shows_no_blank(blank: str) -> None:
    """Slack's message and plain text show a title, description and steps written with a
    blank (the model's words, not redacted away) without it: `dbdown`, never `db down`."""
    posted = [open_message(effect(f"db{blank}down")), plain_message(effect(f"db{blank}down"))]
    texts = [text for message in posted for text in _texts(message)]
    assert not any(blank in text or "db down" in text for text in texts), texts
    assert any("dbdown" in text for text in texts)


@blanks
async def test_the_backend_is_sent_no_blank(
    backend: TicketServer, monkeypatch: pytest.MonkeyPatch, blank: str
) -> None:
    """The ticket backend's JSON holds no blank: a ticket system shows `dbdown`."""
    monkeypatch.setenv("BACKEND_TOKEN", backend.token)
    async with open_backend(backend.url, **ROUTES) as sink:
        assert (await sink.apply(effect(f"db{blank}down"))).ref is not None
    [opened] = backend.tickets
    body = json.dumps(opened["body"], ensure_ascii=False)
    assert blank not in body and "db down" not in body and "dbdown" in body


def test_the_redactor_drops_every_escaped_default_ignorable_character() -> None:
    """JSON text escaping any character that draws nothing (`ensure_ascii` writes each as
    `\\uXXXX`, beyond the BMP as a surrogate pair) loses it, as raw text does: the escaped
    reader asks the same list."""
    redactor = Redactor()
    kept = [
        hex(ord(ch))
        for ch in [*_default_ignorable(), "\U0001d159", "\u2800"]
        if redactor.text(json.dumps(f"ab{ch}cd")) != '"abcd"'
    ]
    assert kept == []


def test_an_escaped_control_or_letter_is_kept_by_the_redactor() -> None:
    """Escapes of what draws something (a control, a Cyrillic letter, a Braille pattern with
    dots and a drawing's blank cell beside it) stay escapes."""
    text = '"a\\u0000b \\u0434 \\u28ff\\u2800\\u28ff"'
    assert Redactor().text(text) == text


@blanks
def test_a_github_issue_shows_no_blank(blank: str) -> None:
    """A GitHub issue's title and body (the model's words among them) hold no blank."""
    opened = effect(f"db{blank}down")
    for text in (issue_title(opened), issue_body(opened)):
        assert blank not in text and "db down" not in text, text
        assert "dbdown" in text


@blanks
async def test_the_status_page_shows_no_blank(store: SQLiteStore, blank: str) -> None:
    """The status page and an incident's page show an incident whose title, team and ticket
    hold a blank without it."""
    fingerprint = await _seed(store, f"db{blank}down")
    async with serving(store) as server, loopback_client(server.port) as http:
        pages = [
            await http.get("/", headers=BEARER),
            await http.get(f"/incidents/{fingerprint}", headers=BEARER),
        ]
    for page in pages:
        assert page.status_code == 200
        assert blank not in page.text and "db down" not in page.text
        assert "dbdown" in page.text
