"""A key a vendor issues whose value holds no digit still goes: under the name of a key a vendor
issues (`service_key`, `routing_key`, `license_key`, `integration_key`, …) a plain word names a
thing and stays, but a key's shape without digits (`ABCD-EFGH-IJKL-MNOP`, 20 capitals in a
row, 20 random lower-case letters) is a key. In each place alert text carries it: a log
line, a JSON string, a YAML block, a shell trace, a JSON value and a command's option.

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


def _redacted(text: str) -> str:
    """The redactor's pass over `text`, without the memo of short texts."""
    return REDACTOR._redacted(text, ())


#: Where alert text carries a `name: value` pair: each writes it as that place does.
CONTEXTS: dict[str, Callable[[str, str], str]] = {
    "log line": lambda n, v: f"2026-12-05T02:14:07Z ERROR notify failed {n}={v} retry=3",
    "json string": lambda n, v: json.dumps({"message": f"{n}: {v}", "level": "error"}),
    "json text": lambda n, v: json.dumps({n: v, "level": "error"}),
    "yaml": lambda n, v: textwrap.dedent(f"""\
        pagerduty:
          {n}: {v}
          team: pay
        """),
    "shell": lambda n, v: f"+ export {n.upper()}={v}\n./notify.sh: exit status 1",
    "option": lambda n, v: f"notify --{n.replace('_', '-')} {v} --dry-run",
    "label": lambda n, v: f"Notification failed.\n{n.replace('_', ' ').title()}: {v}\nTeam: pay",
}

ISSUED_NAMES = [
    "service_key",
    "routing_key",
    "integration_key",
    "license_key",
    "insert_key",
    "app_key",
    "sdk_key",
    "subscription_key",
]

DIGITLESS_KEYS = [
    "ABCD-EFGH-IJKL-MNOP",  # a license key's groups
    "QWXRT-YPLMK-ZVBNC-HGFDS-JKWQZ",
    "QWERTYUIOPASDFGHJKLZ",  # capitals in a row, no word among them
    "qwertyuiopasdfghjklzxcvb",
    "XKCDQWRTZPLMNBVCXZKJ",
]

PLAIN_WORDS = [
    "payments",
    "none",
    "default",
    "orders.created",
    "logs.*.error",
    "checkout-service",
    "PAYMENTS",
    "notificationservice",
    "paymentsprocessor",
]


@pytest.mark.parametrize("context", sorted(CONTEXTS))
@pytest.mark.parametrize("value", DIGITLESS_KEYS)
@pytest.mark.parametrize("name", ISSUED_NAMES)
def test_a_digitless_key_under_an_issued_keys_name_goes(
    name: str, value: str, context: str
) -> None:
    """A key's shape with no digit under a vendor key's name is redacted, not taken for a word."""
    out = _redacted(CONTEXTS[context](name, value))
    assert value not in out, out


@pytest.mark.parametrize("context", sorted(CONTEXTS))
@pytest.mark.parametrize("value", PLAIN_WORDS)
@pytest.mark.parametrize("name", ISSUED_NAMES)
def test_a_plain_word_under_an_issued_keys_name_stays(name: str, value: str, context: str) -> None:
    """A thing's name or a topic under a vendor key's name is kept as it was."""
    text = CONTEXTS[context](name, value)
    assert _redacted(text) == text


@pytest.mark.parametrize("value", DIGITLESS_KEYS)
@pytest.mark.parametrize("name", ISSUED_NAMES)
def test_a_digitless_key_in_a_json_value_goes(name: str, value: str) -> None:
    """A JSON payload's value under a vendor key's name is blanked when it has a key's shape."""
    out = REDACTOR.value({"routing": {name: value, "team": "pay"}})
    assert out == {"routing": {name: X, "team": "pay"}}


@pytest.mark.parametrize("value", PLAIN_WORDS)
@pytest.mark.parametrize("name", ISSUED_NAMES)
def test_a_plain_word_in_a_json_value_stays(name: str, value: str) -> None:
    """A JSON payload's plain word under a vendor key's name is kept."""
    payload = {"routing": {name: value, "team": "pay"}}
    assert REDACTOR.value(payload) == payload
