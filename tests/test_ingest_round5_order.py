"""A shipper's batch keeps its order to the lifecycle: each alert's message is stamped a
microsecond after the one before, so a firing and its resolve in one batch, stated at one time
or none, are not dated alike (red team 286, tests/test_redteam_round5_sources.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.ingest.messages import messages_for
from triage.ingest.validate import check
from triage.sqs.inbox import RECEIVED_AT_ATTRIBUTE, Message

#: The request's stamp as the gateway writes it: UTC, milliseconds.
STAMP = T0.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _backup(**fields: Any) -> dict[str, Any]:
    return {"title": "Nightly backup failed", "dedup_key": "backup-orders-db"} | fields


def _threshold(state: str) -> dict[str, Any]:
    return {
        "event_type": "threshold_alert",
        "state": state,
        "rule_id": "cpu-high",
        "rule_name": "CPU high",
        "metric": "cpu",
        "current_value": 97,
        "threshold_value": 90,
        "operator": ">",
        "host": "web-1",
        "evaluated_at": T0.isoformat(),
    }


async def _stamps(body: str, source: str = "generic") -> list[str]:
    checked = check(source, body.encode(), None, lambda text: text)
    messages = await messages_for(checked, {RECEIVED_AT_ATTRIBUTE: STAMP}, 256 * 1024)
    return [m.attributes[RECEIVED_AT_ATTRIBUTE] for m in messages]


async def test_each_alert_of_a_batch_is_stamped_after_the_one_before() -> None:
    """The alerts' `received_at` rise a microsecond an alert, in the batch's order, and none
    is later than the request's (so the daemon never takes SentTimestamp instead)."""
    stamps = await _stamps("".join(json.dumps(_backup(n=n)) + "\n" for n in range(5)))
    times = [datetime.fromisoformat(s) for s in stamps]
    assert times == sorted(set(times)) and len(times) == 5
    assert times[-1] == T0 and times[0] == T0 - timedelta(microseconds=4)


async def test_a_message_of_one_body_keeps_the_requests_stamp_as_written() -> None:
    """A body queued whole keeps the gateway's `received_at` exactly as written."""
    assert await _stamps(json.dumps(_backup())) == [STAMP]


async def _actions(alerts: list[dict[str, Any]], source: str = "generic") -> list[list[str]]:
    """What one pipeline decides for each message the gateway queues for the batch `alerts`,
    each sent (SentTimestamp) when the request was received."""
    body = "".join(json.dumps(alert) + "\n" for alert in alerts)
    checked = check(source, body.encode(), None, lambda text: text)
    outgoing = await messages_for(checked, {RECEIVED_AT_ATTRIBUTE: STAMP}, 256 * 1024)
    pipeline = pipeline_into(Sink())
    actions = []
    for n, m in enumerate(outgoing):
        message = Message(
            f"m-{n}", m.body, f"r-{n}", 1, T0, received_at=T0, attributes=m.attributes
        )
        actions.append([str(o.action) for o in await pipeline.process(message)])
    return actions


@pytest.mark.parametrize(
    "stated", [{}, {"timestamp": T0.isoformat()}], ids=["no time", "one time for both"]
)
async def test_a_firing_and_its_resolve_in_one_batch_close_the_ticket(
    stated: dict[str, str],
) -> None:
    """A firing and its resolve stated at one time (or none) in one batch: the resolve after
    the firing closes the ticket it opened."""
    actions = await _actions([_backup(**stated), _backup(status="resolved", **stated)])
    assert actions == [["open"], ["close"]]


async def test_a_threshold_batch_triggered_then_resolved_closes_the_ticket() -> None:
    """A metric evaluator's batch of a trigger and its resolve evaluated at one time closes
    the ticket the trigger opened."""
    actions = await _actions([_threshold("triggered"), _threshold("resolved")], "threshold")
    assert actions == [["open"], ["close"]]
