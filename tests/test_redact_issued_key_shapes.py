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
from itertools import product

import pytest

from case_chunks import assert_each, dealt
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


#: Each case is a regex pass over a line, far under the ~1.5 ms of CPU a pytest item costs of
#: its own, so they run as a few items each (tests/case_chunks.py), every case named on failure.
CHUNKS = 3
KEYS_IN_CONTEXTS = list(product(ISSUED_NAMES, DIGITLESS_KEYS, sorted(CONTEXTS)))
WORDS_IN_CONTEXTS = list(product(ISSUED_NAMES, PLAIN_WORDS, sorted(CONTEXTS)))


def _key_left(case: tuple[str, str, str]) -> tuple[str | None, None]:
    """The redacted text if the key is still in it, else None."""
    name, value, context = case
    out = _redacted(CONTEXTS[context](name, value))
    return (out if value in out else None), None


@pytest.mark.parametrize("cases", dealt(KEYS_IN_CONTEXTS, CHUNKS))
def test_a_digitless_key_under_an_issued_keys_name_goes(cases: list[tuple[str, str, str]]) -> None:
    """A key's shape with no digit under a vendor key's name is redacted, not taken for a word."""
    assert_each(cases, _key_left, name="name/value/context")


@pytest.mark.parametrize("cases", dealt(WORDS_IN_CONTEXTS, CHUNKS))
def test_a_plain_word_under_an_issued_keys_name_stays(cases: list[tuple[str, str, str]]) -> None:
    """A thing's name or a topic under a vendor key's name is kept as it was."""

    def check(case: tuple[str, str, str]) -> tuple[str, str]:
        text = CONTEXTS[case[2]](case[0], case[1])
        return _redacted(text), text

    assert_each(cases, check, name="name/value/context")


def test_a_digitless_key_in_a_json_value_goes() -> None:
    """A JSON payload's value under a vendor key's name is blanked when it has a key's shape."""
    assert_each(
        list(product(ISSUED_NAMES, DIGITLESS_KEYS)),
        lambda case: (
            REDACTOR.value({"routing": {case[0]: case[1], "team": "pay"}}),
            {"routing": {case[0]: X, "team": "pay"}},
        ),
        name="name/value",
    )


def test_a_plain_word_in_a_json_value_stays() -> None:
    """A JSON payload's plain word under a vendor key's name is kept."""
    assert_each(
        list(product(ISSUED_NAMES, PLAIN_WORDS)),
        lambda case: (
            REDACTOR.value({"routing": {case[0]: case[1], "team": "pay"}}),
            {"routing": {case[0]: case[1], "team": "pay"}},
        ),
        name="name/value",
    )
