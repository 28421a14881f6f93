"""The gateway's own tokens are blanked in what it queues however a body spells them: in a URL
percent-encoded (either hex case, `quote` with and without `safe`, encoded twice), in HTML
escaped (named, decimal, hex, without `;`, escaped twice), and in JSON escaped at any depth of
the strings the daemon reads as JSON (an object's JSON encoded again as a string, an SNS
Message, past a byte-order mark). Task 389; the attacks are in
tests/test_redteam_round8_gateway_faults.py."""

from __future__ import annotations

import html
import json
import urllib.parse
from collections.abc import Callable

import pytest

from triage.decode import decode_body, load_object
from triage.ingest.credentials import TOKEN_BLANK, without_tokens

#: A token as a password manager writes one: `&`, `<` and `>`, which every web writer escapes.
PUNCTUATED = "gen&token<0123456789>xyz"
#: A base64 token: `/`, `+` and `=`, which URL writers escape and a query reads `+` of as space.
BASE64 = "abc/def+ghi=jkl0123456"


def go_json(text: str) -> str:
    """`text` with `&`, `<` and `>` escaped as Go's encoding/json writes them."""
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def lower_hex(encoded: str) -> str:
    """Percent-encoded text with its hex digits lower-case, as Go's html/template writes them."""
    head, *escaped = encoded.split("%")
    return head + "".join(f"%{part[:2].lower()}{part[2:]}" for part in escaped)


def blanked_note(note: str, token: str) -> str | None:
    """The `note` an alert carrying `note` is queued with, as the daemon reads it; None when
    the body is queued as sent."""
    body = json.dumps({"title": "webhook callback failing", "note": note}, ensure_ascii=False)
    queued = without_tokens(body, [token])
    return None if queued is None else str(load_object(queued, "body")["note"])


PERCENT: dict[str, Callable[[str], str]] = {
    "quote-safe-none": lambda t: urllib.parse.quote(t, safe=""),
    "quote-lower-hex": lambda t: lower_hex(urllib.parse.quote(t, safe="")),
    "quote-default-safe": urllib.parse.quote,
    "quote-plus": urllib.parse.quote_plus,
    "encoded-twice": lambda t: urllib.parse.quote(urllib.parse.quote(t, safe=""), safe=""),
    "path-escape-mixed": lambda t: t.replace("<", "%3C").replace(">", "%3e").replace("+", "%2b"),
}


@pytest.mark.parametrize("token", [PUNCTUATED, BASE64], ids=["punctuated", "base64"])
@pytest.mark.parametrize("encode", PERCENT.values(), ids=PERCENT.keys())
def test_a_percent_encoded_token_is_blanked(token: str, encode: Callable[[str], str]) -> None:
    """A token percent-encoded in a URL, in each way URL writers encode it, is blanked and the
    text around it kept."""
    spelled = encode(token)
    assert spelled != token
    note = f"POST https://hooks.example/relay/{spelled}/alerts?x=1 answered 500"
    assert blanked_note(note, token) == (
        f"POST https://hooks.example/relay/{TOKEN_BLANK}/alerts?x=1 answered 500"
    )


HTML: dict[str, Callable[[str], str]] = {
    "named": html.escape,
    "decimal": lambda t: "".join(f"&#{ord(c)};" if not c.isalnum() else c for c in t),
    "hex-upper": lambda t: "".join(f"&#X{ord(c):X};" if not c.isalnum() else c for c in t),
    "no-semicolon": lambda t: t.replace("&", "&amp").replace("<", "&lt").replace(">", "&#62"),
    "escaped-twice": lambda t: html.escape(html.escape(t)),
    "template-attribute": lambda t: html.escape(lower_hex(urllib.parse.quote(t, safe="&"))),
}


@pytest.mark.parametrize("escape", HTML.values(), ids=HTML.keys())
def test_an_html_escaped_token_is_blanked(escape: Callable[[str], str]) -> None:
    """A token HTML-escaped as templates write it (named, decimal or hex references, legacy
    ones without `;`, escaped twice, or percent-encoded in a link then escaped) is blanked."""
    spelled = escape(PUNCTUATED)
    assert spelled != PUNCTUATED
    note = f'<a href="https://hooks.example/relay/{spelled}">callback</a> failed'
    expected = f'<a href="https://hooks.example/relay/{TOKEN_BLANK}">callback</a> failed'
    assert blanked_note(note, PUNCTUATED) == expected


def test_an_html_escaped_token_go_escaped_again_in_json_is_blanked() -> None:
    """Go's JSON writes the `&` of `&amp;` as `\\u0026`: a token HTML-escaped in a field, then
    so, is blanked, in the body and in a key."""
    escaped = html.escape(PUNCTUATED)
    body = go_json(json.dumps({"title": "t", "note": f"link {escaped} x", escaped: 1}))
    assert escaped not in body and "&" not in body
    queued = without_tokens(body, [PUNCTUATED])
    assert queued is not None
    assert load_object(queued, "body") == {
        "title": "t",
        "note": f"link {TOKEN_BLANK} x",
        TOKEN_BLANK: 1,
    }


def test_a_plus_in_a_token_read_as_a_space_is_blanked() -> None:
    """A base64 token sent in a query unencoded is read with its `+` as a space (a query and a
    form decode `+` so): that spelling is blanked too."""
    read = BASE64.replace("+", " ")
    assert (
        blanked_note(f"cb https://h/x?key={read}&y=2", BASE64)
        == f"cb https://h/x?key={TOKEN_BLANK}&y=2"
    )


def nested_body(note: str) -> str:
    """An alert whose description holds `note`, written by Go and encoded as a JSON string
    twice more: each level the daemon reads as the object inside it."""
    inner = go_json(json.dumps({"title": "webhook callback failing", "description": note}))
    return json.dumps(json.dumps(inner))


def test_a_token_escaped_in_json_encoded_three_times_is_blanked() -> None:
    """A token Go-escaped inside an object's JSON that is a string inside a string is blanked at
    its depth, and each level still reads as the JSON inside it."""
    body = nested_body(f"POST https://h/cb?k={PUNCTUATED} answered 500")
    queued = without_tokens(body, [PUNCTUATED])
    assert queued is not None
    middle = json.loads(queued)
    alert = load_object(json.loads(middle), "inner")
    assert alert["description"] == f"POST https://h/cb?k={TOKEN_BLANK} answered 500"


def test_a_token_escaped_in_an_sns_message_is_blanked_as_the_daemon_reads_it() -> None:
    """An SNS notification whose Message (JSON the daemon reads as the alert) escapes the token
    as Go does, past a byte-order mark, is queued with the token blanked in the alert read."""
    message = go_json(json.dumps({"title": "t", "description": f"k={PUNCTUATED}"}))
    envelope = {
        "Type": "Notification",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
        "Message": message,
    }
    body = "\ufeff" + json.dumps(envelope)
    queued = without_tokens(body, [PUNCTUATED])
    assert queued is not None
    assert decode_body(queued)["description"] == f"k={TOKEN_BLANK}"


def test_a_token_split_by_escapes_inside_its_letters_is_blanked() -> None:
    """A token whose letters and digits themselves are escaped, one by JSON and one by a URL
    writer, in the middle of it, is blanked."""
    spelled = PUNCTUATED.replace("0123", "0\\u0031%32\\u0033")
    body = '{"title":"t","note":"k=' + go_json(spelled) + ' end"}'
    assert blanked_note_of(body, PUNCTUATED) == f"k={TOKEN_BLANK} end"


def blanked_note_of(body: str, token: str) -> str | None:
    """The `note` of JSON `body` once queued, as the daemon reads it; None when queued as sent."""
    queued = without_tokens(body, [token])
    return None if queued is None else str(load_object(queued, "body")["note"])


def test_json_text_in_a_field_keeps_its_shape_and_loses_an_escaped_token() -> None:
    """A field holding JSON text (a response body quoted in an alert) whose writer escaped the
    token is still JSON text once the token is blanked."""
    quoted = go_json(json.dumps({"error": "denied", "token": PUNCTUATED}))
    note = blanked_note(quoted, PUNCTUATED)
    assert note is not None
    assert json.loads(note) == {"error": "denied", "token": TOKEN_BLANK}


@pytest.mark.parametrize(
    "note",
    [
        "see https://g/x?a=1&amp;b=%3Cnow%3E \\u0026 &#60;tag&#x3E; %2F%2f",
        urllib.parse.quote(PUNCTUATED[:-1], safe="") + " " + html.escape(PUNCTUATED[1:]),
        "gen&token<012345678>xyz gen%26token%3C01234567890%3Exyz",
    ],
    ids=["web-escapes", "near-misses", "other-digits"],
)
def test_escapes_that_spell_no_token_leave_the_body_as_sent(note: str) -> None:
    """A body full of percent, HTML and JSON escapes, or holding a token less a character,
    spells no token: it is queued as sent (None)."""
    body = go_json(json.dumps({"title": "t", "note": note, "n": 1}))
    assert "\\u0026" in body
    assert without_tokens("\ufeff" + body, [PUNCTUATED, BASE64]) is None
    assert without_tokens(json.dumps(json.dumps(json.loads(body))), [PUNCTUATED]) is None


def test_text_that_is_no_json_loses_a_token_however_spelled() -> None:
    """Text that does not parse has the token blanked where it stands, in a web encoding too."""
    text = f"not json {{ {urllib.parse.quote(PUNCTUATED, safe='')} and {html.escape(PUNCTUATED)}"
    assert without_tokens(text, [PUNCTUATED]) == f"not json {{ {TOKEN_BLANK} and {TOKEN_BLANK}"


def test_json_in_strings_nested_past_the_stack_still_loses_its_token() -> None:
    """JSON inside strings nested deeper than a walk of them can go (each level arrays 62
    deep) is blanked where the token stands, never an error, and is still JSON."""
    inner = json.dumps([f"x {PUNCTUATED}"])
    for _ in range(12):
        nested: object = inner
        for _ in range(62):
            nested = [nested]
        inner = json.dumps(nested)
    body = json.dumps({"title": "t", "note": inner})
    queued = without_tokens(body, [PUNCTUATED])
    assert queued is not None
    assert PUNCTUATED not in queued
    assert load_object(queued, "body")["title"] == "t"
