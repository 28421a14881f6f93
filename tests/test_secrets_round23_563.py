"""Round 23 (helper 563): formats a credential is logged in that no rule read: a character JSON
escaped (`\\u003d`, as Gson writes `=`) inside a log line quoted into another's JSON string; a
literal given after a constant named like a secret (JNDI's `Context.SECURITY_CREDENTIALS`,
Kafka's `SSL_KEYSTORE_PASSWORD_CONFIG`); `GIT_ASKPASS="echo …"`; a login's credentials object
built inside the login call (Spring's `authenticate(new UsernamePasswordAuthenticationToken(u,
"…"))`, Shiro's `UsernamePasswordToken`, `BasicCredentials`). Each goes while ordinary text
around it stays, and on every way out (the egress audit's rig)."""

from __future__ import annotations

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
_RANDOM = random.Random(563)
_ALNUM = string.ascii_letters + string.digits


def _text(text: str) -> str:
    """`text` as the redactor writes it."""
    return Redactor().text(text)


def _random(count: int) -> str:
    return "".join(_RANDOM.choice(_ALNUM) for _ in range(count))


def _quoted(text: str, times: int) -> str:
    """`text` as a JSON string's value, `times` times over (a log line in a log line)."""
    for _ in range(times):
        text = json.dumps({"message": text})
    return text


# --- a JSON \u escape escaped again --------------------------------------------------------------

ESCAPED = _random(16)
GSON_LINES = [
    '{"msg":"login password\\u003d' + ESCAPED + ' failed"}',
    '{"msg":"DB_PASSWORD\\u003d' + ESCAPED + '"}',
    '{"msg":"\\u003cpassword\\u003e' + ESCAPED + '\\u003c/password\\u003e"}',
    '{"msg":"GET /cb?user=bob\\u0026password\\u003d' + ESCAPED + '\\u0026next=1"}',
    '{"msg":"conn \\u0027password\\u0027: \\u0027' + ESCAPED + '\\u0027"}',
]


@pytest.mark.parametrize("line", GSON_LINES, ids=["equals", "env", "xml", "query", "quote"])
@pytest.mark.parametrize("times", [1, 2], ids=["in-json", "in-json-in-json"])
def test_a_secret_behind_a_json_escape_escaped_again_goes(line: str, times: int) -> None:
    """A log line whose `=`, `<`, `&` or `'` is a JSON escape (Gson's `\\u003d`, Go's
    `\\u003c`), quoted into another JSON string once or twice, loses its secret; every other
    byte, the escapes too, stays as it was."""
    given = _quoted(line, times)
    assert _text(given) == given.replace(ESCAPED, P)


@pytest.mark.parametrize(
    "line",
    [
        '{"msg":"a\\u003db and \\u003ctag\\u003e \\u0026 \\u0027quoted\\u0027"}',
        '{"path":"C:\\\\users\\\\u0041dmin\\\\tokens","n":1}',
        '{"msg":"token_ttl\\u003d3600 password_min_length\\u003d12"}',
    ],
    ids=["punctuation", "windows-path", "settings-without-secrets"],
)
def test_escapes_escaped_again_without_a_secret_stay(line: str) -> None:
    """Text behind such escapes that holds no secret (punctuation, a Windows path whose
    folder starts with `u` and hex, settings named like no secret) stays byte for byte."""
    given = _quoted(line, 1)
    assert _text(given) == given


# --- a literal after a constant named like a secret ---------------------------------------------

CONSTANT = _random(14)


@pytest.mark.parametrize(
    "given",
    [
        f'env.put(Context.SECURITY_CREDENTIALS, "{CONSTANT}");',
        f'env.put(javax.naming.Context.SECURITY_CREDENTIALS, "{CONSTANT}");',
        f'props.put(SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG, "{CONSTANT}");',
        f'props.put(SslConfigs.SSL_KEY_PASSWORD_CONFIG, "{CONSTANT}");',
        f'cfg.put(StreamsConfig.APPLICATION_SECRET, "{CONSTANT}")',
        f"opts.put(PASSWORD, '{CONSTANT}')",
        f'$cfg->set(Config::DB_PASSWORD, "{CONSTANT}");',
        json.dumps({"trace": f'at Ldap.bind: env.put(Context.SECURITY_CREDENTIALS, "{CONSTANT}")'}),
    ],
    ids=["jndi", "jndi-qualified", "kafka-keystore", "kafka-key", "streams", "bare", "php", "json"],
)
def test_a_literal_after_a_constant_named_like_a_secret_goes(given: str) -> None:
    """A call's literal after an unquoted constant naming a secret (JNDI's
    `Context.SECURITY_CREDENTIALS`, Kafka's `…_PASSWORD_CONFIG`, a bare `PASSWORD`, PHP's
    `Config::DB_PASSWORD`) goes, its quotes and the call kept; raw and inside a JSON string."""
    assert _text(given) == given.replace(CONSTANT, P)


@pytest.mark.parametrize(
    "given",
    [
        'env.put(Context.SECURITY_PRINCIPAL, "cn=admin,dc=example,dc=org");',
        'log.error(ERR_BAD_TOKEN, "token rejected for bob");',
        'check(PASSWORD_MIN_LENGTH, "12")',
        'cfg.put(API_TOKEN, "${API_TOKEN}")',
        'props.put(SaslConfigs.SASL_MECHANISM_CONFIG, "PLAIN")',
        "env.put(Context.SECURITY_CREDENTIALS, secret);",
    ],
    ids=["principal", "message", "length", "placeholder", "mechanism", "variable"],
)
def test_a_literal_after_another_constant_stays(given: str) -> None:
    """A literal after a constant that names no secret, a message (prose) under one named
    like an error about a secret, a template's placeholder and a variable stay."""
    assert _text(given) == given


# --- a password command that echoes it ----------------------------------------------------------

ASKED = _random(12)


@pytest.mark.parametrize(
    "given",
    [
        f"GIT_ASKPASS=echo {ASKED} git clone https://git.example.com/a/b.git",
        f'export GIT_ASKPASS="echo {ASKED}"',
        f"SSH_ASKPASS='printf {ASKED}' SSH_ASKPASS_REQUIRE=force ssh deploy@db",
    ],
    ids=["inline", "exported", "ssh"],
)
def test_an_askpass_that_echoes_the_password_loses_it(given: str) -> None:
    """`GIT_ASKPASS` or `SSH_ASKPASS` set to a command that prints the password: the password
    goes, the command and the rest of the line stay."""
    assert _text(given) == given.replace(ASKED, P)


@pytest.mark.parametrize(
    "given",
    [
        "GIT_ASKPASS=/tmp/askpass.sh git push",
        'env GIT_ASKPASS="echo $GIT_TOKEN" git push',
        "SSH_ASKPASS=/usr/lib/ssh/ssh-askpass",
    ],
    ids=["script", "variable", "program"],
)
def test_an_askpass_that_runs_a_program_or_reads_a_variable_stays(given: str) -> None:
    """An askpass that names a program, or echoes a variable's reference, holds no password."""
    assert _text(given) == given


# --- a login's credentials object built inside the login call -----------------------------------

LOGIN = _random(13)


@pytest.mark.parametrize(
    "given",
    [
        f'authManager.authenticate(new UsernamePasswordAuthenticationToken("bob", "{LOGIN}"))',
        f'subject.login(new UsernamePasswordToken("bob", "{LOGIN}"));',
        f'subject.login(new UsernamePasswordCredentials("bob", "{LOGIN}"))',
        f'Credentials c = new BasicCredentials("bob", "{LOGIN}");',
    ],
    ids=["spring", "shiro", "httpclient-in-login", "basic-credentials"],
)
def test_a_credentials_object_built_inside_a_login_call_loses_its_password(given: str) -> None:
    """A credentials object's password goes when the object is built among a login call's
    arguments (the outer call's match held it), and in Shiro's and Dropwizard's types; the
    user stays."""
    assert _text(given) == given.replace(LOGIN, P)


def test_a_login_call_without_a_literal_password_stays() -> None:
    """Credentials built from variables hold no literal to take."""
    given = "authManager.authenticate(new UsernamePasswordAuthenticationToken(user, pw))"
    assert _text(given) == given


# --- PHP's var_dump, joined, escaped or as Xdebug writes it ------------------------------------

DUMPED = _random(15)
VAR_DUMP = (
    f'array(2) {{\n  ["user"]=>\n  string(3) "bob"\n  ["password"]=>\n  string(15) "{DUMPED}"\n}}\n'
)


@pytest.mark.parametrize(
    "given",
    [
        json.dumps({"message": VAR_DUMP}),
        " ".join(VAR_DUMP.split()),
        VAR_DUMP.replace('["password"]', '["password":protected]').replace("\n", "\r\n"),
        f"array(2) {{\n  'user' =>\n  string(3) \"bob\"\n  'password' =>\n  string(15) \"{DUMPED}\"\n}}",
        f'class App\\Db#3 (1) {{\n  protected $password =>\n  string(15) "{DUMPED}"\n}}',
    ],
    ids=[
        "in-a-json-string",
        "joined-on-one-line",
        "property-crlf",
        "xdebug-key",
        "xdebug-property",
    ],
)
def test_a_var_dumps_secret_string_goes(given: str) -> None:
    """PHP's var_dump of a string under a secret's name loses it inside a JSON string, joined
    on one line, as an object's property, and as Xdebug writes a key or a property."""
    shown = _text(given)
    assert DUMPED[:8] not in shown and shown.count('"bob"') == given.count('"bob"')


def test_a_var_dump_on_one_line_keeps_what_follows_a_secret() -> None:
    """On one line, the secret's string ends at its quote: the next element and its value
    stay, and a value named like no secret stays."""
    given = (
        'array(3) { ["ttl"]=> string(4) "3600" ["api_key"]=> string(6) "k1 }[x"'
        ' ["user"]=> string(3) "bob" }'
    )
    assert _text(given) == given.replace('string(6) "k1 }[x', f'string(19) "{P}')


# --- a vendor's token not read before ------------------------------------------------------------


def test_a_clickup_personal_token_goes_and_a_stripe_publishable_key_stays() -> None:
    """ClickUp's `pk_<user id>_<32 capitals and digits>` goes; Stripe's publishable `pk_live_`
    key (public by design) and a word after `pk_` stay."""
    token = (
        "pk_"
        + "".join(_RANDOM.choice(string.digits) for _ in range(8))
        + "_"
        + "".join(_RANDOM.choice(string.ascii_uppercase + string.digits) for _ in range(32))
    )
    given = f"clickup token {token} then pk_live_51Habcdefghij and pk_table_name"
    assert _text(given) == given.replace(token, "[REDACTED:token]")


# --- a tab-separated listing whose first value is a word in capitals ---------------------------

CAPS_KEY = "".join(_RANDOM.choice(string.ascii_uppercase) for _ in range(20))
LISTED = _random(18)


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (
            f"API_KEY\t{CAPS_KEY}\nDB_PASSWORD\t{LISTED}\nAPP_ENV\tprod",
            f"API_KEY\t{P}\nDB_PASSWORD\t{P}\nAPP_ENV\tprod",
        ),
        (
            f"DB_PASSWORD\tHUNTERTWO\r\nAPI_KEY\t{LISTED}\r\nDEBUG\tfalse",
            f"DB_PASSWORD\t{P}\r\nAPI_KEY\t{P}\r\nDEBUG\tfalse",
        ),
    ],
    ids=["key-in-capitals", "password-in-capitals-crlf"],
)
def test_a_listing_whose_first_secret_is_in_capitals_loses_every_secret(
    given: str, shown: str
) -> None:
    """A `NAME<TAB>value` listing whose first value is a word in capitals is no table under a
    header when a line below names a secret too: every secret's value goes, every name stays."""
    assert _text(given) == shown


def test_a_table_headed_in_capitals_still_loses_its_column() -> None:
    """`PASSWORD<TAB>USER` above rows of data (no row names a secret) still heads a table."""
    shown = _text("PASSWORD\tUSER\nHUNTER2X\tbob\nZEBRA99Q\talice")
    assert "HUNTER2X" not in shown and "ZEBRA99Q" not in shown and "alice" in shown


# --- every path out of the process ------------------------------------------------------------


def _secrets() -> list[Secret]:
    """This round's classes, made from the seeded generator, each with its random parts."""
    escaped, constant, asked, login = _random(16), _random(14), _random(12), _random(13)
    kafka, listed, dumped = _random(15), _random(18), _random(15)
    return [
        Secret(
            "gson-in-json",
            _quoted('{"msg":"login password\\u003d' + escaped + ' failed"}', 1),
            (escaped,),
        ),
        Secret("jndi", f'env.put(Context.SECURITY_CREDENTIALS, "{constant}");', (constant,)),
        Secret(
            "kafka-config",
            f'props.put(SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG, "{kafka}");',
            (kafka,),
        ),
        Secret("git-askpass", f'GIT_ASKPASS="echo {asked}" git push', (asked,)),
        Secret(
            "spring-login",
            f'authenticate(new UsernamePasswordAuthenticationToken("bob", "{login}"))',
            (login,),
        ),
        Secret(
            "var-dump-in-json",
            json.dumps({"m": f'array(1) {{\n  ["db_password"]=>\n  string(15) "{dumped}"\n}}'}),
            (dumped,),
        ),
        Secret(
            "tsv-capitals-first",
            f"API_KEY\tQWERTYUIOPASDFGHJKLZ\nDB_PASSWORD\t{listed}\nAPP_ENV\tprod",
            ("QWERTYUIOPASDFGHJKLZ", listed),
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
