"""Round 10 of the sinks under faults (helper 565), each from a loopback server on 127.0.0.1:
Slack refusing a message's form, waits asked for without a readable Retry-After, and hostile
text in each sink's markup."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any

import pytest

from hostile_server import answer, hostile
from test_slack_sink import effect as slack_effect
from test_slack_sink import open_sink
from triage.errors import SinkRejectedError
from triage.models import EffectKind, Priority

SLACK_PATH = "/services/T0/B0/s3cr3tXYZtoken"
#: Slack's words for a message's form it will not take: the same message as plain text may pass.
FORM_REFUSALS = [
    "no_text",
    "invalid_blocks",
    "invalid_blocks_format",
    "too_many_attachments",
    "msg_too_long",
]


def _slack_effect(kind: EffectKind) -> Any:
    if kind is EffectKind.OPEN:
        return slack_effect()
    if kind is EffectKind.UPDATE:
        return replace(slack_effect(kind, ref="posted"), priority_was=Priority.LOW)
    return slack_effect(kind, ref="posted")


def _refusal(form: str, error: str) -> Any:
    if form == "text 400":
        return answer(400, {"Content-Type": "text/plain"}, error.encode())
    body = json.dumps({"ok": False, "error": error}).encode()
    return answer(200 if form == "json 200" else 400, {"Content-Type": "application/json"}, body)


@pytest.mark.parametrize("error", FORM_REFUSALS)
@pytest.mark.parametrize("form", ["text 400", "json 400", "json 200"])
@pytest.mark.parametrize(
    "kind", [EffectKind.OPEN, EffectKind.REOPEN, EffectKind.CLOSE, EffectKind.UPDATE]
)
async def test_every_message_slack_refuses_for_its_form_goes_again_as_plain_text(
    error: str, form: str, kind: EffectKind, logs: list[MutableMapping[str, Any]]
) -> None:
    """Every kind of message Slack refuses for its form (no_text, invalid_blocks …, as a
    webhook's text or a JSON error) is posted again as plain text, with one warning saying so."""
    posted = answer(200, {"Content-Type": "text/html"}, b"ok")
    async with (
        hostile(_refusal(form, error), posted) as server,
        open_sink(server.url + SLACK_PATH) as sink,
    ):
        applied = await sink.apply(_slack_effect(kind))
    assert not applied.refused
    first, second = (json.loads(r.body) for r in server.requests)
    assert "blocks" in first and "blocks" not in second and second["text"]
    warned = [e for e in logs if e["log_level"] in ("warning", "error")]
    assert [(e["event"], e["error"]) for e in warned] == [("slack.blocks_refused", error)]


async def test_a_new_incident_slack_refuses_in_both_forms_fails_naming_both(
    logs: list[MutableMapping[str, Any]],
) -> None:
    """A new incident whose blocks (no_text) and plain text (invalid_payload) Slack both
    refuses fails as SinkRejectedError naming both refusals (retried, then the DLQ), with no
    warning of the sink's own: the message's one failure line says why."""
    refusals = _refusal("text 400", "no_text"), _refusal("text 400", "invalid_payload")
    async with hostile(*refusals) as server, open_sink(server.url + SLACK_PATH) as sink:
        with pytest.raises(SinkRejectedError) as caught:
            await sink.apply(_slack_effect(EffectKind.OPEN))
    assert len(server.requests) == 2
    assert "invalid_payload" in str(caught.value) and "no_text" in str(caught.value)
    assert SLACK_PATH not in str(caught.value)
    assert [e for e in logs if e["log_level"] in ("warning", "error")] == []
