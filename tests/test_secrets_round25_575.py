"""Round 25 (helper 575): what round 24 left known and open, each closed with ordinary text
around it kept: a password by its place in a printed value with no names
(`DbCredentials(app,pw,db:5432)`), a secret's name spelled with its words apart (`pass_word`),
kubeconfig's `client-key-data` that is base64 but no PEM, the URL after a quoted curl
`-H "Authorization: …"`, a Persian word's zero-width non-joiner, and an LND macaroon's hex
after its name's `=`. Each goes on every way out (the egress audit's rig)."""

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
from triage.redact import Redactor, secret_named

P = "[REDACTED:password]"
_RANDOM = random.Random(575)
_ALNUM = string.ascii_letters + string.digits


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


def _random(count: int) -> str:
    """`count` random letters and digits, with a capital, a small letter and a digit."""
    while True:
        value = "".join(_RANDOM.choice(_ALNUM) for _ in range(count))
        if not value.isalpha() and not value.isdigit() and not value.islower():
            return value


# --- a password by its place in a printed value with no names ---------------------------------


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("DbCredentials(app,hunter2x,db:5432)", f"DbCredentials(app,{P},db:5432)"),
        (
            "SftpLogin(deploy,p4ssw0rd,files.example.com:22)",
            f"SftpLogin(deploy,{P},files.example.com:22)",
        ),
        ('Credentials("svc", "tr0ub4dor")', f'Credentials("svc", "{P}")'),
        ("auth=BasicAuth(admin,changeme) for es", f"auth=BasicAuth(admin,{P}) for es"),
        ("Dsn(app,Xk9q2LmZ7w,pg-0:5432)", f"Dsn(app,{P},pg-0:5432)"),
        ("DbConfig(app,s3cretPw9x,db:5432)", f"DbConfig(app,{P},db:5432)"),
        ("PostgresSettings(db:5432,app,Xk9q2LmZ7w)", f"PostgresSettings(db:5432,app,{P})"),
    ],
    ids=[
        "credentials-host",
        "login-host",
        "rust-debug",
        "basic-auth",
        "dsn",
        "db-config",
        "host-first",
    ],
)
def test_a_password_by_its_place_in_a_printed_value_goes(given: str, shown: str) -> None:
    """A Scala case class's or a Rust tuple struct's printed form whose type names a
    credential (or a database's settings, its value random-looking) loses the password that
    sits after the user, beside a `host:port` or alone; the user and the host stay."""
    assert _text(given) == shown


def test_printed_values_and_signatures_that_hold_no_password_stay() -> None:
    """A database's settings with plain words (a database and its schema), a type that names
    no credential, code's variables and parameters (`Credentials(user, password)`), a state
    word and a masked value stay."""
    given = (
        "DbConfig(orders,public,db:5432) AppConfig(app,Xk9q2LmZ7w,db:5432) "
        "UserInfo(bob,Xk9q2LmZ7w) PostgresSettings(app,Xk9q2LmZ7w) "
        "Credentials(user,password) BasicAuth(username, pass) Credentials(self,token) "
        "Login(u,p) Login(bob,None) Credentials(expired,true) Credentials(user, ***) "
        "Credentials(app,apiKey) Creds(a,b,c)"
    )
    assert _text(given) == given


# --- a secret's name with its words apart --------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["pass_word", "pass-word", "PASS_WORD", "Pass.Word", "db_pass_word"]
)
def test_a_password_named_with_its_words_apart_goes(name: str) -> None:
    """An INI's or .env's key that writes `password` as two words joined by `_`, `-` or `.`
    names a secret as `password` does."""
    assert secret_named(name)
    assert _text(f"[db]\n{name}=hunter2Xy9q\nhost=db\n") == f"[db]\n{name}={P}\nhost=db\n"


def test_names_that_only_start_with_pass_words_stay() -> None:
    """A count of pass words and a key whose last part says something about a password stay."""
    given = "pass_word_count=3 pass_words_total=12"
    assert _text(given) == given
    assert not secret_named("pass_word_count")


# --- kubeconfig's client-key-data that is no PEM --------------------------------------------------


def test_a_client_key_data_that_is_no_pem_goes_and_the_certificate_stays() -> None:
    """`client-key-data` names the client's private key whatever its base64 holds (DER, not
    PEM); `client-certificate-data` (public by design) stays."""
    key = base64.b64encode(bytes(_RANDOM.randrange(256) for _ in range(96))).decode()
    cert = base64.b64encode(bytes(_RANDOM.randrange(256) for _ in range(96))).decode()
    given = (
        "users:\n- name: admin\n  user:\n"
        f"    client-certificate-data: {cert}\n    client-key-data: {key}\n"
    )
    shown = _text(given)
    assert key[:40] not in shown and key[40:] not in shown
    assert shown == given.replace(key, P)


# --- the URL after a quoted Authorization header ------------------------------------------------


@pytest.mark.parametrize(
    "header",
    ['"Authorization: api-XXXX"', "'Authorization: api-XXXX'", '"Authorization: SSWS 00aBcD9x"'],
    ids=["double", "single", "scheme"],
)
def test_a_quoted_authorization_header_keeps_its_closing_quote_and_the_url(header: str) -> None:
    """curl's `-H "Authorization: …"` loses its credential only: the closing quote, the URL
    and the flags after it stay."""
    shown = _text(f"curl -sS -H {header} https://host.example.com/v2/path -o out.json")
    assert shown.endswith(" https://host.example.com/v2/path -o out.json")
    assert "XXXX" not in shown and "00aBcD9x" not in shown
    assert shown.count(header[0]) == 2


def test_an_authorization_value_with_a_quote_inside_a_word_goes_whole() -> None:
    """A quote inside the value (`p"w…`) is the value's, as before: the value goes to the
    quote that closes the header."""
    shown = _text('curl -H "Authorization: Token ab"cd1234XYZ" https://h/p')
    assert "cd1234XYZ" not in shown and shown.endswith(" https://h/p")


# --- a joining script's zero-width non-joiner ------------------------------------------------------

PERSIAN = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"


@pytest.mark.parametrize(
    "text",
    [
        PERSIAN,
        f"\u0645\u0646 {PERSIAN} \u0628\u0631\u0648\u0645",
        "\u0915\u094d\u200d\u0937",
        json.dumps({"m": PERSIAN}),
        json.dumps({"m": PERSIAN}, ensure_ascii=False),
    ],
    ids=["word", "sentence", "devanagari-zwj", "json-escaped", "json-raw"],
)
def test_a_joiner_a_word_is_spelled_with_comes_out_as_it_went_in(text: str) -> None:
    """A zero-width non-joiner or joiner between two letters of a joining script (Persian,
    Devanagari), raw or escaped in JSON, is the word's spelling: the text comes out as is."""
    assert _text(text) == text


def test_a_joiner_that_hides_a_secret_still_goes() -> None:
    """Between Latin letters, or between a Persian letter and a token, a joiner is dropped
    as before, so it glues no secret's halves."""
    assert _text("pass\u200cword=hunter2xyz") == f"password={P}"
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    assert token[8:] not in _text(f"\u0633\u0644\u0627\u0645\u200c{token}")
    assert _text("x\u200c\u200c\u0645") == "x\u0645"


# --- a macaroon after its name -------------------------------------------------------------------


def test_a_macaroon_after_its_names_equals_sign_goes() -> None:
    """LND's macaroon as hex after `LND_MACAROON=` (and base64 after `macaroon=`) goes, as it
    does after a space."""
    identifier = bytes(_RANDOM.randrange(256) for _ in range(40))
    signature = bytes(_RANDOM.randrange(256) for _ in range(32))
    raw = (
        b"\x02\x01\x03lnd\x02" + bytes([len(identifier)]) + identifier + b"\x00\x06\x20" + signature
    )
    given = f"LND_MACAROON={raw.hex()} next=ok macaroon={base64.b64encode(raw).decode()}"
    shown = _text(given)
    assert identifier.hex()[:16] not in shown and signature.hex()[:16] not in shown
    assert "next=ok" in shown


# --- hunted: a key by its place in a signing or cipher call; a `>` inside an XML value -----------


@pytest.mark.parametrize(
    "call",
    [
        'jwt.decode(token, "{k}", algorithms=["HS256"])',
        "jwt.sign({{ sub: id, role: r }}, '{k}', {{ expiresIn: '1h' }})",
        "jwt.verify(token, '{k}')",
        'JWT::encode($payload, "{k}", "HS256")',
        'hmac.new(b"{k}", body, hashlib.sha256)',
        "crypto.createHmac('sha256', '{k}').update(body)",
        'hash_hmac("sha256", $data, "{k}")',
        'OpenSSL::HMAC.hexdigest("SHA256", "{k}", data)',
        'mac := hmac.New(sha256.New, []byte("{k}"))',
        'jwt.NewWithClaims(m, c).SignedString([]byte("{k}"))',
        'Algorithm.HMAC256("{k}")',
        'new SecretKeySpec("{k}".getBytes(StandardCharsets.UTF_8), "AES")',
        'new SymmetricSecurityKey(Encoding.UTF8.GetBytes("{k}"))',
        'AES.new(b"{k}", AES.MODE_GCM)',
        "Fernet('{k}')",
        'URLSafeTimedSerializer("{k}")',
        'app.use(cookieParser("{k}"))',
        'SessionMiddleware(app, "{k}")',
        'win32security.LogonUser("bob", "CORP", "{k}", 2, 0)',
    ],
)
def test_a_key_given_by_its_place_to_a_signing_or_cipher_call_goes(call: str) -> None:
    """A literal key at its place in a JWT library's, an HMAC's, a cipher's or a session
    signer's call (and a password in LogonUser's) goes, its quotes and conversion kept."""
    key = _random(16)
    given = '  File "/srv/app/auth.py", line 9, in sign\n    ' + call.format(k=key)
    shown = _text(given)
    assert key not in shown and P in shown
    assert shown == given.replace(key, P)


def test_a_keyed_calls_variables_and_public_keys_stay() -> None:
    """A variable, an environment read, a template, a named option, a public key's PEM and
    a masked value at a key's place stay."""
    given = (
        'jwt.decode(token, key, algorithms=["RS256"]) jwt.decode(token, options={"a": 1}) '
        "jwt.sign(p, process.env.JWT_SECRET) jwt.sign(p, `${secret}`) AES.new(key, mode) "
        'hmac.new(key, msg, sha256) jwt.decode(t, "-----BEGIN PUBLIC KEY-----MIIB") '
        'jwt.encode(p, "***") createHmac("sha256", secret) Fernet(f"{key}")'
    )
    assert _text(given) == given


@pytest.mark.parametrize(
    "element",
    [
        '<add key="Password" value="{v}" />',
        '<property name="password" value="{v}"/>',
        '<Environment name="DB_PASSWORD" value="{v}" type="java.lang.String"/>',
    ],
)
def test_an_xml_value_holding_a_closing_angle_bracket_goes_whole(element: str) -> None:
    """A secret's attribute value holding a `>` (legal inside an XML attribute) goes whole: the
    tag is read to its own `>`, not to the value's."""
    value = f"a>{_random(10)}"
    given = element.format(v=value)
    assert _text(given) == given.replace(value, P)


def test_an_xml_attribute_holding_a_closing_angle_bracket_names_nothing_else() -> None:
    """A `>` inside another attribute's quotes, or a plain value's, changes nothing kept."""
    given = '<add key="Port" value="5>4" /> <a title="x>y" href="/p">docs</a> <b class=x>it\'s</b>'
    assert _text(given) == given


# --- a vendor's token cut short with no ellipsis (closed in round 26) -----------------------------


@pytest.mark.parametrize(
    "cut",
    [
        "glptt-96f1db2fc3c",
        "ntn_84058566",
        "pat.JLHMl7RCTkernFzC",
        "xai-Y4uCFIlayII7zlZcHGuWyvfXpxEFHQybtu7zHDjyNwEp7eU0odT8QmGB42dvFVXWVZxV2APBxc8e",
    ],
)
def test_a_vendor_token_cut_short_without_an_ellipsis_goes(cut: str) -> None:
    """A token's prefix and a cut body, followed by text as a limit leaves it, loses the body."""
    assert cut.split("_")[-1][-8:] not in _text(f"from {cut}: to operational")


# --- every way out ------------------------------------------------------------------------------


def _secrets() -> list[Secret]:
    printed, word, quoted = _random(12), _random(14), _random(16)
    key = base64.b64encode(bytes(_RANDOM.randrange(256) for _ in range(64))).decode()
    signing = _random(16)
    return [
        Secret(
            "jwt-signing-key",
            f'    signed = jwt.sign(claims, "{signing}", {{ expiresIn: "1h" }})',
            (signing,),
        ),
        Secret(
            "printed-credentials",
            f"connect failed: DbCredentials(app,{printed},db:5432)",
            (printed,),
        ),
        Secret("pass-word", f"[mysql]\npass_word={word}\nhost=db", (word,)),
        Secret("client-key-data", f"    client-key-data: {key}", (key[8:48],)),
        Secret(
            "quoted-authorization",
            f'curl -H "Authorization: api-{quoted}" https://host/path',
            (quoted,),
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
