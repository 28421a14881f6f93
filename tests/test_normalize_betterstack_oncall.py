"""Better Stack Uptime's on-call change webhook (Integrations → Exporting data → Outgoing
webhooks → On-call change): no alert, so Skipped with one log line instead of a dead letter,
as its monitor webhook already is.

Shape: betterstack.com/docs/uptime/webhooks (the three webhook types; the on-call change body
is a JSON:API `data` resource with no `event`, unlike the incident and monitor webhooks) and
betterstack.com/docs/uptime/api/on-call-calendar-api-response-params (the on-call schedule
resource: `type` on_call_calendar, `attributes.name`, `relationships.on_call_users`,
`included` on-call users).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import structlog

from factories import T0
from recording_pipeline import Sink, pipeline_into
from source_samples import mutant_failures
from triage.errors import UnknownFormatError
from triage.normalize import normalize_body, recognise_body
from triage.sqs.inbox import Message

SAMPLE = Path(__file__).parent / "payloads" / "betterstack" / "on-call-change.json"
INCIDENT = Path(__file__).parent / "payloads" / "betterstack" / "incident-started.json"


def body() -> dict[str, Any]:
    value: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return value


async def test_an_on_call_change_opens_no_ticket_and_logs_one_line() -> None:
    """Read as format `betterstack` and Skipped (`unsupported_resource`): no ticket, no dead
    letter, one `alert.skipped` line naming the source and the reason."""
    recognised = recognise_body(SAMPLE.read_bytes())
    assert recognised.format == "betterstack"
    assert [(s.source, s.reason) for s in recognised.normalized.skipped] == [
        ("betterstack", "unsupported_resource")
    ]
    sink = Sink()
    message = Message("m-1", SAMPLE.read_text(encoding="utf-8"), "r-1", 1, T0, received_at=T0)
    with structlog.testing.capture_logs() as logs:
        outcomes = await pipeline_into(sink).process(message)
    assert (outcomes, sink.effects) == ([], [])
    skipped = [(e["source"], e["reason"]) for e in logs if e["event"] == "alert.skipped"]
    assert skipped == [("betterstack", "unsupported_resource")]


def test_the_skip_names_the_schedule_by_id_only() -> None:
    """The log line names the schedule by its id: the on-call people's names, e-mail and
    phone numbers, and a schedule name that may hold anything, never reach it."""
    given = body()
    given["data"]["attributes"]["name"] = "<script>x</script> token=ghp_" + "a" * 36
    [skip] = normalize_body(json.dumps(given)).skipped
    assert "123456" in skip.detail
    for private in ("Ada", "Lovelace", "oncall@example.com", "+420737123456", "script", "ghp_"):
        assert private not in skip.detail


def test_an_incident_webhook_is_still_an_alert() -> None:
    """The incident webhook (with its `event`) still fires its incident."""
    [alert] = normalize_body(INCIDENT.read_bytes()).alerts
    assert alert.source == "betterstack"


@pytest.mark.parametrize("kind", ["monitor", "incident", "status_page", ""])
def test_another_resource_without_an_event_is_still_refused(kind: str) -> None:
    """Only the on-call schedule's resource is known to come without an `event`: another
    JSON:API body with none is refused as before, never skipped unseen."""
    given = body()
    given["data"]["type"] = kind
    with pytest.raises(UnknownFormatError):
        normalize_body(json.dumps(given))


def test_every_mutant_gives_bounded_alerts_or_a_clear_permanent_error() -> None:
    """The fuzzer's check (`test_normalize_fuzz.problem`) on 200 seeded mutants of the sample,
    which the fuzzer does not see until the sample moves under tests/payloads/."""
    failures = mutant_failures(SAMPLE.read_text(encoding="utf-8"), "betterstack-on-call")
    assert not failures, "\n".join(failures[:10])
