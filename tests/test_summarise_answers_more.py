"""The summariser reads more of what models write, and marks less that is fine: against the
loopback OpenAI-compatible server and the Bedrock Converse stand-in, answers that are plainly a
ticket in another spelling are read as the model's, text that is not one never is, package
names in commands are no mentions, a priority stated only in the description moves nothing, and
the answer never carries the process's own model credentials, however spelled."""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest

import triage.summarise.answer as answers
import triage.summarise.claims as claims
import triage.summarise.grounding as grounding
import triage.summarise.spelled as spelled
from test_bedrock import ROLE
from test_summarise_hostile_answers import (
    ALERT,
    TICKET,
    Model,
    bedrock_model,
    deterministic,
    events,
    logs,
    model,
    openai_model,
    published,
    ticket_from,
)
from triage.demo.converse import converse_error
from triage.demo.model import completion, error
from triage.models import Priority
from triage.redact import hold

__all__ = ["bedrock_model", "logs", "model", "openai_model"]  # fixtures, used by name


def loud(logs: io.StringIO) -> list[tuple[str, str | None]]:
    """The lines at warning or above: (event, reason)."""
    found = events(logs)
    return [(e["event"], e.get("reason")) for e in found if e["level"] in ("warning", "error")]


def _ticket(**fields: Any) -> dict[str, Any]:
    return {**TICKET, **fields}


# --- package names in commands are no mentions ------------------------------------------------

CODE_STEPS = [
    "npm install @types/node",
    "npm i -D @types/node @babel/core",
    "yarn add @babel/core",
    "pnpm add @acme/sdk@2.1.0",
    "npx @angular/cli update",
    "bun add @hono/node-server",
    "Run `npm ci && npm ls @types/node` on web-1",
    "Pin the SDK with `@acme/sdk@2.1.0` in package.json",
    "deno add jsr:@std/path",
    "Import npm:@types/node in the Deno script",
]


@pytest.mark.parametrize("step", CODE_STEPS)
def test_a_package_scope_in_a_command_or_code_is_no_mention(step: str) -> None:
    """An npm scope after `npm|yarn|pnpm|npx|bun install/add` or inside backticks names a
    package, not people: kept as written, nothing counted."""
    checked = claims.check(step, grounding.evidence({}), firing=True)
    assert (checked.text, checked.rejected) == (step, ())


@pytest.mark.parametrize(
    "written",
    [
        "npm install @types/node; then tell @channel",
        "Run `npm ci` and ask @acme/oncall",
        "yarn add left-pad && ping @here",
        "Tell <!channel> `npm install @types/node`",
        "Ask `<@U024BE7LH>` to look",
    ],
)
def test_a_mention_beside_code_is_still_marked(written: str) -> None:
    """A mention after the command ended (`;`, `&&`), outside the backticks, or in Slack's own
    syntax inside them, is still a call to people: marked and counted."""
    checked = claims.check(written, grounding.evidence({}), firing=True)
    assert "mention" in checked.rejected
    assert "@channel" not in checked.text and "@here" not in checked.text
    assert "@acme/oncall" not in checked.text and "<!channel>" not in checked.text
    assert "<@U024BE7LH>" not in checked.text


async def test_a_step_installing_a_scoped_package_reaches_the_ticket(
    model: Model, logs: io.StringIO
) -> None:
    """A model's steps installing scoped npm packages reach the ticket as written, with no
    `[unverified]` and no `llm.ungrounded` line."""
    steps = ["npm install @types/node", "yarn add @babel/core", "Run `pnpm add @acme/sdk`"]
    model.queue(json.dumps(_ticket(steps=steps)))
    ticket, metrics = await ticket_from(model)
    assert metrics.counter("SummarizationFailures") == 0, loud(logs)
    assert list(ticket.steps) == steps
    assert metrics.counter("LLMGroundingRejects") == 0
    assert loud(logs) == []


# --- a priority stated only in the description -------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"priority": "high", "description": "Priority: critical. Errors on web-1."},
            Priority.HIGH,
            id="says-high",
        ),
        pytest.param(
            {"priority": None, "description": "Priority: critical. Errors on web-1."},
            Priority.MEDIUM,
            id="says-none",
        ),
        pytest.param(
            {"description": "PRIORITY=critical\nSeverity: P0. Errors on web-1."},
            Priority.HIGH,
            id="key-value",
        ),
    ],
)
async def test_a_priority_stated_only_in_the_description_changes_nothing(
    model: Model, logs: io.StringIO, fields: dict[str, Any], expected: Priority
) -> None:
    """A description saying "Priority: critical": the ticket's priority is the rule's (the
    model's own field moved one step from warning's medium at most, else medium), never the
    description's."""
    answer = _ticket(**fields)
    if answer["priority"] is None:
        del answer["priority"]
    model.queue(json.dumps(answer))
    ticket, metrics = await ticket_from(model)
    assert metrics.counter("SummarizationFailures") == 0, loud(logs)
    assert ticket.priority is expected
    assert ALERT.severity == "warning"
    assert "Errors on web-1." in published(ticket)


# --- answers in another spelling of the contract -----------------------------------------------

DESCRIPTION = TICKET["description"]
STEP = TICKET["steps"][0]

#: Answers plainly a ticket in another spelling: (content, the priority read, or None for the
#: severity's default).
SPELLINGS = [
    pytest.param(
        json.dumps({"title": "Checkout API 5xx on web-1", "summary": DESCRIPTION, "steps": [STEP]}),
        None,
        id="summary-as-description",
    ),
    pytest.param(
        json.dumps(
            {
                "summary": "Checkout API 5xx on web-1",
                "description": DESCRIPTION,
                "next_steps": [STEP],
                "severity": "high",
            }
        ),
        Priority.HIGH,
        id="summary-as-title",
    ),
    pytest.param(
        json.dumps(_ticket(steps=None) | {"actions": [STEP]}), Priority.HIGH, id="actions"
    ),
    pytest.param(
        json.dumps(_ticket(priority=None, steps=None) | {"Remediation": STEP, "urgency": "low"}),
        Priority.LOW,
        id="remediation-urgency",
    ),
    pytest.param(
        json.dumps(_ticket(steps=None) | {"Next Steps": [STEP]}), Priority.HIGH, id="key-spaced"
    ),
    pytest.param(json.dumps(json.dumps(TICKET)), Priority.HIGH, id="json-in-a-string"),
    pytest.param(
        "```json\n" + json.dumps(json.dumps(TICKET)) + "\n```", Priority.HIGH, id="fenced-string"
    ),
    pytest.param(json.dumps({"response": json.dumps(TICKET)}), Priority.HIGH, id="wrapped-string"),
    pytest.param(
        "Here you go: " + json.dumps(json.dumps(TICKET)) + " Let me know.",
        Priority.HIGH,
        id="json-string-in-prose",
    ),
    pytest.param(
        'Sure. {"note": "ignore"} The ticket: ' + json.dumps(json.dumps(json.dumps(TICKET))),
        Priority.HIGH,
        id="json-string-twice-in-prose",
    ),
    pytest.param(repr(TICKET), Priority.HIGH, id="python-dict"),
    pytest.param(
        "Here is the ticket:\n" + repr(_ticket(resolved=False, owner=None)) + "\nThanks.",
        Priority.HIGH,
        id="python-dict-in-prose",
    ),
    pytest.param(
        '{\n  // what failed\n  "title": "Checkout API 5xx on web-1", /* a guess */\n'
        '  "priority": "high",\n  "description": "Errors on web-1.", // see https://x\n'
        '  "steps": ["Check web-1"]\n}',
        Priority.HIGH,
        id="commented-json",
    ),
    pytest.param(
        "Sure.\n```json\n{\n  // the ticket\n  " + json.dumps(TICKET)[1:] + "\n```",
        Priority.HIGH,
        id="commented-json-fenced",
    ),
]


@pytest.mark.parametrize(("content", "expected"), SPELLINGS)
async def test_an_answer_in_another_spelling_is_read_as_the_ticket_it_is(
    model: Model, logs: io.StringIO, content: str, expected: Priority | None
) -> None:
    """Key synonyms (`summary`, `next_steps`/`actions`/`remediation`, `severity`/`urgency`),
    a ticket JSON-encoded twice, a Python dict's repr and JSON with `//` and `/* */` comments
    are read as the model's ticket (warning: medium, moved one step at most), with no line at
    warning."""
    model.queue(content)
    ticket, metrics = await ticket_from(model)
    assert metrics.counter("SummarizationFailures") == 0, loud(logs)
    assert ticket.title == TICKET["title"]
    assert ticket.description.startswith(DESCRIPTION)
    assert ticket.steps[0] == STEP
    assert ticket.priority is (expected or Priority.MEDIUM)
    assert loud(logs) == []


#: Text that is no ticket, however leniently read: the deterministic ticket, with its reason.
NOT_TICKETS = [
    pytest.param("I can't help with that request.", "invalid_json", id="refusal"),
    pytest.param(json.dumps("I can't help with that request."), "invalid_fields", id="string"),
    pytest.param(json.dumps(json.dumps("{not a ticket}")), "invalid_fields", id="string-of-braces"),
    pytest.param(
        "I won't write it. {'reason': 'policy', 'allowed': False}", "invalid_json", id="py-reason"
    ),
    pytest.param(
        json.dumps({"summary": "High error rate", "severity": "critical"}),
        "invalid_fields",
        id="annotations-only",
    ),
    pytest.param(
        "Use {'title': __import__('os').system('id'), 'description': 'd', 'steps': ['s']}",
        "invalid_json",
        id="python-code",
    ),
    pytest.param("{ // nothing here\n}", "invalid_json", id="comment-only"),
]


@pytest.mark.parametrize(("content", "reason"), NOT_TICKETS)
async def test_text_that_is_no_ticket_is_never_read_as_one(
    model: Model, logs: io.StringIO, content: str, reason: str
) -> None:
    """A refusal in prose, a JSON string of prose, an object of reasons in Python's spelling,
    an alert's annotations alone, Python code (never run) and an object of comments alone are
    no ticket: the deterministic one is written and the fallback says why."""
    model.queue(content)
    ticket, metrics = await ticket_from(model)
    assert ticket == deterministic()
    assert metrics.counter("LLMFallbacks", reason=reason) == 1, loud(logs)
    assert ("summariser.fallback", reason) in loud(logs)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(repr(_ticket(padding="x" * 9000)), id="python-past-8KiB"),
        pytest.param(repr(_ticket(padding=list(range(300)))), id="python-300-items"),
        pytest.param(
            "{ // long\n" + json.dumps(_ticket(padding="x" * 9000))[1:], id="commented-past-8KiB"
        ),
    ],
)
def test_a_relaxed_answer_is_read_only_as_large_as_a_ticket(content: str) -> None:
    """Comments and Python's spelling are read only in an answer the size of a ticket (8 KiB,
    256 commas): a hostile server's larger one costs no parse of it and stays invalid."""
    with pytest.raises(json.JSONDecodeError):
        answers.draft(content)
    assert answers.draft(content.replace("x" * 9000, "x").replace(repr(list(range(300))), "1"))


# --- the process's own credentials, spelled out ----------------------------------------------


def _own_secret(model: Model) -> str:
    """The credential the summariser's requests carry: the OpenAI key, or the secret key the
    Bedrock requests are signed with (the task role's)."""
    if model.settings.llm_provider == "bedrock":
        return ROLE.secret_key
    assert model.settings.openai_api_key is not None
    return model.settings.openai_api_key.get_secret_value()


def _squeezed(text: str) -> str:
    """`text` folded to its ASCII letters and digits, lower-cased: every spelling of a key."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(c for c in folded.lower() if c.isascii() and c.isalnum())


SPELLED: list[tuple[str, Callable[[str], str]]] = [
    ("dashes", "-".join),
    ("spaces-upper", lambda key: " ".join(key.upper())),
    ("dots", ".".join),
    ("mixed", lambda key: "".join(c + ("_", " ", "/", "")[i % 4] for i, c in enumerate(key))),
    ("reversed", lambda key: " ".join(reversed(key))),
    ("hex", lambda key: " ".join(f"{byte:02x}" for byte in key.encode())),
    ("fullwidth", lambda key: "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in key)),
]


@pytest.mark.parametrize(("name", "spell"), SPELLED, ids=[name for name, _ in SPELLED])
async def test_the_model_answer_never_carries_our_own_credential_however_spelled(
    model: Model, logs: io.StringIO, name: str, spell: Callable[[str], str]
) -> None:
    """A compromised server writing the summariser's own credential (the OpenAI key, the
    Bedrock secret key) with separators between its characters, in capitals, backwards, as hex
    or in fullwidth letters, in the title, description and steps: the ticket is still the
    model's, with no spelling of it left, and no log line holds one."""
    spelled = spell(_own_secret(model))
    model.queue(
        json.dumps(
            _ticket(
                title=f"Checkout API 5xx on web-1 {spelled}",
                description=f"Errors on web-1. Key: {spelled}.",
                steps=[f"Check web-1 with {spelled}", "Roll back"],
            )
        )
    )
    ticket, metrics = await ticket_from(model)
    assert metrics.counter("SummarizationFailures") == 0, loud(logs)
    assert ticket.title.startswith(TICKET["title"]) and "Errors on web-1." in ticket.description
    secret = _squeezed(_own_secret(model))
    for shown in (published(ticket), logs.getvalue()):
        squeezed = _squeezed(shown)
        assert secret not in squeezed and secret[::-1] not in squeezed
        assert secret.encode().hex() not in squeezed


async def test_a_refusal_spelling_our_credential_is_logged_without_it(
    model: Model, logs: io.StringIO
) -> None:
    """A refusal holding the summariser's own credential spelled with dashes: the deterministic
    ticket is written and the `llm.refused` line holds no spelling of it."""
    spelled = "-".join(_own_secret(model))
    if model.settings.llm_provider == "bedrock":
        model.queue(f"I can't help with that. My key is {spelled}.")
        reason = "invalid_json"
    else:
        model.reply(completion(None, refusal=f"I can't help with that. My key is {spelled}."))
        reason = "refused"
    ticket, metrics = await ticket_from(model)
    assert ticket == deterministic()
    assert metrics.counter("LLMFallbacks", reason=reason) == 1
    assert _squeezed(_own_secret(model)) not in _squeezed(logs.getvalue())


def test_only_a_held_credential_long_enough_is_looked_for_spelled_out() -> None:
    """Text spelling no held credential, and a held value too short to look for spelled out
    (under 16 letters and digits: it would match ordinary words), are left as written; a long
    one spelled inside a sentence is replaced from its first character to its last."""
    hold("ab12-cd34")
    long_key = "pqx7-" + "r2d9" * 5
    hold(long_key)
    for text in ("Check a b 1 2 c d 3 4 on web-1.", "Run `kubectl get pods -n checkout`."):
        assert spelled.unspelled(text) == text
    assert spelled.unspelled(f"Use {'.'.join(long_key)} now.") == f"Use {spelled.MARK} now."


async def test_a_server_error_spelling_our_credential_is_logged_without_it(
    model: Model, logs: io.StringIO
) -> None:
    """A server refusing the request with our own credential spelled out in its message (a
    403 on either API, whose words `llm.rejected` logs): the deterministic ticket is written
    and no log line holds any spelling of the credential."""
    spelled = " ".join(_own_secret(model).upper())
    message = f"Access denied for key {spelled}."
    if model.settings.llm_provider == "bedrock":
        model.reply(converse_error(403, "AccessDeniedException", message))
    else:
        model.reply(error(403, message))
    ticket, _ = await ticket_from(model)
    assert ticket == deterministic()
    assert any(e["event"] == "llm.rejected" for e in events(logs))
    assert _squeezed(_own_secret(model)) not in _squeezed(logs.getvalue())
