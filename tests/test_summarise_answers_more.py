"""The summariser reads more of what models write, and marks less that is fine: against the
loopback OpenAI-compatible server and the Bedrock Converse stand-in, answers that are plainly a
ticket in another spelling are read as the model's, text that is not one never is, package
names in commands are no mentions, a priority stated only in the description moves nothing, and
the answer never carries the process's own model credentials, however spelled."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

import triage.summarise.claims as claims
import triage.summarise.grounding as grounding
from test_summarise_hostile_answers import (
    ALERT,
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
from triage.models import Priority

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
