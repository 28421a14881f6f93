"""Sources, round 25 (helper 577): a Grafana OnCall / IRM alert group ranked and owned as its
labels say (the group's own, else the alert it forwards), and bodies that are empty or JSON
encoded over and over refused saying so."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into
from triage.errors import DecodeError
from triage.models import EffectKind, Priority
from triage.normalize import normalize_body
from triage.sqs.inbox import Message

PAYLOADS = Path(__file__).parent / "payloads"
_ONCALL = json.loads((PAYLOADS / "tools/grafana-oncall-created.json").read_text())
_ONCALL_AM = json.loads((PAYLOADS / "tools/grafana-oncall-alertmanager-created.json").read_text())


def _oncall(**group_labels: Any) -> dict[str, Any]:
    """The sample OnCall group created, with `group_labels` as the alert group's labels."""
    body = copy.deepcopy(_ONCALL)
    body["alert_group"]["labels"] = group_labels
    return body


# --- Grafana OnCall / IRM: what the labels say -------------------------------------------------


def test_an_oncall_group_s_priority_label_is_its_priority() -> None:
    """An alert group whose IRM labels say priority P1 and severity critical is a high-priority,
    critical alert, as a Grafana or Alertmanager alert with those labels is; before, both
    were left in the labels and the group had no priority."""
    [alert] = normalize_body(json.dumps(_oncall(priority="P1", severity="critical"))).alerts
    assert alert.priority is Priority.HIGH
    assert alert.severity == "critical"
    assert alert.labels["priority"] == "P1"


def test_an_oncall_group_of_an_alertmanager_alert_ranks_and_belongs_as_that_alert() -> None:
    """A group OnCall made of an Alertmanager group (its `alert_payload`) whose integration
    has no OnCall team is owned by the alert's `team` label and ranked by its `priority`
    label, as Alertmanager's own webhook of it is."""
    body = copy.deepcopy(_ONCALL_AM)
    [alert] = normalize_body(json.dumps(body)).alerts
    assert body["integration"]["team"] is None
    straight = normalize_body(json.dumps(body["alert_payload"])).alerts[0]
    assert (alert.team, alert.priority, alert.severity) == ("payments", Priority.CRITICAL, "page")
    assert (straight.team, straight.priority) == (alert.team, alert.priority)


def test_an_oncall_team_stays_the_integration_s_when_it_has_one() -> None:
    """The integration's OnCall team, when it has one, still owns the group (routes already
    match on it); a `team` label only fills in for an integration without a team, the
    group's own label before the forwarded alert's."""
    assert normalize_body(json.dumps(_oncall(team="payments"))).alerts[0].team == "Webhooks Demo"
    body = copy.deepcopy(_ONCALL_AM)
    body["alert_group"]["labels"] = {"team": "checkout-oncall"}
    assert normalize_body(json.dumps(body)).alerts[0].team == "checkout-oncall"


def test_an_oncall_group_s_own_priority_outranks_the_forwarded_alert_s() -> None:
    """The group's labels are what IRM's routing set for it: its priority label is read before
    the forwarded alert's; a priority label no scale reads costs the priority, not the
    alert, and says so."""
    body = copy.deepcopy(_ONCALL_AM)
    body["alert_group"]["labels"] = {"priority": "P3"}
    assert normalize_body(json.dumps(body)).alerts[0].priority is Priority.LOW
    body["alert_group"]["labels"] = {"priority": ["P1"]}
    read = normalize_body(json.dumps(body))
    assert read.alerts[0].priority is Priority.CRITICAL  # the forwarded alert's P0
    unread = normalize_body(json.dumps(_oncall(priority="whenever")))
    assert unread.alerts[0].priority is None
    assert any("priority 'whenever'" in note for note in unread.notes)


async def test_an_oncall_group_s_priority_label_reaches_the_ticket() -> None:
    """Through the pipeline, the group's P0 label reaches the sink with the ticket it opens:
    the stated priority every summariser keeps over its own."""
    sink = Sink()
    at = T0 + timedelta(minutes=1)
    body = json.dumps(_oncall(priority="P0"))
    await pipeline_into(sink).process(Message("m-1", body, "r-1", 1, at, received_at=at))
    [opened] = [effect for effect in sink.effects if effect.kind is EffectKind.OPEN]
    assert opened.alert.priority is Priority.CRITICAL


# --- bodies the decoder refuses, saying what they are ------------------------------------------


@pytest.mark.parametrize("body", [b"", "", " \r\n\t ", b"\xef\xbb\xbf", b"\xef\xbb\xbf \n"])
def test_an_empty_body_is_refused_as_empty(body: str | bytes) -> None:
    """A body with nothing in it (0 bytes, a byte-order mark alone, whitespace) is refused
    saying it is empty, not with the parser's 'Expecting value: line 1 column 1'."""
    with pytest.raises(DecodeError, match=r"^body is empty") as refused:
        normalize_body(body)
    assert "Expecting value" not in str(refused.value)


@pytest.mark.parametrize("times", [3, 4, 6])
def test_json_encoded_three_times_or_more_says_how_often(times: int) -> None:
    """An alert's JSON encoded as a JSON string again and again (a forwarder's json.dumps on
    a string it already encoded) is refused naming how many times it was encoded and that one
    re-encoding is read, not as 'a string, not an object'."""
    text = json.dumps({"title": "Disk full", "dedup_key": "disk"})
    for _ in range(times - 1):
        text = json.dumps(text)
    with pytest.raises(DecodeError, match=f"encoded {times} times") as refused:
        normalize_body(text)
    assert "have the sender encode the object once" in str(refused.value)


def test_json_encoded_twice_is_still_read_and_a_plain_string_still_refused() -> None:
    """One re-encoding is read as before; a JSON string of prose is still 'a string'."""
    text = json.dumps({"title": "Disk full", "dedup_key": "disk"})
    assert normalize_body(json.dumps(text)).alerts[0].title == "Disk full"
    with pytest.raises(DecodeError, match="body is JSON a string, not an object"):
        normalize_body(json.dumps("disk full on db-7"))
    with pytest.raises(DecodeError, match="body is JSON a string, not an object"):
        normalize_body(json.dumps(json.dumps("disk full on db-7")))


# --- New Relic: a workflow template's team -----------------------------------------------------

_NEWRELIC = json.loads((PAYLOADS / "newrelic/created.json").read_text())


def test_a_new_relic_template_s_team_is_the_issue_s_team() -> None:
    """A workflow whose payload template adds a `team` (as the generic format documents it)
    routes its issue to that team; before, the field was kept only in the raw payload and the
    issue went to no team. A team in a shape no team has is passed over, not the issue."""
    with_team = dict(_NEWRELIC, team="payments")
    [alert] = normalize_body(json.dumps(with_team)).alerts
    assert alert.team == "payments"
    assert alert.fingerprint == normalize_body(json.dumps(_NEWRELIC)).alerts[0].fingerprint
    assert normalize_body(json.dumps(_NEWRELIC)).alerts[0].team is None
    [odd] = normalize_body(json.dumps(dict(_NEWRELIC, team={"name": "payments"}))).alerts
    assert odd.team is None


async def test_a_new_relic_team_reaches_the_sink() -> None:
    """Through the pipeline, the issue the template names a team for opens a ticket whose alert
    names that team (what routes match on)."""
    sink = Sink()
    at = T0 + timedelta(minutes=1)
    body = json.dumps(dict(_NEWRELIC, team="payments"))
    await pipeline_into(sink).process(Message("m-1", body, "r-1", 1, at, received_at=at))
    [opened] = [effect for effect in sink.effects if effect.kind is EffectKind.OPEN]
    assert opened.alert.team == "payments"
