"""A password in double quotes that holds a quote escaped by a backslash (`"p4ss\\"w0rd"`, as
a shell, redis-cli and MONITOR write it) goes whole: raw, inside a JSON string (where the
escape reads `\\\\\\"`) and inside JSON quoted in a JSON string. Redis's AUTH in every form
first, then the commands, pairs and told secrets that read a quoted value the same way.

Every secret-like value here is made up for the test; nothing is a credential.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from triage.redact import Redactor

REDACTOR = Redactor()
#: The two halves of the password, either side of its escaped quote: neither may be left.
HEAD, TAIL = "Qv8pass", "Zk4word"
#: The password as a shell's (or redis-cli's) double-quoted argument writes it.
QUOTED = f'"{HEAD}\\"{TAIL}"'


def _redacted(text: str) -> str:
    """The redactor's pass over `text`, without the memo of short texts."""
    return REDACTOR._redacted(text, ())


#: How deep the snippet is quoted: as written, in a JSON string, in JSON in a JSON string.
LEVELS: dict[str, Callable[[str], str]] = {
    "raw": lambda t: t,
    "json string": lambda t: json.dumps({"msg": t, "level": "error"}),
    "json in json": lambda t: json.dumps({"log": json.dumps({"msg": t})}),
}

REDIS_FORMS = [
    "redis-cli -a {pw} ping",
    "redis-cli -h db -a {pw} --no-auth-warning ping",
    "redis-cli --pass {pw} ping",
    "redis-cli --user app --pass {pw} ping",
    "redis-cli -h db AUTH app {pw}",
    "AUTH app {pw}",
    "AUTH {pw}",
    "auth default {pw}",
    "127.0.0.1:6379> AUTH app {pw}",
    "127.0.0.1:6379> AUTH {pw}",
    "CONFIG SET requirepass {pw}",
    "requirepass {pw}",
    "masterauth {pw}",
    "HELLO 3 AUTH app {pw}",
    "MIGRATE db 6379 key 0 5000 AUTH {pw}",
    "MIGRATE db 6379 key 0 5000 AUTH2 app {pw} KEYS a b",
    "sentinel auth-pass mymaster {pw}",
    "SENTINEL SET mymaster auth-pass {pw}",
    "ACL SETUSER app on >{pw} ~* +@all",
]

OTHER_FORMS = [
    "mysql -u root -p{pw} db",
    "mysql -u root --password={pw} db",
    "sshpass -p {pw} ssh h",
    "docker login -u me -p {pw} registry",
    "mongo -p {pw} admin",
    "keytool -storepass {pw} -list",
    "htpasswd -b users.htpasswd u {pw}",
    "curl -u admin:{pw} https://x.example.com",
    "PGPASSWORD={pw} psql -h db",
    "export DB_PASSWORD={pw}",
    "password={pw}",
    "the password is {pw}",
    # Code and configuration that quote a literal as a shell does.
    'conn = connect(host="db", password={pw})',
    "const password = {pw};",
    'os.getenv("DB_PASSWORD", {pw})',
    'x = os.environ.get("DB_PASSWORD") or {pw}',
    "user.setPassword({pw});",
    'define("DB_PASSWORD", {pw});',
    "${{DB_PASSWORD:-{pw}}}",
    "docker run -e DB_PASSWORD={pw} app",
    "machine h.example.com login u password {pw}",
    "ENV DB_PASSWORD {pw}",
    "CREATE USER app IDENTIFIED BY {pw};",
    "git config --global user.password {pw}",
    "rabbitmqctl add_user app {pw}",
    "smbclient -U bob%{pw} //h/s",
    "-Password {pw}",
    "echo {pw} | docker login -u me --password-stdin",
    "api_key = {pw}",
]


def _left(out: str) -> list[str]:
    """The halves of the password still in `out`."""
    return [half for half in (HEAD, TAIL) if half in out]


@pytest.mark.parametrize("level", sorted(LEVELS))
@pytest.mark.parametrize("form", REDIS_FORMS)
def test_a_redis_password_holding_an_escaped_quote_goes_whole(form: str, level: str) -> None:
    """Redis's AUTH, requirepass and redis-cli -a lose a password holding `\\"` whole."""
    out = _redacted(LEVELS[level](form.format(pw=QUOTED)))
    assert not _left(out), out


@pytest.mark.parametrize("level", sorted(LEVELS))
@pytest.mark.parametrize("form", OTHER_FORMS)
def test_a_quoted_password_holding_an_escaped_quote_goes_whole(form: str, level: str) -> None:
    """A command's, a pair's or a told password holding `\\"` loses both its halves."""
    out = _redacted(LEVELS[level](form.format(pw=QUOTED)))
    assert not _left(out), out


@pytest.mark.parametrize("level", sorted(LEVELS))
def test_what_follows_the_closing_quote_stays(level: str) -> None:
    """The quoted password ends at its own closing quote: the command after it stays."""
    text = LEVELS[level](f"redis-cli -a {QUOTED} --no-auth-warning ping")
    out = _redacted(text)
    assert "--no-auth-warning ping" in out, out


@pytest.mark.parametrize("level", sorted(LEVELS))
def test_a_password_ending_in_an_escaped_backslash_ends_at_its_quote(level: str) -> None:
    """`"…\\\\"` is a password ending in a backslash: its closing quote ends it, the rest stays."""
    text = LEVELS[level](f'redis-cli -a "{HEAD}\\\\" --no-auth-warning ping')
    out = _redacted(text)
    assert HEAD not in out, out
    assert "--no-auth-warning ping" in out, out


@pytest.mark.parametrize(
    "text",
    [
        "HELLO 3",
        "sentinel monitor mymaster 10.0.0.1 6379 2",
        "MIGRATE db 6379 key 0 5000 COPY",
        "migrate failed: auth required",
    ],
)
def test_redis_commands_without_a_password_stay(text: str) -> None:
    """Redis commands that carry no password, beside those that do, are kept."""
    assert _redacted(text) == text


def test_the_json_string_stays_json() -> None:
    """Redacting a JSON string holding the escaped quote leaves JSON that still parses."""
    out = _redacted(LEVELS["json string"](f"AUTH app {QUOTED}"))
    assert json.loads(out)["level"] == "error"


#: The password as Python's repr writes a text holding both kinds of quote: single quotes,
#: the single quote inside escaped.
REPR = f"'{HEAD}\\'s\"{TAIL}'"

REPR_FORMS = [
    "Settings(db_password={pw}, host='db')",
    "{{'user': 'app', 'password': {pw}}}",
    "password = {pw}",
    "os.getenv('DB_PASSWORD', {pw})",
    "conn = connect(password={pw})",
    "[('Cookie', {pw})]",
]


@pytest.mark.parametrize("level", sorted(LEVELS))
@pytest.mark.parametrize("form", REPR_FORMS)
def test_a_repr_holding_an_escaped_single_quote_goes_whole(form: str, level: str) -> None:
    """A single-quoted literal holding `\\'` (a repr, a stack trace's locals) loses both halves."""
    out = _redacted(LEVELS[level](form.format(pw=REPR)))
    assert not _left(out), out


@pytest.mark.parametrize("level", ["json string", "json in json"])
def test_a_repr_inside_json_stays_json(level: str) -> None:
    """A JSON string holding a repr's escaped quote, read a level down, is JSON afterwards."""
    out = _redacted(LEVELS[level](f"Settings(db_password={REPR}, host='db')"))
    decoded = json.loads(out)
    if level == "json in json":
        decoded = json.loads(decoded["log"])
    assert decoded["msg"] == "Settings(db_password='[REDACTED:password]', host='db')"


def test_what_follows_a_repr_literal_stays() -> None:
    """The literal ends at its own closing quote: the next argument stays."""
    out = _redacted(f"Settings(db_password={REPR}, host='db')")
    assert out.endswith(", host='db')"), out
