"""Librato's and SolarWinds AppOptics' webhook (`librato`): an alert that triggers is one
incident per alert, its violations listed per source, which its clear (`"clear": "normal"`)
resolves; the "Send test notification" body changes no ticket, and hostile text is redacted.

Shape: the JSON both products post as the form field `payload` (github-services' format; the
gateway queues that JSON), as SolarWinds' AppOptics Webhook page shows it (`alert` with id,
name, runbook_url, version; `account`, `trigger_time`, `incident_key`, `conditions`,
`violations` per source; a cleared alert's `clear: "normal"` instead of conditions and
violations) and as zulip/zulip's Librato fixtures capture it (`alert.description`,
`summary_function`, `triggered_by_user_test: true` on a test).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from factories import T0
from recording_pipeline import Sink, pipeline_into
from source_samples import Samples, mutant_failures, one, run, skipped_reasons
from triage.errors import InvalidAlertError
from triage.incidents import Action
from triage.models import EffectKind, Status
from triage.normalize import recognise_body
from triage.redact import Redactor
from triage.routes import KNOWN_SOURCES
from triage.sqs.inbox import Message
from triage.view import redact_alert

SAMPLES = Samples("librato")
TRIGGERED, CLEARED, TEST = "triggered.json", "cleared.json", "test.json"

sample = SAMPLES.body


def test_a_triggered_alert_is_read_as_librato() -> None:
    """Format and source `librato`, keyed by the alert's id, titled by its name, its runbook
    linked, dated by its trigger time, every source's violations and the conditions they broke
    in the description."""
    recognised = recognise_body(SAMPLES.path(TRIGGERED).read_bytes())
    assert recognised.format == "librato"
    [alert] = recognised.normalized.alerts
    assert (alert.source, alert.status) == ("librato", Status.FIRING)
    assert alert.identity == {"alert": "5846005"}
    assert alert.title == "collectd.high.load"
    assert alert.runbook_url == "https://runbooks.example.com/high-load"
    assert alert.occurred_at.isoformat() == "2015-10-07T00:24:19+00:00"
    assert alert.description.startswith("Load average over 2 for five minutes")
    assert (
        "web-1: collectd.load.load.shortterm = 7.190000057220459 "
        "(average above 2 for 300 s), recorded 2015-10-07 00:24:14 UTC"
    ) in alert.description
    assert "web-2: collectd.load.load.shortterm = 3.5" in alert.description
    assert alert.labels["sources"] == "web-1, web-2"
    assert alert.labels["metric"] == "collectd.load.load.shortterm"
    assert alert.labels["alert_id"] == "5846005"
    assert "librato" in KNOWN_SOURCES


def test_the_clear_resolves_the_alerts_incident() -> None:
    """`"clear": "normal"` (no conditions, no violations) resolves what the trigger opened."""
    cleared = one(sample(CLEARED))
    assert cleared.status is Status.RESOLVED
    assert cleared.fingerprint == one(sample(TRIGGERED)).fingerprint
    assert cleared.labels["clear"] == "normal"


@pytest.mark.parametrize("how", ["manual", "auto", "NORMAL"])
def test_any_clear_resolves(how: str) -> None:
    """A clear of another kind (by hand, automatic, any case) resolves it too."""
    assert one(sample(CLEARED) | {"clear": how}).status is Status.RESOLVED


@pytest.mark.parametrize("clear", [None, "", " ", False, 0, {"a": 1}])
def test_a_clear_that_names_none_is_no_clear(clear: Any) -> None:
    """A `clear` that is null, blank, false, a number or an object names no clear: the body
    fires rather than closing the alert's ticket."""
    assert one(sample(TRIGGERED) | {"clear": clear}).status is Status.FIRING


async def test_a_retrigger_is_counted_and_the_clear_closes_the_ticket() -> None:
    """Through the pipeline: the trigger opens one ticket, a later trigger (other values,
    sources and time) is counted on it, and the clear closes it."""
    sink = Sink()
    pipeline = pipeline_into(sink)
    later = sample(TRIGGERED) | {"trigger_time": 1444177759, "incident_key": "other"}
    later["violations"] = {"web-3": [{"metric": "m", "value": 9, "condition_violated": 1150670}]}
    actions = []
    for minute, body in enumerate((sample(TRIGGERED), later, sample(CLEARED))):
        at = T0 + timedelta(minutes=minute)
        message = Message(f"m-{minute}", json.dumps(body), f"r-{minute}", 1, at, received_at=at)
        actions += [outcome.action for outcome in await pipeline.process(message)]
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert [effect.kind for effect in sink.effects] == [EffectKind.OPEN, EffectKind.CLOSE]


def test_another_alert_is_another_incident() -> None:
    """Keyed by the alert's id, not its name: another id is another incident, a renamed alert
    the same one."""
    first = one(sample(TRIGGERED))
    renamed = sample(TRIGGERED)
    renamed["alert"]["name"] = "load.renamed"
    assert one(renamed).fingerprint == first.fingerprint
    other = sample(TRIGGERED)
    other["alert"]["id"] = 5846006
    assert one(other).fingerprint != first.fingerprint


async def test_the_test_notification_changes_no_ticket_and_logs_one_line() -> None:
    """A body sent by "Send test notification" (`triggered_by_user_test: true`) is Skipped as
    `test_notification` with one log line, no ticket and no dead letter."""
    assert [(s.source, s.reason) for s in run(sample(TEST)).skipped] == [
        ("librato", "test_notification")
    ]
    assert await skipped_reasons(SAMPLES.text(TEST)) == ["test_notification"]


def test_the_documented_cleared_body_wrapped_in_payload_is_read() -> None:
    """AppOptics' page shows the cleared body inside `{"payload": …}`, the form's field as
    JSON: a body that is only that wrapper is read as what it wraps."""
    assert one({"payload": sample(CLEARED)}).fingerprint == one(sample(CLEARED)).fingerprint


@pytest.mark.parametrize("alert_id", [None, "", ["x"], {"a": 1}])
def test_an_alert_without_its_id_is_refused(alert_id: Any) -> None:
    """The alert's id keys every incident: without it the body is refused, naming it."""
    body = sample(TRIGGERED)
    body["alert"]["id"] = alert_id
    with pytest.raises(InvalidAlertError, match=r"alert\.id (is missing|must be text)"):
        run(body)


@pytest.mark.parametrize(
    "violations",
    [None, [], "web-1", {"web-1": None}, {"web-1": "x"}, {"web-1": [None, 3, {"value": {}}]}],
)
def test_violations_of_any_shape_never_cost_the_alert(violations: Any) -> None:
    """Violations are shown, never keyed: any shape of them leaves the one firing alert."""
    alert = one(sample(TRIGGERED) | {"violations": violations})
    assert alert.status is Status.FIRING
    assert alert.fingerprint == one(sample(TRIGGERED)).fingerprint


def test_many_sources_are_listed_within_bounds() -> None:
    """A thousand sources in violation: the description and labels stay within their limits
    and say how many were left out."""
    body = sample(TRIGGERED)
    body["violations"] = {
        f"host-{i}": [{"metric": "m", "value": i, "condition_violated": 1150670}]
        for i in range(1000)
    }
    alert = one(body)
    assert len(alert.description) <= 4000
    assert "and 980 more sources" in alert.description
    assert alert.labels["sources_in_violation"] == "1000"


def test_long_violations_still_say_how_many_sources_were_left_out() -> None:
    """Sources with long names and many violations: the listing stops within the description
    and its last line still counts the sources it left out."""
    body = sample(TRIGGERED)
    violation = {"metric": "m" * 200, "value": 1, "condition_violated": 1150670}
    body["violations"] = {f"{'h' * 150}-{i}": [violation] * 10 for i in range(30)}
    alert = one(body)
    assert alert.description.endswith(" more sources")
    assert "\n…and " in alert.description


def test_a_source_name_cannot_forge_a_line_of_the_listing() -> None:
    """A source or value holding a newline stays on its own violation's line."""
    body = sample(TRIGGERED)
    body["violations"] = {
        "web-1\nweb-9: fake = 0": [{"metric": "m", "value": "1\nweb-8: x", "condition_violated": 1}]
    }
    listing = one(body).description.split("Violations:\n", 1)[1]
    assert listing.splitlines() == ["web-1 web-9: fake = 0: m = 1 web-8: x"]


def test_hostile_text_is_redacted_downstream() -> None:
    """A secret and markup in the alert's name and a source: the redacted view carries no
    secret (each sink escapes the text for where it shows)."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    body = sample(TRIGGERED)
    body["alert"]["name"] = f"<script>x</script> aws_secret_access_key={secret}"
    body["violations"][f"postgres://u:hunter2-pw@db/x key={secret}"] = body["violations"]["web-1"]
    view = redact_alert(one(body), Redactor())
    assert secret not in view.text
    assert "hunter2-pw" not in view.text


@pytest.mark.parametrize("name", [TRIGGERED, CLEARED, TEST])
def test_every_mutant_gives_bounded_alerts_or_a_clear_permanent_error(name: str) -> None:
    """The fuzzer's check (`test_normalize_fuzz.problem`) on 200 seeded mutants of each sample."""
    failures = mutant_failures(SAMPLES.text(name), f"librato:{name}")
    assert not failures, "\n".join(failures[:10])
