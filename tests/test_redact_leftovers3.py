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

import pytest

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


@pytest.mark.parametrize("context", sorted(CONTEXTS))
@pytest.mark.parametrize("names", ISSUED_KEY_NAMES, ids=[n[0] for n in ISSUED_KEY_NAMES])
@pytest.mark.parametrize("word", WORDS)
def test_a_vendors_key_name_keeps_a_plain_word(
    names: tuple[str, str, str], word: str, context: str
) -> None:
    """A word under a vendor's key name (a service's name, a topic) stays, in every form."""
    for form in _forms(names, word):
        wrapped = CONTEXTS[context](form)
        assert _redacted(wrapped) == wrapped


@pytest.mark.parametrize("context", sorted(CONTEXTS))
@pytest.mark.parametrize("names", ISSUED_KEY_NAMES, ids=[n[0] for n in ISSUED_KEY_NAMES])
@pytest.mark.parametrize("key", KEYS)
def test_a_vendors_key_name_loses_a_key(
    names: tuple[str, str, str], key: str, context: str
) -> None:
    """A key's shape (hex, random letters and digits, a word with digits) under the same names
    goes, in every form."""
    for form in _forms(names, key):
        out = _redacted(CONTEXTS[context](form))
        assert key not in out and not _leaked(key, out), out


#: Names of keys a person may choose (Meilisearch's master key, WordPress's AUTH_KEY phrase,
#: a signing or encryption passphrase, an API key in a dev config): a word under them goes.
CHOSEN_KEY_NAMES = ["master_key", "auth_key", "api_key", "signing_key", "encryption_key"]


@pytest.mark.parametrize("name", CHOSEN_KEY_NAMES)
def test_a_chosen_keys_word_still_goes(name: str) -> None:
    """A plain word under a key's name that a person chooses is still redacted."""
    assert _redacted(f"{name}: payments") == f"{name}: {X}"
    assert REDACTOR.value({name: "payments"}) == {name: X}


@pytest.mark.parametrize("names", ISSUED_KEY_NAMES, ids=[n[0] for n in ISSUED_KEY_NAMES])
def test_a_vendors_key_names_json_value_goes_only_when_shaped_like_a_key(
    names: tuple[str, str, str],
) -> None:
    """A JSON payload's vendor key keeps a word and loses a key, under each spelling."""
    for name in names[:2]:
        assert REDACTOR.value({name: "payments"}) == {name: "payments"}
        assert REDACTOR.value({name: HEX32}) == {name: X}
        assert REDACTOR.value({name: "payments2"}) == {name: X}
