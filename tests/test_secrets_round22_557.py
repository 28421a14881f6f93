"""Round 22 (helper 557): round 21's known leak (a Go `%+v` password holding a word shaped as a
field) and four formats a credential is logged in that no rule read: an Ansible Vault's
encrypted lines, Symfony's VarDumper as HTML (Laravel's `dd()`, Symfony's error page), SASL
PLAIN's base64 login without `AUTH PLAIN` before it, and a tab-separated listing of settings
whose first line names a secret (read as a table's header, it hid the names below, not the
values). Each goes while ordinary text around it
stays, and on every way out (`egress`, the egress audit's rig)."""

from __future__ import annotations

import base64
import json
import random
import string
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from recording_pipeline import POLICY
from test_egress_audit_509 import PLACES, Secret, egress
from triage.incidents.sqlite import SQLiteStore
from triage.redact import Redactor

P = "[REDACTED:password]"
_RANDOM = random.Random(557)
_ALNUM = string.ascii_letters + string.digits


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


def _random(count: int, alphabet: str = _ALNUM) -> str:
    return "".join(_RANDOM.choice(alphabet) for _ in range(count))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- Go's %+v: a password whose word after a space looks like a field --------------------------


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("{User:bob Password:Zq9 Xk7:pQ2v Host:db}", f"{{User:bob Password:{P} Host:db}}"),
        ("&{Addr:cache:6379 Password:a1 Bq:c3 x DB:0}", f"&{{Addr:cache:6379 Password:{P} DB:0}}"),
        ("{Password:w 9x:Q A1b:c2 Port:5432}", f"{{Password:{P} Port:5432}}"),
    ],
    ids=["round-21", "go-redis", "digit-first"],
)
def test_a_go_struct_password_holding_what_looks_like_a_field_goes_whole(
    given: str, shown: str
) -> None:
    """A `%+v` password whose later word is followed by `:` but is not shaped as Go names a
    field (`Xk7:`, `Bq:`) goes whole, to the next field so shaped."""
    assert _text(given) == shown


def test_the_fields_after_a_go_structs_password_stay() -> None:
    """Fields named as Go names them (words, initialisms, digits, `Db`) after a password stay."""
    given = "{Password:x MaxIdleConns:5 TLSConfig:<nil> OAuth2Config:<nil> Db:1 Addr2:y}"
    assert _text(given) == given.replace("Password:x", f"Password:{P}")


def test_a_go_struct_password_holding_a_word_shaped_as_a_field_goes_whole() -> None:
    """A `%+v` password whose second word is a capitalised word and a colon goes whole."""
    assert "battery99" not in _text("{User:bob Password:correct Horse:battery99 Host:db}")


# --- Ansible Vault's encrypted text ------------------------------------------------------------

VAULT_LINES = [_random(80, "0123456789abcdef") for _ in range(3)] + ["3a4f"]
VAULT = "$ANSIBLE_VAULT;1.1;AES256\n" + "\n".join(VAULT_LINES)


def _no_vault_line(shown: str) -> bool:
    return not any(line[i : i + 8] in shown for line in VAULT_LINES[:3] for i in range(73))


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (VAULT + "\nAdded user bob", f"$ANSIBLE_VAULT;1.1;AES256\n{P}\nAdded user bob"),
        (
            "api_url: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  " + "\n  ".join(VAULT_LINES),
            f"api_url: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  {P}",
        ),
        (
            "$ANSIBLE_VAULT;1.2;AES256;prod\r\n" + "\r\n".join(VAULT_LINES) + "\r\nnext: 1",
            f"$ANSIBLE_VAULT;1.2;AES256;prod\r\n{P}\r\nnext: 1",
        ),
        (VAULT.replace("\n", " ") + " done", f"$ANSIBLE_VAULT;1.1;AES256 {P} done"),
    ],
    ids=["file", "yaml-tag-under-a-plain-name", "vault-id-crlf", "joined-by-spaces"],
)
def test_an_ansible_vaults_encrypted_lines_go_under_any_name(given: str, shown: str) -> None:
    """An Ansible Vault's hex lines (anyone holding them can try vault passwords offline) go
    under any name or none, raw, indented, with a vault id or joined into one line; its header
    and the text after it stay."""
    assert _text(given) == shown


@pytest.mark.parametrize("twice", [False, True], ids=["json-string", "json-in-json"])
def test_an_ansible_vault_inside_a_json_string_loses_its_lines(twice: bool) -> None:
    """The same text escaped in a JSON string (its breaks `\\n`), once or twice, loses them."""
    given = json.dumps({"msg": VAULT})
    if twice:
        given = json.dumps({"log": given})
    shown = _text(given)
    assert _no_vault_line(shown) and "$ANSIBLE_VAULT;1.1;AES256" in shown


@pytest.mark.parametrize(
    "given",
    [
        "the header $ANSIBLE_VAULT;1.1;AES256 alone",
        "$ANSIBLE_VAULT;1.1;AES256\ncafe added facade\n",
        "vault id 6638643965323633 in prose",
    ],
    ids=["header-alone", "hex-shaped-words", "no-header"],
)
def test_text_that_is_no_vaults_lines_stays(given: str) -> None:
    """A header with no hex lines after it, words that are hex but hold no digit, and hex
    without the header stay."""
    assert _text(given) == given


# --- Symfony's VarDumper as HTML ------------------------------------------------------------------

DUMPED = _random(18)
SF_ARRAY = (
    '<pre class=sf-dump id=sf-dump-1 data-indent-pad="  "><span class=sf-dump-note>array:2</span>'
    " [<samp data-depth=1 class=sf-dump-expanded>\n"
    '  "<span class=sf-dump-key>username</span>" => "<span class=sf-dump-str title="3 characters">'
    'bob</span>"\n'
    '  "<span class=sf-dump-key>password</span>" => "<span class=sf-dump-str title="18 characters">'
    f'{DUMPED}</span>"\n'
    "</samp>]\n</pre>"
)
SF_OBJECT = (
    "<span class=sf-dump-note>App\\Mail</span> {<a class=sf-dump-ref>#12</a><samp data-depth=1>\n"
    '  +<span class=sf-dump-public title="Public property">host</span>: "<span class=sf-dump-str '
    'title="4 characters">smtp</span>"\n'
    '  #<span class=sf-dump-protected title="Protected property">apiKey</span>: "<span '
    f'class=sf-dump-str title="18 characters">{DUMPED}</span>"\n'
    '  -<span class=sf-dump-private title="Private property defined in class:&#10;`App\\Mail`">'
    'secret</span>: """\n    <span class=sf-dump-str title="2 lines">'
    f"{DUMPED}\n{DUMPED[::-1]}</span>\n    " + '"""\n</samp>}'
)


@pytest.mark.parametrize("given", [SF_ARRAY, SF_OBJECT], ids=["array", "object"])
@pytest.mark.parametrize("escaped", [False, True], ids=["raw", "json-string"])
def test_a_symfony_html_dumps_secret_keys_lose_their_values(given: str, escaped: bool) -> None:
    """Symfony's VarDumper HTML (an array's key, an object's public, protected or private
    property, a string of lines) loses a secret's value, its spans and quotes kept; the
    others stay. Raw and inside a JSON string."""
    if escaped:
        given = json.dumps({"html": given})
    shown = _text(given)
    assert DUMPED[:12] not in shown and DUMPED[::-1][:12] not in shown
    assert shown.count(f">{P}</span>") == given.count(DUMPED[:12]) - given.count(DUMPED * 2)
    assert ">bob</span>" in shown or ">smtp</span>" in shown


def test_a_symfony_html_dumps_ordinary_key_stays() -> None:
    """A key that names no secret keeps its value."""
    given = (
        '"<span class=sf-dump-key>token_ttl</span>" => "<span class=sf-dump-str title="4 '
        'characters">3600</span>"'
    )
    assert _text(given) == given


# --- SASL PLAIN's base64 login, bare ------------------------------------------------------------

SASL_PASSWORD = _random(18)
SASL = _b64(b"\x00bob@example.com\x00" + SASL_PASSWORD.encode())
SASL_AS = _b64(b"admin\x00bob\x00" + SASL_PASSWORD.encode())


@pytest.mark.parametrize(
    ("given", "blob"),
    [
        (f"smtp login failed, client sent {SASL} then quit", SASL),
        (json.dumps({"mechanism": "PLAIN", "initial_response": SASL}), SASL),
        (f"C: {SASL_AS}", SASL_AS),
    ],
    ids=["prose", "json-member", "with-an-identity"],
)
def test_a_sasl_plain_login_in_base64_goes_without_auth_plain_before_it(
    given: str, blob: str
) -> None:
    """Base64 of SASL PLAIN's message (an identity or none, the user, the password, NUL
    bytes between) goes wherever it stands: it is a login."""
    assert _text(given) == given.replace(blob, P)


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
        b"bob\x00not-a-plain-login",
        b"two\x00words here\x00and\x00more",
    ],
    ids=["bytes", "one-nul", "three-nuls"],
)
def test_base64_of_bytes_that_are_no_sasl_login_stays(data: bytes) -> None:
    """Bytes that are no text, one NUL or three: no SASL PLAIN message, they stay."""
    given = f"blob {_b64(data)} end"
    assert _text(given) == given


# --- a tab-separated listing of settings -------------------------------------------------------

LISTED_KEY, LISTED_PASSWORD = _random(20), _random(18)


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (
            f"API_KEY\t{LISTED_KEY}\nDB_PASSWORD\t{LISTED_PASSWORD}\nAPP_ENV\tproduction",
            f"API_KEY\t{P}\nDB_PASSWORD\t{P}\nAPP_ENV\tproduction",
        ),
        (
            f"settings:\nDB_PASSWORD\t{LISTED_PASSWORD}\nAPP_ENV\tproduction\nDEBUG\tfalse",
            f"settings:\nDB_PASSWORD\t{P}\nAPP_ENV\tproduction\nDEBUG\tfalse",
        ),
    ],
    ids=["two-secrets", "secret-first"],
)
def test_a_tab_separated_listing_of_settings_loses_each_secrets_value(
    given: str, shown: str
) -> None:
    """Lines of a setting's name, a tab and its value, the first a secret's, are no table under
    a header: each secret's value goes, and every name (`DB_PASSWORD`, `APP_ENV`) stays."""
    assert _text(given) == shown


def test_a_tab_separated_table_headed_by_a_secrets_column_still_loses_its_cells() -> None:
    """A header in capitals (`PASSWORD<TAB>USER`) still heads a table: its column's cells go."""
    assert "HUNTER2X" not in _text("PASSWORD\tUSER\nHUNTER2X\tbob")


# --- every path out of the process ------------------------------------------------------------


def _secrets() -> list[Secret]:
    """This round's classes, made from the seeded generator, each with its random parts."""
    password, word = _random(8), _random(14)
    vault = [_random(80, "0123456789abcdef") for _ in range(2)]
    sasl_password = _random(18)
    sasl = _b64(b"\x00deploy\x00" + sasl_password.encode())
    dumped = _random(20)
    listed_key, listed_password = _random(20), _random(18)
    return [
        Secret(
            "go-struct-field-word",
            f"{{User:bob Password:{password} Xk7:{word} Host:db}}",
            (password, word),
        ),
        Secret("ansible-vault", "$ANSIBLE_VAULT;1.1;AES256\n" + "\n".join(vault), tuple(vault)),
        Secret(
            "ansible-vault-tagged",
            "url: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  " + "\n  ".join(vault),
            tuple(vault),
        ),
        Secret(
            "symfony-dump",
            '"<span class=sf-dump-key>password</span>" => "<span class=sf-dump-str '
            f'title="20 characters">{dumped}</span>"',
            (dumped,),
        ),
        Secret("sasl-plain", f"client sent {sasl}", (sasl, sasl_password)),
        Secret(
            "tsv-settings",
            f"API_KEY\t{listed_key}\nDB_PASSWORD\t{listed_password}\nAPP_ENV\tprod",
            (listed_key, listed_password),
        ),
    ]


SECRETS = _secrets()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "egress.db"), POLICY, timedelta(minutes=2), timedelta(days=30))
    await s.open()
    yield s
    await s.aclose()


@pytest.mark.parametrize("place", ["description", "annotation-value", "nested-value"])
@pytest.mark.parametrize("secret", SECRETS, ids=[s.name for s in SECRETS])
async def test_this_rounds_leaks_leave_the_process_by_no_path(
    store: SQLiteStore, tmp_path: Path, secret: Secret, place: str
) -> None:
    """Each class closed this round reaches no sink, prompt, log, metric, operator or CLI line,
    status page or record at rest, from an alert's description, annotation or nested value."""
    body, attributes = PLACES[place](secret.text)
    shown = await egress(store, tmp_path / "egress.db", body, attributes)
    assert shown.leaks(secret) == []
