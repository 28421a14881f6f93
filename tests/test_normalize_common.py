"""Shared normalising rules: priority words, timestamps, cutting and cleaning text, links."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Priority, identity_text
from triage.normalize import common, normalize_body
from triage.redact import Redactor
from triage.view import redact_alert


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("P0", Priority.CRITICAL),
        ("p1", Priority.HIGH),
        (" P2 ", Priority.MEDIUM),
        ("P3", Priority.LOW),
        ("p 1", Priority.HIGH),
        ("P-2", Priority.MEDIUM),
        (0, Priority.CRITICAL),
        (1, Priority.HIGH),
        (2.0, Priority.MEDIUM),
        ("3", Priority.LOW),
        ("CRITICAL", Priority.CRITICAL),
        ("crit", Priority.CRITICAL),
        ("Urgent", Priority.CRITICAL),
        ("  high\t", Priority.HIGH),
        ("Medium", Priority.MEDIUM),
        ("med", Priority.MEDIUM),
        ("moderate", Priority.MEDIUM),
        ("NORMAL", Priority.MEDIUM),
        ("low", Priority.LOW),
        ("Info", Priority.LOW),
        ("informational", Priority.LOW),
    ],
)
def test_priority_words_and_numbers(given: Any, expected: Priority) -> None:
    """P0..P3, 0..3 and the usual words map to a priority whatever their case or spacing."""
    assert common.priority(given) is expected


@pytest.mark.parametrize(
    "given",
    [None, True, False, "", "P9", "4", -1, 1.5, "sev9", "whenever", [1], {"p": 1}, "x" * 500],
)
def test_unknown_priority_is_none_never_an_error(given: Any) -> None:
    """Anything unrecognised (booleans, P9, lists, essays) is None, never an exception."""
    assert common.priority(given) is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2026-11-23T09:00:00Z", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        ("2026-11-23T09:00:00.000+0000", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        ("2026-11-23T11:00:00+02:00", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        ("2026-11-23T09:00:00.123456789Z", datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC)),
        ("2022-04-08T13:02:06.136489624+02:00", datetime(2022, 4, 8, 11, 2, 6, 136489, tzinfo=UTC)),
        ("2026-11-23 09:00:00", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        (1795424400, datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        (1795424400.5, datetime(2026, 11, 23, 9, 0, 0, 500000, tzinfo=UTC)),
        (1795424400000, datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        (1795424400000000, datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        ("1795424400", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        # Go's Time.String(), as Alertmanager's and Grafana's templates print {{ .StartsAt }}.
        ("2026-11-23 09:00:00 +0000 UTC", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        ("2026-11-23 10:00:00 +0100 CET", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        ("2026-11-23 05:30:00 -0330 -0330", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        (
            "2026-11-23 09:00:00.123456789 +0000 UTC m=+1.997288541",
            datetime(2026, 11, 23, 9, 0, 0, 123456, tzinfo=UTC),
        ),
        # What scripts write: a zone name after the time (Ruby, `date -u '+%F %T %Z'`) and
        # RFC 2822 / HTTP dates (`date -R`, JavaScript's toUTCString(), Python's email.utils).
        ("2026-11-23 09:00:00 UTC", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        ("2026-11-23T09:00:00.5 gmt", datetime(2026, 11, 23, 9, 0, 0, 500000, tzinfo=UTC)),
        ("Mon, 23 Nov 2026 09:00:00 GMT", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        ("Mon, 23 Nov 2026 10:00:00 +0100", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        ("23 Nov 2026 09:00:00 -0000", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        ("Mon Nov 23 09:00:00 UTC 2026", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
    ],
)
def test_timestamps_become_aware_utc(given: Any, expected: datetime) -> None:
    """ISO 8601 variants, Go's printed times and epoch s/ms/µs all become the same aware UTC
    instant."""
    parsed = common.timestamp(given)
    assert parsed == expected
    assert parsed is not None and parsed.utcoffset() is not None


@pytest.mark.parametrize(
    "given",
    [
        None,
        "",
        "0001-01-01T00:00:00Z",
        "0001-01-01 00:00:00 +0000 UTC",
        "2026-11-23 09:00:00 +0000 UTC m=garbage",
        "yesterday",
        True,
        -5,
        10**400,
        "9" * 70,
        [],
        {},
        "2026-13-45",
        "\u00b2",  # superscript two: str.isdigit() says yes, float() refuses it
        "1\u00b2",
        "\u09e9",  # Bengali three: float() would read it as 3 seconds after the epoch
        "\uff11\uff17\uff10\uff10\uff10\uff10\uff10\uff10\uff10\uff10",  # fullwidth digits
        "2026-11-23 11:00:00+02:00 UTC",  # two zones that disagree
        "Mon, 32 Nov 2026 09:00:00 GMT",
        "Mon, 23 Nov 2026 09:00:00 +9900",
        "May 5",
    ],
)
def test_unusable_timestamps_are_none(given: Any) -> None:
    """Go's zero time (Grafana's "not ended", in either form), garbage, digits of other
    scripts and out-of-range numbers give None."""
    assert common.timestamp(given) is None


def test_cut_never_orphans_a_combining_mark() -> None:
    """A cut that would separate e from its U+0301 accent drops the base letter with it."""
    text = "abcde\u0301fgh"
    assert common.cut(text, 5) == "abcd"
    assert common.cut(text, 6) == "abcde\u0301"
    assert common.cut("abc", 5) == "abc"


def test_cut_gives_up_backing_off_over_zalgo() -> None:
    """Endless combining marks cannot make a cut back off to nothing."""
    zalgo = "a" + "\u0301" * 1000
    assert 0 < len(common.cut(zalgo, 100)) <= 100


def test_cut_with_ellipsis_keeps_the_limit() -> None:
    """A cut title ends in "…" and is still at most the limit."""
    out = common.cut("x" * 300, common.TITLE_MAX, ellipsis=True)
    assert len(out) == common.TITLE_MAX and out.endswith("…")


def test_a_shown_cut_drops_the_word_it_would_split() -> None:
    """Titles, descriptions and label values are cut between words, and end in "…": what was
    kept of a cut word (here a 40-character secret) is dropped, so no secret's prefix is shown
    that the redactor could not recognise. One long word is still cut (no text would be left), and
    identities are cut exactly as before (their fingerprint must not change)."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    title = "Login failed for the deploy user " + "x" * 150 + " with key " + secret
    shown = common.title(title)
    assert shown.endswith(" with key…") and secret[:10] not in shown
    assert len(shown) <= common.TITLE_MAX
    assert common.title("a" * 300) == "a" * (common.TITLE_MAX - 1) + "…"
    label = common.line("y " * 120 + secret, "labels.k", common.LABEL_VALUE_MAX, shown=True)
    assert label is not None and secret[:10] not in label and label.endswith("y…")
    identity = common.ident("id " + "z" * 1100, "id")
    assert identity == identity_text("id " + "z" * 1100)
    view = redact_alert(normalize_body(json.dumps({"title": title})).alerts[0], Redactor())
    assert secret[:10] not in view.title


def test_title_is_one_clean_line() -> None:
    """Control and bidi characters go, newlines and runs of spaces become one space."""
    raw = "disk\u202e full\x07 on\n\n db-7\u2066 \u200f\t(\x9b prod)"
    assert common.title(raw) == "disk full on db-7 ( prod)"


def test_title_keeps_scripts_emoji_and_marks() -> None:
    """CJK, emoji with joiners and flags, RTL letters and combining marks survive in titles."""
    raw = "磁盘 👩\u200d💻 🇯🇵 שלום عربي cafe\u0301"
    assert common.title(raw) == raw


@pytest.mark.parametrize("given", [None, "", "   ", "\u202e\u200f", "\x00\x01"])
def test_empty_titles_are_invalid(given: Any) -> None:
    """A title that is empty once cleaned is a InvalidAlertError."""
    with pytest.raises(InvalidAlertError, match="missing or empty"):
        common.title(given)


def test_description_keeps_lines_and_marks_but_not_overrides() -> None:
    """Descriptions keep newlines, tabs and LRM/RLM marks; overrides and controls go."""
    assert common.text("a\r\nb\tc\u200f\u202ed\x00e", "d") == "a\nb\tc\u200fde"


@pytest.mark.parametrize(
    ("given", "expected"), [(404, "404"), (1.5, "1.5"), (True, "true"), (False, "false")]
)
def test_scalars_are_coerced_to_text(given: Any, expected: str) -> None:
    """Numbers and booleans where text belongs become text."""
    assert common.line(given, "f") == expected


@pytest.mark.parametrize("given", [[1], {"a": 1}])
def test_objects_where_text_belongs_are_invalid(given: Any) -> None:
    """An array or object where text belongs is a InvalidAlertError naming the field."""
    with pytest.raises(InvalidAlertError, match="team must be text"):
        common.line(given, "team")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://runbooks.example.com/x", "https://runbooks.example.com/x"),
        (" http://a.example/b ", "http://a.example/b"),
        ("javascript:alert(1)", None),
        ("?orgId=1", None),
        ("https://", None),
        ("https://a b", None),
        (42, None),
        ("https://" + "a" * 3000, None),
    ],
)
def test_only_absolute_http_links_are_kept(given: Any, expected: str | None) -> None:
    """Links must be absolute http(s) without spaces; anything else is dropped."""
    assert common.url(given, "link") == expected


def test_labels_are_capped_and_cut() -> None:
    """At most 64 labels, values cut to 256 and made one line."""
    labels = common.labels_from({f"k{i:03}": "v\n" + "x" * 300 for i in range(100)})
    assert len(labels) == common.LABELS_MAX
    assert all(len(v) == common.LABEL_VALUE_MAX and "\n" not in v for v in labels.values())


def test_string_map_refuses_nested_values() -> None:
    """Label sets are flat: a nested object as a label value is a InvalidAlertError."""
    with pytest.raises(InvalidAlertError, match="labels"):
        common.string_map({"a": {"b": 1}}, "labels")
    assert common.string_map({"n": 5, "b": False, "z": None}, "labels") == {
        "n": "5",
        "b": "false",
        "z": "",
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"title": "x", "status": True}, "status true is not firing or resolved"),
        ({"version": "4", "alerts": [{"labels": {"a": "b"}}]}, "status null is not firing"),
        ({"event_type": "threshold_alert", "rule_id": "r", "host": "h"}, "state null is not"),
    ],
)
def test_a_null_or_boolean_is_quoted_as_json_in_errors(body: dict[str, Any], expected: str) -> None:
    """An error or log line quotes a null or boolean as JSON writes it, not as the text 'None'."""
    with pytest.raises(InvalidAlertError) as caught:
        normalize_body(json.dumps(body))
    assert expected in str(caught.value) and "None" not in str(caught.value)
    assert (common.short(None), common.short(False), common.short("None")) == (
        "null",
        "false",
        "'None'",
    )


@pytest.mark.parametrize(
    ("given", "expected"),
    [({"a": 1}, None), (["x"], None), (None, None), (True, "true"), (" SEV\x00-2 ", "SEV -2")],
)
def test_a_display_only_word_passes_over_objects(given: Any, expected: str | None) -> None:
    """common.word reads a team or state as one line, and an object or array as absent."""
    assert common.word(given, "team") == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [({"a": [1, None]}, '{"a":[1,null]}'), ([True], "[true]"), ("x", "x"), (None, None)],
)
def test_display_only_text_reads_objects_as_json(given: Any, expected: str | None) -> None:
    """common.text and common.flat show an object or array as compact JSON, never a repr."""
    assert common.text(given, "description") == expected
    assert common.text_map({"k": given}) == {"k": expected or ""}


@pytest.mark.parametrize(
    ("value", "limit", "shown"),
    [
        ("a\u202e\x00b  c\u200f", common.FIELD_MAX, False),
        ("alpha beta gamma delta", 12, True),
        ("alpha beta gamma delta", 12, False),
        ("\x85\u2028 x", 5, False),
    ],
)
def test_a_remembered_line_is_cleaned_as_for_its_own_limit(
    value: str, limit: int, shown: bool
) -> None:
    """common.line's memo answers a text again exactly as a fresh cleaning would, per limit and
    cut (the same text under another limit is not answered from the first one's entry)."""
    fresh = common._line(value, "f", limit, shown, False)
    assert common.line(value, "f", limit, shown=shown) == fresh
    assert common.line(value, "f", limit, shown=shown) == fresh  # from the memo now
    assert common.line(value, "f", common.FIELD_MAX) == common._line(
        value, "f", common.FIELD_MAX, False, False
    )


def test_the_memo_of_cleaned_lines_stays_bounded() -> None:
    """A stream of distinct label values (a hostile sender's) never grows common.line's memo
    past its bound."""
    for i in range(common._LINES_MAX * 2 + 7):
        common.line(f"value-{i}", "label")
    assert 0 < len(common._LINES) <= common._LINES_MAX


@pytest.mark.parametrize(
    ("value", "limit"),
    [
        ("a\u202e\x00b\r\n  c\u200f\n", common.DESCRIPTION_MAX),
        ("alpha beta gamma delta", 12),
        ("\t\n ", 40),
    ],
)
def test_a_remembered_text_is_cleaned_as_for_its_own_limit(value: str, limit: int) -> None:
    """common.text's memo answers a text again exactly as a fresh cleaning would, per limit
    (the same text under another limit is not answered from the first one's entry)."""
    fresh = common._text(value, "f", limit)
    assert common.text(value, "f", limit) == fresh
    assert common.text(value, "f", limit) == fresh  # from the memo now
    assert common.text(value, "f", 5) == common._text(value, "f", 5)


def test_a_remembered_label_is_cleaned_as_its_own_key_and_value() -> None:
    """add_label's memo keeps each key and value apart: the same key with another value, a
    value that cleans to nothing (left out every time) and the label cap are as without it."""
    labels: dict[str, str] = {}
    for _ in range(2):  # the second round answers from the memo
        common.add_label(labels, "host", "db-1")
        common.add_label(labels, "zone", "a\x00 b")
        common.add_label(labels, "empty", " \u200f ")
    assert labels == {"host": "db-1", "zone": "a b"}
    common.add_label(labels, "host", "db-2")
    assert labels["host"] == "db-2"
    full = {f"k{i}": "v" for i in range(common.LABELS_MAX)}
    common.add_label(full, "host", "db-1")
    assert "host" not in full


def test_the_memos_of_cleaned_texts_and_labels_stay_bounded() -> None:
    """A stream of distinct descriptions and labels (a hostile sender's) never grows
    common.text's or add_label's memo past its bound."""
    for i in range(common._LINES_MAX * 2 + 7):
        common.text(f"text-{i}", "description")
        common.add_label({}, "k", f"value-{i}")
    assert 0 < len(common._TEXTS) <= common._LINES_MAX
    assert 0 < len(common._LABELS) <= common._LINES_MAX


def test_a_label_value_cut_inside_a_long_secret_shows_no_piece_of_it() -> None:
    """A label value cut at its limit inside a secret whose kept start is most of the value
    (an Azure SAS URL after a short word): the value ends in "…", so the redactor takes the
    random-looking piece before it, and nothing of the signature is shown."""
    sig = "LzmEKKlofpuBq0Xb3Yt9WcVnRm2sZ8aJdHfGkPx4Ue7" * 4 + "%3D"
    container = "backups-" + "c" * 72  # the signature starts a few characters before the cut
    url = (
        f"https://acct.blob.core.windows.net/{container}/b?sv=2022-11-02&se=2026-12-31&sr=b"
        f"&sp=r&sig={sig}"
    )
    label = common.line("a" * 81 + " " + url, "labels.k", common.LABEL_VALUE_MAX, shown=True)
    assert label is not None and label.endswith("…")
    shown = Redactor().text(label)
    assert "&sig=" in shown and not any(sig[i : i + 8] in shown for i in range(len(sig) - 8))


def test_a_shown_cut_just_after_a_word_keeps_that_word() -> None:
    """A whole-words cut that falls after a word's following space drops no word: only the
    word it would split goes, never the whole one before it."""
    assert common.cut("not an alert of any kind", 21, ellipsis=True, whole_words=True) == (
        "not an alert of any…"
    )
