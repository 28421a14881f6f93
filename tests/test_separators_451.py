"""Helper 451: separators a reader sees as a gap keep one once cleaned. A vertical tab or form
feed between lines becomes a line break, and a zero-width character between two words (U+200B,
U+2060, U+FEFF, U+180E; U+200C/U+200D between letters of a script that needs no joiner) a
space, so "clear on its own" is still three words for the summariser's claims and for search.
A zero-width character inside a word (`pass\\u200bword`, a key or a URL split by one) is still
dropped, so the redactor and the grounding read the word whole. And the operator API's
incident path is percent-decoded once (`/api/v1/incidents/e7f4%20`), as the CLI reads it."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from test_operator_api import BEARER, _seed, serving
from test_store import store as store  # the suite's SQLite and DynamoDB stores
from triage.incidents import Store
from triage.normalize.common import line, text
from triage.redact import Redactor
from triage.summarise import claims, grounding

KEY = "AKIA" + "IOSFODNN7EXAMPLE"


def _published(value: str) -> str:
    """`value` as a description is published: cleaned (`common.text`), then redacted."""
    return Redactor().text(text(value, "description") or "")


@pytest.mark.parametrize(
    "separator",
    [
        pytest.param("\r", id="lone-carriage-return"),
        pytest.param("\x0b", id="vertical-tab"),
        pytest.param("\x0c", id="form-feed"),
        pytest.param("\x1c", id="file-separator"),
        pytest.param("\x1d", id="group-separator"),
        pytest.param("\x1e", id="record-separator"),
        pytest.param("\x85", id="next-line"),
    ],
)
def test_a_line_break_control_between_lines_becomes_a_newline(separator: str) -> None:
    """A control that breaks a line (`str.splitlines` knows it) is a newline in a description,
    not nothing: "clear\\x0bon its own" reads "clear" / "on its own", not "clearon"."""
    assert text(f"clear{separator}on its own", "description") == "clear\non its own"
    assert line(f"clear{separator}on its own", "title") == "clear on its own"


def test_other_controls_still_leave_nothing_in_a_description() -> None:
    """A control that separates nothing (NUL, an escape's ESC) is still dropped whole."""
    assert text("disk\x00 full \x1b[31mred", "description") == "disk full [31mred"


@pytest.mark.parametrize(
    "hidden",
    [
        pytest.param("\u200b", id="zero-width-space"),
        pytest.param("\u2060", id="word-joiner"),
        pytest.param("\ufeff", id="zero-width-no-break-space"),
        pytest.param("\u180e", id="mongolian-vowel-separator"),
        pytest.param("\u200c", id="zero-width-non-joiner-in-latin"),
        pytest.param("\u200d", id="zero-width-joiner-in-latin"),
    ],
)
def test_a_zero_width_character_between_two_words_becomes_a_space(hidden: str) -> None:
    """Between two words of prose, the redactor writes a space where the invisible character
    was, where it used to glue "its" and "own" into "itsown"."""
    assert _published(f"it will clear on its{hidden}own") == "it will clear on its own"
    assert Redactor().text(f"disk{hidden}full on db-1") == "disk full on db-1"


@pytest.mark.parametrize(
    "word",
    [
        pytest.param("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", id="persian-zwnj"),
        pytest.param("\u0915\u094d\u200d\u0937", id="devanagari-zwj"),
        pytest.param("\U0001f468\u200d\U0001f469", id="emoji-zwj"),
    ],
)
def test_a_joiner_a_script_needs_splits_nothing(word: str) -> None:
    """A joiner inside a Persian or Devanagari word, or an emoji sequence, is part of the word:
    no space is written where it stood."""
    assert " " not in Redactor().text(f"x {word} y").strip("x y")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("pass\u200bword=hunter2xyz", "password=[REDACTED:password]", id="split-name"),
        pytest.param(
            "pass\u200bword hunter2xyz", "password [REDACTED:password]", id="split-name-prose"
        ),
        pytest.param(f"key {KEY[:4]}\u200b{KEY[4:]}", "key [REDACTED:aws-key]", id="split-key"),
        pytest.param(
            f"key {KEY[:10]}\u2060{KEY[10:]} on its\u200bown",
            "key [REDACTED:aws-key] on its own",
            id="split-key-beside-prose",
        ),
        pytest.param(
            "pass\u200bword hunter2xyz on its\u200bown",
            "password [REDACTED:password] on itsown",
            id="split-name-beside-prose",
        ),
        pytest.param(
            "see https://exa\u200bmple.com/run\u200bbook now",
            "see https://example.com/runbook now",
            id="split-url",
        ),
        pytest.param("restarted 3\u200btimes", "restarted 3times", id="digit-beside-word"),
        pytest.param("pay\u200bments", "payments", id="one-name-no-prose"),
    ],
)
def test_a_zero_width_character_inside_a_word_is_still_removed(given: str, expected: str) -> None:
    """An attacker's split (a secret's name, a key, a URL) still reads whole: the redactor
    still finds the secret, and a link stays one link; where a space would let a secret by,
    every invisible character in the text glues as before."""
    assert Redactor().text(given) == expected


def test_a_claim_split_by_a_separator_is_still_read_as_one() -> None:
    """The summariser's claims check reads "clear on its own" written with a vertical tab or a
    zero-width space in it as it reads it written plainly, and marks it for a firing alert."""
    shown = grounding.evidence({})
    for said in ("wait for it to clear\x0bon its own", "wait for it to clear on its\u200bown"):
        checked = claims.check(_published(said), shown, firing=True)
        assert checked.rejected == ("claim",), (said, checked.text)


def test_spacing_separators_settles() -> None:
    """What the redactor writes for a spaced separator is left as it is by a second pass."""
    redactor = Redactor()
    once = redactor.text("its\u200bown and pass\u200bword")
    assert redactor.text(once) == once


async def test_an_incident_path_is_percent_decoded_once(store: Store) -> None:
    """`/api/v1/incidents/{prefix}%20` and a prefix percent-encoded letter by letter (`%65%37…`,
    capitals as the CLI takes them) name the incident, as `triage incidents show` finds it;
    an escape of an escape (`%2520`) is decoded once only, so it names none."""
    fp = await _seed(store)
    async with serving(store) as client:
        for path in (
            f"{fp[:8]}%20",
            "".join(f"%{ord(ch):02X}" for ch in fp[:8].upper()),
            quote(f" {fp[:8]} ", safe=""),
        ):
            got = await client.get(f"/api/v1/incidents/{path}", headers=BEARER)
            assert got.status_code == 200, (path, got.text)
            assert got.json()["fingerprint"] == fp
        twice = await client.get(f"/api/v1/incidents/{fp[:8]}%2520", headers=BEARER)
        assert twice.status_code == 404, twice.text


async def test_an_incident_path_not_utf8_is_refused_naming_it(store: Store) -> None:
    """A segment whose escapes are not UTF-8 (`caf%E9`) is a 400 that names the segment and
    says what to send, not a 404 that reads as "no such incident"."""
    await _seed(store)
    async with serving(store) as client:
        got = await client.get("/api/v1/incidents/caf%E9", headers=BEARER)
        assert got.status_code == 400, got.text
        error = got.json()["error"]
        assert "caf" in error and "UTF-8" in error


async def test_a_silence_path_is_percent_decoded_once(store: Store) -> None:
    """DELETE `/api/v1/silences/{id}` with the id percent-encoded expires that silence, and
    one whose escapes are not UTF-8 is a 400, not "no such silence"."""
    async with serving(store) as client:
        body = {"matchers": ["team=payments"], "duration": "2h", "comment": "c", "author": "al"}
        made = (await client.post("/api/v1/silences", json=body, headers=BEARER)).json()
        encoded = "".join(f"%{ord(ch):02X}" for ch in made["id"])
        gone = await client.delete(f"/api/v1/silences/{encoded}", headers=BEARER)
        assert gone.status_code == 200 and not gone.json()["active"], gone.text
        bad = await client.delete("/api/v1/silences/caf%E9", headers=BEARER)
        assert bad.status_code == 400 and "UTF-8" in bad.json()["error"], bad.text
