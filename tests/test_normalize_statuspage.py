"""Atlassian Statuspage's webhook notifications (`statuspage`): an incident on a subscribed
status page is one incident that its resolution closes, a component's outage one that its
return to operational closes, planned maintenance changes no ticket, and the unsubscribe link
is never kept.

Shapes: support.atlassian.com/statuspage/docs/enable-webhook-notifications and the bodies of
Zulip's Statuspage fixtures (zerver/webhooks/statuspage/fixtures: incident_created.json,
incident_update.json, component_status_update.json).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from recording_pipeline import trigger_repeat_recovery
from source_samples import Samples, mutant_failures, one, run, skipped_reasons
from triage.errors import InvalidAlertError
from triage.incidents import Action
from triage.models import EffectKind, Status
from triage.normalize import recognise_body
from triage.redact import Redactor
from triage.routes import KNOWN_SOURCES
from triage.view import redact_alert

SAMPLES = Samples("statuspage")
OPENED, RESOLVED = "incident-identified.json", "incident-resolved.json"
OUTAGE, OPERATIONAL = "component-major-outage.json", "component-operational.json"
ALL = [OPENED, RESOLVED, OUTAGE, OPERATIONAL]


sample = SAMPLES.body


def test_an_incident_is_read_as_statuspage() -> None:
    """Format and source `statuspage`, keyed by the page and the incident, titled by the
    incident's name, its latest update as the description and its impact as the severity."""
    recognised = recognise_body(SAMPLES.path(OPENED).read_bytes())
    assert recognised.format == "statuspage"
    [alert] = recognised.normalized.alerts
    assert (alert.source, alert.status) == ("statuspage", Status.FIRING)
    assert alert.identity == {"page": "jb7j80lkgqvb", "incident": "z3lct0r596n4"}
    assert alert.title == "Database query delays"
    assert alert.severity == "major"
    assert alert.description.startswith("Database queries are timing out")
    assert alert.links == {"status_page": "https://stspg.io/646947c1e"}
    assert alert.labels["components"] == "Management Portal"
    assert "statuspage" in KNOWN_SOURCES


@pytest.mark.parametrize(("trigger", "recovery"), [(OPENED, RESOLVED), (OUTAGE, OPERATIONAL)])
async def test_fire_repeat_and_resolve_are_one_ticket(trigger: str, recovery: str) -> None:
    """Through the pipeline: the incident (or outage) opens a ticket, its next update is
    counted, its resolution (or return to operational) closes it."""
    actions, effects = await trigger_repeat_recovery(SAMPLES.path(trigger), SAMPLES.path(recovery))
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]


@pytest.mark.parametrize(
    ("status", "expected"),
    [("investigating", Status.FIRING), ("identified", Status.FIRING),
     ("monitoring", Status.FIRING), ("resolved", Status.RESOLVED),
     ("postmortem", Status.RESOLVED), ("Resolved", Status.RESOLVED)],
)  # fmt: skip
def test_each_incident_status_fires_or_resolves_one_incident(status: str, expected: Status) -> None:
    """Every incident status of Statuspage's keeps the incident's fingerprint."""
    body = sample(OPENED)
    body["incident"]["status"] = status
    alert = one(body)
    assert (alert.status, alert.fingerprint) == (expected, one(sample(OPENED)).fingerprint)


def test_a_component_outage_is_the_components_incident() -> None:
    """A component update is keyed by the page and the component; degraded and partial
    outages are the same incident as a major one, and another component is another."""
    outage = one(sample(OUTAGE))
    assert outage.identity == {"page": "jb7j80lkgqvb", "component": "sqm6pl84wzjc"}
    assert outage.title == "Database: major outage"
    for status in ("degraded_performance", "partial_outage"):
        body = sample(OUTAGE)
        body["component_update"]["new_status"] = status
        assert one(body).fingerprint == outage.fingerprint
    other = sample(OUTAGE)
    other["component_update"]["component_id"] = "other"
    assert one(other).fingerprint != outage.fingerprint


@pytest.mark.parametrize(
    ("name", "path", "status"),
    [(OPENED, ("incident", "status"), "in_progress"),
     (OPENED, ("incident", "status"), "scheduled"),
     (OPENED, ("incident", "status"), "completed"),
     (OUTAGE, ("component_update", "new_status"), "under_maintenance")],
)  # fmt: skip
async def test_maintenance_changes_no_ticket_and_logs_one_line(
    name: str, path: tuple[str, str], status: str
) -> None:
    """A scheduled maintenance, or a component under maintenance, is planned work: Skipped as
    `maintenance` with one log line, no ticket and no dead letter."""
    body = sample(name)
    body[path[0]][path[1]] = status
    assert [(s.source, s.reason) for s in run(body).skipped] == [("statuspage", "maintenance")]
    assert await skipped_reasons(json.dumps(body)) == ["maintenance"]


def test_volatile_fields_keep_the_fingerprint() -> None:
    """Names, updates, impact, times and the page's status never key an incident."""
    first = one(sample(OPENED))
    body = sample(OPENED)
    body["incident"] |= {
        "name": "renamed",
        "impact": "critical",
        "updated_at": "2026-12-06T00:00:00Z",
    }
    body["incident"]["incident_updates"] = []
    body["page"]["status_indicator"] = "critical"
    assert one(body).fingerprint == first.fingerprint
    assert one(sample(OPENED) | {"page": {"id": "other"}}).fingerprint != first.fingerprint


def test_the_unsubscribe_link_is_never_kept() -> None:
    """`meta.unsubscribe` unsubscribes whoever holds it: it is left out of `raw` (the store,
    the LLM's excerpt), the rest of `meta` kept."""
    for name in ALL:
        alert = one(sample(name))
        assert "unsubscribe" not in alert.raw["meta"]
        assert "unsubscribe=" not in json.dumps(alert.raw)
        assert alert.raw["meta"]["generated_at"]


@pytest.mark.parametrize(
    ("change", "message"),
    [(("incident", "status", "exploded"), "incident.status 'exploded' is not investigating"),
     (("incident", "status", None), "incident.status"),
     (("incident", "id", ""), "incident.id is missing or empty"),
     (("component_update", "new_status", "sideways"), "new_status 'sideways' is not operational"),
     (("component_update", "component_id", None), "component_update.component_id")],
)  # fmt: skip
def test_a_malformed_notification_is_refused_naming_the_field(
    change: tuple[str, str, Any], message: str
) -> None:
    """A notification with no id or a status Statuspage does not send is refused with an
    InvalidAlertError naming the field, so it reaches the dead-letter queue whole."""
    where, key, value = change
    body = sample(OPENED if where == "incident" else OUTAGE)
    body[where][key] = value
    if where == "component_update" and key == "component_id":
        del body["component"]["id"]
    with pytest.raises(InvalidAlertError, match=message):
        run(body)


def test_a_page_without_an_id_is_refused() -> None:
    """The page's id keys every incident: without it the body is refused, naming it."""
    body = sample(OPENED)
    body["page"]["id"] = ""
    with pytest.raises(InvalidAlertError, match=r"page\.id is missing or empty"):
        run(body)


def test_hostile_text_is_redacted_downstream() -> None:
    """A secret and markup in the incident's name and update: the redacted view carries no
    secret (the title and description are text; each sink escapes them for where they show)."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    body = copy.deepcopy(sample(OPENED))
    body["incident"]["name"] = f"<script>x</script> aws_secret_access_key={secret}"
    body["incident"]["incident_updates"][0]["body"] = (
        f"see postgres://u:hunter2-pw@db/x key={secret}"
    )
    view = redact_alert(one(body), Redactor())
    assert secret not in view.text
    assert "hunter2-pw" not in view.text


@pytest.mark.parametrize("name", ALL)
def test_every_mutant_gives_bounded_alerts_or_a_clear_permanent_error(name: str) -> None:
    """The fuzzer's check (`test_normalize_fuzz.problem`) on 200 seeded mutants of each sample,
    which the fuzzer does not see until the samples move under tests/payloads/."""
    failures = mutant_failures(SAMPLES.text(name), f"statuspage:{name}")
    assert not failures, "\n".join(failures[:10])


def test_better_stacks_status_page_copy_is_refused_naming_the_status() -> None:
    """Better Stack's status page webhook copies the shape (its documented incident update)
    but gives the incident no status: refused with a reason naming `incident.status`, never
    guessed open or closed."""
    body = {
        "event_type": "incident",
        "meta": {"documentation": "https://docs.betterstack.com/webhooks"},
        "page": {"id": "12345", "status_indicator": "downtime",
                 "status_description": "Some services are down"},
        "incident": {"id": "98765", "name": "Database Connection Issues",
                     "created_at": "2024-01-15T10:30:00Z", "updated_at": "2024-01-15T11:45:00Z",
                     "incident_updates": [{"id": "11111", "body": "We've identified the issue"}]},
    }  # fmt: skip
    with pytest.raises(InvalidAlertError, match=r"statuspage incident\.status null is not"):
        run(body)
