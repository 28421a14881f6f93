"""Freshping's webhook (`freshping`): a check reporting an error is one incident per check
(`check_id`) that its return to Available closes, the "Webhook test" message changes no
ticket, and hostile text is redacted.

Shape: the bodies of Zulip's Freshping fixtures (zerver/webhooks/freshping/fixtures:
freshping_check_unreachable.json, freshping_check_reachable.json, freshping_check_test.json)
and the states its integration reads (zerver/webhooks/freshping/view.py).
"""

from __future__ import annotations

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

SAMPLES = Samples("freshping")
DOWN, UP, TEST = "unreachable.json", "reachable.json", "test.json"


sample = SAMPLES.body


def with_data(name: str, **changes: Any) -> dict[str, Any]:
    body = sample(name)
    body["webhook_event_data"] |= changes
    return body


def test_an_unreachable_check_is_read_as_freshping() -> None:
    """Format and source `freshping`, keyed by the check's id, titled by its name and state,
    its URL (also its `check` link, as other uptime checkers') and HTTP status in the
    description and labels."""
    recognised = recognise_body(SAMPLES.path(DOWN).read_bytes())
    assert recognised.format == "freshping"
    [alert] = recognised.normalized.alerts
    assert (alert.source, alert.status) == ("freshping", Status.FIRING)
    assert alert.identity == {"check": "585767"}
    assert alert.title == "Test Check: Reporting Error"
    assert "https://example.com" in alert.description
    assert "521" in alert.description
    assert alert.links == {"check": "https://example.com"}
    assert alert.labels["http_status_code"] == "521"
    assert alert.labels["application"] == "Example Application"
    assert alert.occurred_at.isoformat().startswith("2021-04-15T19:46:47")
    assert "freshping" in KNOWN_SOURCES


async def test_fire_repeat_and_resolve_are_one_ticket() -> None:
    """Through the pipeline: Reporting Error opens a ticket, the same again is counted,
    Available closes it."""
    actions, effects = await trigger_repeat_recovery(SAMPLES.path(DOWN), SAMPLES.path(UP))
    assert actions == [Action.OPEN, Action.COUNT, Action.CLOSE]
    assert effects == [EffectKind.OPEN, EffectKind.CLOSE]
    assert one(sample(UP)).status == Status.RESOLVED


def test_volatile_fields_keep_the_fingerprint_and_another_check_is_another() -> None:
    """Names, URL, codes, times and event ids never key an incident; another check id does."""
    first = one(sample(DOWN))
    body = with_data(DOWN, check_name="renamed", request_url="https://x.example",
                     http_status_code=500, request_start_time="2022-01-01T00:00:00Z")  # fmt: skip
    body |= {"webhook_event_id": 1, "webhook_event_created_on": "2022-01-01T00:00:00Z"}
    assert one(body).fingerprint == first.fingerprint
    assert one(with_data(DOWN, check_id=585768)).fingerprint != first.fingerprint


async def test_the_webhook_test_changes_no_ticket_and_logs_one_line() -> None:
    """Freshping's test message (application "Webhook test") is Skipped as
    `test_notification` with one log line, no ticket and no dead letter."""
    assert [(s.source, s.reason) for s in run(sample(TEST)).skipped] == [
        ("freshping", "test_notification")
    ]
    assert await skipped_reasons(SAMPLES.text(TEST)) == ["test_notification"]


@pytest.mark.parametrize(
    ("changes", "message"),
    [({"check_state_name": "Exploded"},
      "freshping check_state_name 'Exploded' is not Reporting Error or Available"),
     ({"check_state_name": None}, "freshping check_state_name null is not"),
     ({"check_id": None}, r"webhook_event_data\.check_id is missing or empty"),
     ({"check_id": ""}, r"webhook_event_data\.check_id is missing or empty")],
)  # fmt: skip
def test_a_malformed_event_is_refused_naming_the_field(
    changes: dict[str, Any], message: str
) -> None:
    """An event with no check id or a state Freshping is not known to send is refused with an
    InvalidAlertError naming the field, so it reaches the dead-letter queue whole."""
    with pytest.raises(InvalidAlertError, match=message):
        run(with_data(DOWN, **changes))


def test_hostile_text_is_redacted_downstream() -> None:
    """A secret and markup in the check's name and URL: the redacted view carries no secret."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    body = with_data(
        DOWN,
        check_name=f"<script>x</script> aws_secret_access_key={secret}",
        request_url="https://u:hunter2-pw@example.com/health",
    )
    view = redact_alert(one(body), Redactor())
    assert secret not in view.text
    assert "hunter2-pw" not in view.text


@pytest.mark.parametrize("name", [DOWN, UP, TEST])
def test_every_mutant_gives_bounded_alerts_or_a_clear_permanent_error(name: str) -> None:
    """The fuzzer's check (`test_normalize_fuzz.problem`) on 200 seeded mutants of each sample."""
    failures = mutant_failures(SAMPLES.text(name), f"freshping:{name}")
    assert not failures, "\n".join(failures[:10])
