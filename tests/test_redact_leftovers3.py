"""Redaction's leftovers, by class, each in four places alert text carries it (a log line, a
JSON string's value, a YAML block, a shell's trace): a vendor's key name (`service_key`,
`integration_key`, `app_key`, …) holding a plain word, which names a thing and stays, while a
key under the same name still goes; a literal after a bare `,`, `[`, `{`, `&&` or `and` before
code that reads a secret; a literal holding the other kind of quote (`'pa"ss'`, `"it's"`).

Every secret-like value here is made up for the test; nothing is a credential.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from itertools import product
from typing import Any

import pytest

from case_chunks import assert_each, dealt
from triage.redact import Redactor

REDACTOR = Redactor()
X = "[REDACTED:password]"
#: PagerDuty's integration keys (32 hex, or 32 letters and digits) and a key cut short.
HEX32 = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
KEY32 = "Zk3q9WmX2pLr8TvB4nYc7Hd1Qa5Ew6Rt"


def _redacted(text: str) -> str:
    """The redactor's pass over `text`, without the memo of short texts."""
    return REDACTOR._redacted(text, ())


#: Where alert text carries a snippet: each wraps it as that place writes it.
CONTEXTS: dict[str, Callable[[str], str]] = {
    "log line": lambda t: f"2026-12-05T02:14:07Z ERROR worker-3 deploy failed: {t}",
    "json string": lambda t: json.dumps({"message": t, "level": "error"}),
    "yaml": lambda t: f"alert:\n  description: |\n{textwrap.indent(t, '    ')}\n  team: pay\n",
    "shell": lambda t: f"$ ./deploy.sh\n+ {t}\n./deploy.sh: line 3: exit status 1",
}


def _leaked(secret: str, out: str) -> bool:
    """Whether any 8-character run of `secret` is in `out`."""
    return any(secret[i : i + 8] in out for i in range(len(secret) - 7))


def _unless(ok: bool, shown: Any) -> Any:
    """None when a case's check holds, else what it gave, to name it with the case."""
    return None if ok else shown


#: Each case is a regex pass over a few lines, far under the ~1.5 ms of CPU a pytest item costs
#: of its own, so they run as a few items per test (tests/case_chunks.py), each failing case
#: named with what it gave.
CHUNKS = 2


# --- 1. A vendor's key name: a plain word names a thing, a key's shape is a key.

#: Names of keys a vendor issues (generated, never a word), as a name, camel case and an option.
ISSUED_KEY_NAMES = [
    ("service_key", "serviceKey", "--service-key"),
    ("integration_key", "integrationKey", "--integration-key"),
    ("routing_key", "routingKey", "--routing-key"),
    ("app_key", "appKey", "--app-key"),
    ("application_key", "applicationKey", "--application-key"),
    ("license_key", "licenseKey", "--license-key"),
    ("insert_key", "insertKey", "--insert-key"),
    ("sdk_key", "sdkKey", "--sdk-key"),
    ("subscription_key", "subscriptionKey", "--subscription-key"),
    ("functions_key", "functionsKey", "--functions-key"),
]


def _forms(names: tuple[str, str, str], value: str) -> list[str]:
    """`value` under a key's name in every form alert text writes it."""
    snake, camel, option = names
    header = "-".join(part.capitalize() for part in option.lstrip("-").split("-"))
    return [
        f"{snake}: {value}",
        f"{snake}={value}",
        f"{snake.upper()}={value}",
        f"PAGERDUTY_{snake.upper()}={value}",
        f"export {snake.upper()}={value}",
        f'{camel}: "{value}"',
        f"{option} {value}",
        f"{option}={value}",
        f"<{camel}>{value}</{camel}>",
        f"X-{header}: {value}",
        json.dumps({snake: value, "event_action": "trigger"}),
    ]


WORDS = ["payments", "checkout-api", "orders.created", "critical"]
KEYS = [HEX32, KEY32, "R0a1b2c3d4e5f6", "Pq7Xz2Lm9Kd4Vb8N"]


#: (value, the key's names, context): each value under every name, in every place.
WORDS_UNDER_NAMES = list(product(WORDS, ISSUED_KEY_NAMES, sorted(CONTEXTS)))
KEYS_UNDER_NAMES = list(product(KEYS, ISSUED_KEY_NAMES, sorted(CONTEXTS)))
Named = tuple[str, tuple[str, str, str], str]


def _words_changed(case: Named) -> tuple[list[str], list[str]]:
    """The forms whose redaction is not the text itself (none expected)."""
    word, names, context = case
    wrapped = [CONTEXTS[context](form) for form in _forms(names, word)]
    return [out for text in wrapped if (out := _redacted(text)) != text], []


def _keys_left(case: Named) -> tuple[list[str], list[str]]:
    """The redacted forms that still hold the key or a run of it (none expected)."""
    key, names, context = case
    outs = [_redacted(CONTEXTS[context](form)) for form in _forms(names, key)]
    return [out for out in outs if key in out or _leaked(key, out)], []


@pytest.mark.parametrize("cases", dealt(WORDS_UNDER_NAMES, CHUNKS))
def test_a_vendors_key_name_keeps_a_plain_word(cases: list[Named]) -> None:
    """A word under a vendor's key name (a service's name, a topic) stays, in every form."""
    assert_each(cases, _words_changed, name="word/names/context")


@pytest.mark.parametrize("cases", dealt(KEYS_UNDER_NAMES, CHUNKS))
def test_a_vendors_key_name_loses_a_key(cases: list[Named]) -> None:
    """A key's shape (hex, random letters and digits, a word with digits) under the same names
    goes, in every form."""
    assert_each(cases, _keys_left, name="key/names/context")


#: Names of keys a person may choose (Meilisearch's master key, WordPress's AUTH_KEY phrase,
#: a signing or encryption passphrase, an API key in a dev config): a word under them goes.
CHOSEN_KEY_NAMES = ["master_key", "auth_key", "api_key", "signing_key", "encryption_key"]


def test_a_chosen_keys_word_still_goes() -> None:
    """A plain word under a key's name that a person chooses is still redacted."""
    assert_each(
        CHOSEN_KEY_NAMES,
        lambda name: (
            (_redacted(f"{name}: payments"), REDACTOR.value({name: "payments"})),
            (f"{name}: {X}", {name: X}),
        ),
        name="name",
    )


def test_a_vendors_key_names_json_value_goes_only_when_shaped_like_a_key() -> None:
    """A JSON payload's vendor key keeps a word and loses a key, under each spelling."""
    spellings = [name for names in ISSUED_KEY_NAMES for name in names[:2]]
    assert_each(
        spellings,
        lambda name: (
            [REDACTOR.value({name: value}) for value in ("payments", HEX32, "payments2")],
            [{name: "payments"}, {name: X}, {name: X}],
        ),
        name="name",
    )


# --- 2. A literal heading an operand after any punctuation, before code that reads a secret.

#: A password a person chose: nothing a shape rule knows.
PW = "hunter2-long-secret"

LITERALS_BEFORE_A_READ = [
    f'call(user, "{PW}" or os.environ["DB_PASSWORD"])',
    f'call(user,"{PW}" or os.environ["DB_PASSWORD"])',
    f'headers = ["X-Api-Key", "{PW}" || process.env.API_KEY]',
    f'args = ["{PW}" or os.getenv("API_TOKEN")]',
    f"f(a, ['{PW}' ?? process.env.API_KEY])",
    f"f(a, '{PW}' if debug else os.environ[\"DB_PASSWORD\"])",
    f'cfg = {{ "{PW}" || ENV["API_KEY"] }}',
    f'x = ok && "{PW}" || process.env.API_TOKEN',
    f'x = debug and "{PW}" or os.getenv("API_TOKEN")',
    f'x = a; "{PW}" || process.env.API_TOKEN',
    f'    "{PW}" or os.environ["DB_PASSWORD"]',
    f'"{PW}" or os.environ["DB_PASSWORD"]',
    f'x = prefix + "{PW}" or os.environ["DB_PASSWORD"]',
]


def _literal_or_read_wrong(case: tuple[str, str]) -> tuple[str | None, None]:
    """The output if the password survives or the read of the secret is gone, else None."""
    text, context = case
    out = _redacted(CONTEXTS[context](text))
    code_kept = "API_" in out or "DB_PASSWORD" in out
    return _unless(not _leaked(PW, out) and code_kept, out), None


def test_a_literal_after_any_punctuation_before_a_secrets_read_goes() -> None:
    """A literal heading an operand (after `,`, `[`, `{`, `&&`, `and`, `;`, `+`, a line's
    start) before code that reads a secret loses its text; the code stays."""
    cases = list(product(LITERALS_BEFORE_A_READ, sorted(CONTEXTS)))
    assert_each(cases, _literal_or_read_wrong, name="text/context")


ORDINARY_LITERALS = [
    'call(user, "db.internal" or os.environ["DB_HOST"])',
    'headers = ["X-Request-Id", "abc" || process.env.REQUEST_ID]',
    'args = ["--verbose", "--dry-run"]',
    '{"a": "b", "c": ["d", "e"]}',
    'x = ok && "" || process.env.API_TOKEN',
    'f(a, "up" if ok else "down")',
]


def test_a_literal_before_a_read_of_no_secret_stays() -> None:
    """A literal after the same punctuation, beside a read of no secret, stays whole."""
    wrapped = [CONTEXTS[context](text) for text in ORDINARY_LITERALS for context in CONTEXTS]
    assert_each(wrapped, lambda text: (_redacted(text), text), name="text")


# --- 3. A literal holding the other kind of quote, or its own kind escaped.

QUOTED = ['pa"ss-w0rd-4217', "it's-s3cret-4217", "pa`ss-w0rd-4217"]


def _quoted(value: str) -> list[str]:
    """`value` as a literal in each quote that can hold it unescaped (never its own kind)."""
    return [f"{q}{value}{q}" for q in "\"'`" if q not in value]


LITERAL_FORMS = [
    "x = {lit} or os.environ['DB_PASSWORD']",
    "x = {lit} if c else os.environ['DB_PASSWORD']",
    "x = {lit} || process.env.API_TOKEN",
    "x = c ? {lit} : process.env.API_TOKEN",
    "x = os.environ.get('DB_PASSWORD') or {lit}",
    "x = process.env.API_TOKEN ?? {lit}",
    "os.getenv('DB_PASSWORD', {lit})",
    "password = {lit}",
    "DB_PASSWORD={lit} ./run",
    "--password {lit}",
    "setPassword({lit})",
    "define('DB_PASSWORD', {lit});",
    "${{DB_PASSWORD:-{lit}}}",
]


def _quoted_left(case: tuple[str, str, str]) -> tuple[list[str], list[str]]:
    """The redacted texts, one per quote that can hold the value, still holding a run of it."""
    value, form, context = case
    texts = [CONTEXTS[context](form.format(lit=literal)) for literal in _quoted(value)]
    return [out for text in texts if _leaked(value, out := _redacted(text))], []


@pytest.mark.parametrize("cases", dealt(list(product(QUOTED, LITERAL_FORMS, CONTEXTS)), CHUNKS))
def test_a_literal_holding_another_quote_goes(cases: list[tuple[str, str, str]]) -> None:
    """A literal holding a quote of another kind than its own loses all its text."""
    assert_each(cases, _quoted_left, name="value/form/context")


# --- 3b. A quoted value inside a JSON string, its quotes escaped (`\"…\"`).

JSON_QUOTED = "s3cr3t-literal-42"

QUOTED_IN_COMMANDS = [
    f'--password "{JSON_QUOTED}"',
    f'mysql -uroot -p"{JSON_QUOTED}" db',
    f'sshpass -p "{JSON_QUOTED}" ssh host',
    f'redis-cli -a "{JSON_QUOTED}" ping',
    f'docker login -p "{JSON_QUOTED}" registry.example.com',
    f'rabbitmqctl add_user bob "{JSON_QUOTED}"',
    f'keytool -storepass "{JSON_QUOTED}"',
    f'set password "{JSON_QUOTED}"',
    f'vault login "{JSON_QUOTED}"',
    f'gh secret set X --body "{JSON_QUOTED}"',
    f'echo "{JSON_QUOTED}" | docker login --password-stdin',
    f'-Password "{JSON_QUOTED}"',
    f'requirepass "{JSON_QUOTED}"',
    f'machine h login u password "{JSON_QUOTED}"',
    f'htpasswd -b f bob "{JSON_QUOTED}"',
    f'CREATE USER u IDENTIFIED BY "{JSON_QUOTED}"',
    f'SET PASSWORD FOR u = "{JSON_QUOTED}"',
    f'setPassword("{JSON_QUOTED}")',
    f'curl -u bob:"{JSON_QUOTED}" https://api.example.com',
    f"curl -u bob:'{JSON_QUOTED}' https://api.example.com",
    f'curl -u "bob:{JSON_QUOTED}" https://api.example.com',
    f'set -gx API_TOKEN "{JSON_QUOTED}"',
    f'7z x -p"{JSON_QUOTED}" backup.7z',
    f'docker login -p"{JSON_QUOTED}" registry.example.com',
]


def _raw_and_in_json(text: str) -> tuple[tuple[str, str] | None, None]:
    """The raw and JSON redactions if the secret survives either or the JSON breaks, else None."""
    raw = _redacted(text)
    out = _redacted(json.dumps({"message": text, "level": "error"}))
    try:
        still_json = json.loads(out)["level"] == "error"
    except ValueError:
        still_json = False
    ok = not _leaked(JSON_QUOTED, raw) and not _leaked(JSON_QUOTED, out) and still_json
    return _unless(ok, (raw, out)), None


def test_a_double_quoted_value_goes_in_text_and_inside_a_json_string() -> None:
    """A double-quoted password goes raw and inside a JSON string (quotes escaped), and the
    JSON stays JSON: the value's closing `\\"` is kept."""
    assert_each(QUOTED_IN_COMMANDS, _raw_and_in_json, name="text")


def test_a_shell_defaults_quoted_literal_goes_and_its_separator_stays() -> None:
    """`${DB_PASSWORD:-"…"}` keeps `${DB_PASSWORD:-` and its quotes, with one placeholder."""
    assert_each(
        ['"', "'"],
        lambda q: (
            _redacted(f"${{DB_PASSWORD:-{q}{JSON_QUOTED}{q}}}"),
            f"${{DB_PASSWORD:-{q}{X}{q}}}",
        ),
        name="quote",
    )


def test_a_pipe_tables_row_at_a_json_strings_start_loses_its_secret() -> None:
    """A Markdown row naming a secret loses its cell raw and as a JSON string's whole text."""
    rows = ["| Password | {v} |", "|password|{v}|", "  | DB_PASSWORD | {v} |"]
    assert_each([row.format(v=JSON_QUOTED) for row in rows], _raw_and_in_json, name="row")
