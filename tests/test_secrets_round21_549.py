"""Round 21 (helper 549): what round 20 left (a text cut raw before it is redacted, a JWT whose
three parts are three fields) and more of the formats a credential is logged in, each proved to
go while ordinary text around it stays, and on every way out (`_surfaces`, round 20's rig)."""

from __future__ import annotations

import base64
import itertools
import json
import random

import pytest
from aiohttp.http_exceptions import HttpProcessingError

from test_every_source_hostile import POOL, Shown, leaked
from test_secrets_round20_534 import _surfaces
from triage.ingest.bad_http import what_was_wrong
from triage.ops import check
from triage.redact import Redactor

_RANDOM = random.Random(549)


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- a raw cut before the redactor: `triage check`'s and the gateway's -------------------------

#: The credentials of one line, known by their shape, with no colon or quote (aiohttp's reason
#: ends at the first of those), whose random part comes early.
_ONE_LINE = [
    s
    for f, s in POOL
    if f.bare
    and "\n" not in s.text
    and 0 <= s.text.find(s.random[0]) <= 64
    and not set(s.text) & set(":'\"")
]


#: How many characters of a credential's random part stand before a cut.
_INSIDE = (9, 12, 20, 31)


def _shrinking(size: int) -> str:
    """One line of nearly `size` characters that redacts to a short placeholder (a JWT whose
    claims are long): what comes after it moves far to the left once redacted."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = _b64url(json.dumps({"sub": "x" * ((size - 150) * 3 // 4)}).encode())
    return f"{header}.{claims}.{_b64url(_RANDOM.randbytes(32))}"


def _across(bound: int, before: str, secret_text: str, random_part: str, inside: int) -> str:
    """`before`, a text that shrinks when redacted, filler, then `secret_text` placed so that
    `inside` characters of its random part stand before `bound` and the rest after it."""
    shrinking = _shrinking(bound - len(before) - secret_text.index(random_part))
    gap = bound - inside - len(before) - len(shrinking) - 1 - secret_text.index(random_part)
    return f"{before}{shrinking} {('w ' * gap)[: gap - 1]} {secret_text} and more words"


def test_a_model_servers_error_cut_raw_inside_a_credential_shows_no_piece_of_it() -> None:
    """What `triage check` says a model server answered is read up to a bound, then redacted,
    then cut to a line: a credential across that first bound, after text that redaction
    shortens (so the piece would land in the shown line), shows no run of its random part."""
    shown = Shown()
    bound = check.SAID_CHARS * 10
    for secret, inside in itertools.product(_ONE_LINE, _INSIDE):
        said = "Incorrect API key provided "
        message = _across(bound, said, secret.text, secret.random[0], inside)
        assert message.index(secret.random[0]) == bound - inside
        shown.data.append(check._said({"message": message}))
    assert leaked(_ONE_LINE, shown) == []


def test_a_refused_requests_reason_cut_raw_inside_a_credential_shows_no_piece_of_it() -> None:
    """The gateway's answer and log line for a request aiohttp refused read the parser's reason
    up to a bound, redact it, and cut it to a line: a credential across that bound, after text
    that redaction shortens, shows no run of its random part."""
    shown = Shown()
    for secret, inside in itertools.product(_ONE_LINE, _INSIDE):
        said = "Invalid header value char "
        reason = _across(1200, said, secret.text, secret.random[0], inside)
        assert reason.index(secret.random[0]) == 1200 - inside
        shown.data.append(what_was_wrong(HttpProcessingError(message=reason)))
    assert leaked(_ONE_LINE, shown) == []


def test_a_short_reason_or_message_is_still_shown_whole() -> None:
    """A reason or a server's message within its bound is shown as it was (no cut mark)."""
    assert what_was_wrong(HttpProcessingError(message="Invalid method encountered")) == (
        "Invalid method encountered"
    )
    assert check._said({"message": "model not found"}) == "model not found"


# --- a JWT whose three parts are three fields -------------------------------------------------

JWT_HEADER = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
JWT_CLAIMS = _b64url(json.dumps({"sub": "1234567890", "email": "bob@example.com"}).encode())
JWT_SIGNATURE = "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
J = "[REDACTED:jwt]"
#: A page's cursor: base64 JSON that is no token.
CURSOR = _b64url(json.dumps({"after": 1234567890, "order": "created"}).encode())


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (
            f'{{"header": "{JWT_HEADER}", "payload": "{JWT_CLAIMS}", "signature": "{JWT_SIGNATURE}"}}',
            f'{{"header": "{JWT_HEADER}", "payload": "{J}", "signature": "{J}"}}',
        ),
        (
            f"header={JWT_HEADER} claims={JWT_CLAIMS} sig={JWT_SIGNATURE} done",
            f"header={JWT_HEADER} claims={J} sig={J} done",
        ),
        (
            f"header: {JWT_HEADER}\npayload: {JWT_CLAIMS}\nsignature: {JWT_SIGNATURE}",
            f"header: {JWT_HEADER}\npayload: {J}\nsignature: {J}",
        ),
        (
            f'{{"payload": "{JWT_CLAIMS}", "protected": "{JWT_HEADER}", "signature": "{JWT_SIGNATURE}"}}',
            f'{{"payload": "{J}", "protected": "{JWT_HEADER}", "signature": "{J}"}}',
        ),
        (
            f'{{"payload":"{JWT_CLAIMS}","signatures":[{{"protected":"{JWT_HEADER}",'
            f'"signature":"{JWT_SIGNATURE}"}}]}}',
            f'{{"payload":"{J}","signatures":[{{"protected":"{JWT_HEADER}","signature":"{J}"}}]}}',
        ),
        (
            f"<h>{JWT_HEADER}</h><p>{JWT_CLAIMS}</p><s>{JWT_SIGNATURE}</s>",
            f"<h>{JWT_HEADER}</h><p>{J}</p><s>{J}</s>",
        ),
    ],
    ids=["json", "pairs", "yaml", "jws-flattened", "jws-general", "xml"],
)
def test_a_jwts_three_parts_as_three_fields_lose_claims_and_signature(
    given: str, shown: str
) -> None:
    """A JWT logged as three fields (header, claims, signature; or a JWS in JSON form, its
    payload first) loses its claims and signature, the header (the algorithm) kept, raw and
    inside a JSON string."""
    assert _text(given) == shown
    assert JWT_SIGNATURE not in _text(json.dumps({"log": given}))


@pytest.mark.parametrize(
    "given",
    [
        f'{{"data": "{CURSOR}", "next": "{CURSOR}", "id": "a8f5f167f44f4964e6c998dee827110c"}}',
        f'{{"a": "{JWT_HEADER}", "b": "{CURSOR}", "c": "done"}}',
    ],
    ids=["no-header", "short-third"],
)
def test_base64_json_fields_that_are_no_jwt_stay(given: str) -> None:
    """Two base64 JSON values without a JOSE header among them, or with no signature after,
    stay as written."""
    assert _text(given) == given


# --- a token an e-mail wrapped: quoted-printable soft line breaks -----------------------------


def _quoted_printable(text: str, newline: str = "\n") -> str:
    """`text` wrapped as a quoted-printable encoder wraps it: lines of 76 characters, each
    but the last ending in a soft break (`=`)."""
    lines = []
    while len(text) > 76:
        lines.append(text[:75] + "=")
        text = text[75:]
    return newline.join([*lines, text])


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
GITHUB_TOKEN = "ghp_" + "".join(_RANDOM.choice(_ALNUM) for _ in range(36))
OPENAI_KEY = "sk-proj-" + "".join(_RANDOM.choice(_ALNUM) for _ in range(156))
MAILED = {
    "github": (
        "Hi team, the deploy bot's token was pasted in the channel this morning: "
        f"{GITHUB_TOKEN} please rotate it today.",
        GITHUB_TOKEN[4:],
    ),
    "openai-three-lines": (
        f"From the incident notes, a key was committed by mistake:{OPENAI_KEY} it is revoked",
        OPENAI_KEY[8:],
    ),
}


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("case", sorted(MAILED))
@pytest.mark.parametrize("escaped", [False, True], ids=["raw", "json-string"])
def test_a_token_an_email_wrapped_with_soft_line_breaks_goes(
    case: str, newline: str, escaped: bool
) -> None:
    """A token a quoted-printable body wrapped over two or three lines (`=` at each line's end)
    is read whole and goes, raw or inside a JSON string, the prose around it kept."""
    prose, secret = MAILED[case]
    given = _quoted_printable(prose, newline)
    if escaped:
        given = json.dumps({"body": given})
    shown = _text(given)
    assert not any(secret[i : i + 8] in shown for i in range(len(secret) - 7)), shown
    assert shown.startswith(given[:40])


@pytest.mark.parametrize(
    "given",
    [
        "DB_PASSWORD=\nDB_HOST=db\nAPI_URL=\nhttps://example.com",
        _quoted_printable(
            "This is a long line of ordinary prose in an e-mail that the encoder has to wrap "
            "somewhere=20in the middle of its words, and nothing in it is a secret at all."
        ),
    ],
    ids=["empty-settings", "prose"],
)
def test_lines_ending_in_an_equals_sign_that_hide_no_token_stay(given: str) -> None:
    """An empty setting before the next line, and wrapped prose, keep their line breaks."""
    assert "\n" in _text(given) and _text(given).count("=\n") == given.count("=\n")


# --- a framework's error page: a local variable's row -------------------------------------------

#: Django's technical 500 page lists each frame's local variables as rows of a table, the value
#: in a `<pre>` with its quotes written as entities.
DJANGO_LOCALS = """<table class="vars" id="v140">
  <thead><tr><th scope="col">Variable</th><th scope="col">Value</th></tr></thead>
  <tbody>
      <tr>
        <td>password</td>
        <td class="code"><pre>&#x27;Zq8vN3kT1pLmR7xW&#x27;</pre></td>
      </tr>
      <tr>
        <td>username</td>
        <td class="code"><pre>&#x27;bob&#x27;</pre></td>
      </tr>
  </tbody>
</table>"""


def test_a_debug_pages_local_variable_row_loses_a_secrets_value() -> None:
    """A local variable named like a secret in an error page's table (its value in a `<pre>`)
    loses its value; the other rows and the markup stay."""
    shown = _text(DJANGO_LOCALS)
    assert "Zq8vN3kT1pLmR7xW" not in shown
    assert '<td class="code"><pre>[REDACTED:password]</pre></td>' in shown
    assert shown.replace("[REDACTED:password]", "&#x27;Zq8vN3kT1pLmR7xW&#x27;") == DJANGO_LOCALS


def test_a_pre_cell_beside_an_ordinary_name_stays() -> None:
    """A `<pre>` value beside a name that is no secret's stays as written."""
    given = '<tr><td>path</td><td class="code"><pre>&#x27;/api/v1/Zq8vN3kT&#x27;</pre></td></tr>'
    assert _text(given) == given


# --- a cloud provider's key with no name beside it ---------------------------------------------

B2_KEY = "K004" + "".join(_RANDOM.choice(_ALNUM) for _ in range(26)) + "7"


@pytest.mark.parametrize(
    "given",
    [
        f"b2 authorize-account 0042a3b4c5d6e7f0000000001 {B2_KEY}",
        f'{{"applicationKey": "{B2_KEY}"}}',
        f"creds {B2_KEY}\n",
    ],
)
def test_a_backblaze_b2_application_key_goes_by_its_shape(given: str) -> None:
    """A Backblaze B2 application key (K, three digits, 27 letters and digits) goes wherever it
    stands, the key id beside it kept."""
    shown = _text(given)
    assert B2_KEY[4:12] not in shown and "[REDACTED" in shown


@pytest.mark.parametrize(
    "given", ["part K0012345678901234567890123456 ok", "K001abcdefghijklmnopqrstuvwxyza"]
)
def test_a_k00_word_that_is_no_key_stays(given: str) -> None:
    """A part number or a word after K00 (one case, or no digit among it) stays."""
    assert _text(given) == given


# --- every path out of the process --------------------------------------------------------------

#: This round's classes, each with the part that must not leave.
LEAVING = {
    "jwt-fields": (
        f'{{"header": "{JWT_HEADER}", "payload": "{JWT_CLAIMS}", "signature": "{JWT_SIGNATURE}"}}',
        JWT_SIGNATURE,
    ),
    "jws-json": (
        f'{{"payload":"{JWT_CLAIMS}","protected":"{JWT_HEADER}","signature":"{JWT_SIGNATURE}"}}',
        JWT_SIGNATURE,
    ),
    "django-locals": (DJANGO_LOCALS, "Zq8vN3kT1pLmR7xW"),
    # Round 20's known leaks of Go's %+v, closed since: a quote, `:` and `=` in the password.
    "go-struct-colon": ("{User:bob Password:p@ss:w=rd99Zq Host:db}", "p@ss:w=rd99Zq"),
    "go-struct-quote": ('&{User:bob Password:p"ss:w=rd99Zq Host:db}', 'p"ss:w=rd99Zq'),
    "backblaze-b2": (f"b2 authorize-account 0042a3b4c5d6e7f0000000001 {B2_KEY}", B2_KEY[4:]),
    "mail-wrapped-token": (_quoted_printable(MAILED["github"][0]), MAILED["github"][1]),
    "mail-wrapped-key": (_quoted_printable(MAILED["openai-three-lines"][0]), OPENAI_KEY[60:120]),
}


@pytest.mark.parametrize("case", sorted(LEAVING))
async def test_this_rounds_leaks_leave_the_process_by_no_path(case: str) -> None:
    """Each class closed this round is redacted on every way out round 20 reads (GitHub,
    Slack, the prompt, the operator API, a log line): all render from the shared redactor."""
    description, secret = LEAVING[case]
    for path, shown in (await _surfaces(description)).items():
        assert not any(secret[i : i + 8] in shown for i in range(len(secret) - 7)), path
