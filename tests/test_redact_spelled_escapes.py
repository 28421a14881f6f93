"""A held credential spelled out behind JSON's or HTML's escapes (`\\u002d` between its
characters, each letter escaped `\\u0073`, `&#45;`) in a model's field is both redacted and
counted as a 'credential' reject (`summarise.spelled.spells_credential`), as the same spelling
without escapes is, and so is the exact value with every letter escaped; a plain exact echo is
the redactor's ordinary work and counts nothing, nor does text that holds no credential.

The credential is made up for the test.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator

import pytest

from test_summarise_answers_more import _own_secret, _squeezed
from test_summarise_hostile_answers import (
    TICKET,
    Model,
    bedrock_model,
    events,
    logs,
    model,
    openai_model,
    published,
    ticket_from,
)
from triage.redact import Redactor, hold
from triage.redact.held import _forget_held
from triage.summarise.spelled import spells_credential

__all__ = ["bedrock_model", "logs", "model", "openai_model"]  # fixtures, used by name

OWN_KEY = "sk-own-" + "Q7vZ2mW9xK4pR8tL3nB6"
REDACTOR = Redactor()


@pytest.fixture(autouse=True)
def holding() -> Iterator[None]:
    """The process holds OWN_KEY for the test, and nothing after it."""
    _forget_held()
    hold(OWN_KEY)
    yield
    _forget_held()


def _u(char: str) -> str:
    """`char` as JSON's long escape, written out as text (`\\u002d`)."""
    return f"\\u{ord(char):04x}"


ESCAPED_SPELLINGS: list[tuple[str, Callable[[str], str]]] = [
    ("escaped-dashes", lambda key: _u("-").join(key)),
    ("escaped-spaces", lambda key: _u(" ").join(key)),
    ("escaped-dots-upper", lambda key: _u(".").join(key.upper())),
    ("escaped-reversed", lambda key: _u("-").join(reversed(key))),
    ("escaped-x-dashes", lambda key: "\\x2d".join(key)),
    ("html-dashes", lambda key: "&#45;".join(key)),
    ("escaped-letters-dashed", lambda key: "-".join(_u(c) for c in key)),
    ("escaped-letters", lambda key: "".join(_u(c) for c in key)),
]


@pytest.mark.parametrize(
    ("name", "spell"), ESCAPED_SPELLINGS, ids=[name for name, _ in ESCAPED_SPELLINGS]
)
def test_a_spelling_behind_escapes_is_counted_and_redacted(
    name: str, spell: Callable[[str], str]
) -> None:
    """A model's field spelling our key behind escapes is a 'credential' reject, and goes."""
    field = f"Errors on web-1. Key: {spell(OWN_KEY)}."
    assert spells_credential(field), name
    out = REDACTOR.text(field)
    assert "[REDACTED:credential]" in out, out


@pytest.mark.parametrize(
    "field",
    [
        f"Key: {OWN_KEY}.",
        "Errors on web-1 \\u002d check the pool \\u002d roll back.",
        "Key: " + _u("-").join("Zk3q9WmX2pLr8TvB4nYc"),
    ],
    ids=["exact", "no-credential", "another-key"],
)
def test_an_echo_or_no_credential_counts_nothing(field: str) -> None:
    """An exact echo (escaped or not), or text without our key, is no spelling."""
    assert not spells_credential(field)


async def test_the_summariser_counts_an_escaped_spelling_of_its_own_key(
    model: Model, logs: io.StringIO
) -> None:
    """A model's description spelling the key its requests carry with `\\u002d` between the
    characters (escaped once more in the answer's JSON, so the field holds the escapes): one
    'credential' reject is logged, and the ticket holds no spelling of the key."""
    key = _own_secret(model)
    hold(key)
    draft = {**TICKET, "description": f"Errors on web-1. Key: {_u('-').join(key)}."}
    model.queue(json.dumps(draft))
    ticket, metrics = await ticket_from(model)
    found = [e for e in events(logs) if e["event"] == "llm.ungrounded"]
    assert found and dict(found[0]["kinds"]).get("credential") == 1, found
    assert metrics.counter("LLMGroundingRejects") >= 1
    assert _squeezed(key) not in _squeezed(published(ticket).replace("\\u002d", "-"))
