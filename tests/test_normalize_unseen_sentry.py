"""Sentry payload shapes the other normaliser tests do not send: a project's service hook
(`event.alert`, `event.created`: `{"project", "group", "event"}`, Sentry's own
`get_payload_v0`), read as the issue it is about."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from triage.errors import InvalidAlertError
from triage.models import Alert, Priority, Status
from triage.normalize import normalize_body, sentry

PAYLOADS = Path(__file__).parent / "payloads"
UNSEEN = Path(__file__).parent / "payloads"


def sample(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def service_hook(**changes: Any) -> dict[str, Any]:
    body = sample(UNSEEN / "sentry/service-hook-event-alert.json")
    for part, fields in changes.items():
        body[part] = {**body[part], **fields} if isinstance(fields, dict) else fields
    return body


def hook_alert(body: dict[str, Any]) -> Alert:
    assert sentry.matches_service_hook(body)
    [alert] = sentry.normalize_service_hook(body).alerts
    return alert


def only(path: Path) -> Alert:
    [alert] = normalize_body(path.read_text(encoding="utf-8")).alerts
    return alert


def test_service_hook_is_the_issue_alert_it_names() -> None:
    """A service hook's event alert fires with the issue's title, level, priority, team tag,
    project, environment and links, dated by its event."""
    alert = hook_alert(service_hook())
    assert alert.source == "sentry"
    assert alert.status is Status.FIRING
    assert alert.title == "ZeroDivisionError: division by zero"
    assert alert.severity == "error"
    assert alert.priority is Priority.HIGH
    assert alert.team == "payments"
    assert alert.labels["project"] == "checkout-api"
    assert alert.labels["short_id"] == "CHECKOUT-API-1F"
    assert alert.labels["tag.environment"] == "production"
    assert alert.links["issue"] == "https://acme.sentry.io/organizations/acme/issues/4504689410/"
    assert alert.links["event"].endswith("/events/6bd14ba1c4e04f8c8ab8e2f6e0cbb2a1/")
    assert alert.occurred_at.isoformat() == "2026-11-23T09:24:02.100000+00:00"
    assert "Culprit: checkout.pricing in apply_discount" in alert.description


def test_service_hook_shares_the_issue_webhooks_incident() -> None:
    """The hook's alert and the integration's issue created/resolved webhooks of one issue
    have one fingerprint, so the issue's resolve closes the ticket the hook opened."""
    alert = hook_alert(service_hook())
    assert alert.identity == {"issue_id": "4504689410"}
    assert alert.fingerprint == only(PAYLOADS / "sentry/issue-created.json").fingerprint
    assert alert.fingerprint == only(PAYLOADS / "sentry/issue-resolved.json").fingerprint


def test_service_hook_issue_id_as_a_number_is_the_same_issue() -> None:
    """An id serialised as a number names the same issue as its string."""
    alert = hook_alert(service_hook(group={"id": 4504689410}))
    assert alert.fingerprint == hook_alert(service_hook()).fingerprint


def test_service_hook_without_the_issue_title_is_titled_from_its_event() -> None:
    """With no group title, the event's title names the alert; with neither, the error's
    type and value; then the issue's short id."""
    assert hook_alert(service_hook(group={"title": ""})).title == (
        "ZeroDivisionError: division by zero"
    )
    bare = service_hook(
        group={"title": None, "metadata": {}}, event={"title": None, "metadata": {}}
    )
    assert hook_alert(bare).title == "checkout.pricing in apply_discount"


@pytest.mark.parametrize("group", [{"title": "no id"}, {"id": ""}, {"id": {"n": 1}}])
def test_service_hook_without_an_issue_id_is_refused_naming_the_field(group: Any) -> None:
    """A hook whose issue has no usable id is refused (to the DLQ), naming group.id."""
    body = service_hook()
    body["group"] = group
    assert sentry.matches_service_hook(body)
    with pytest.raises(InvalidAlertError, match=r"group\.id"):
        sentry.normalize_service_hook(body)


@pytest.mark.parametrize(
    "other",
    [
        {"project": {"slug": "x"}, "group": {"id": "1"}, "event": "x"},
        {"project": "x", "group": {"id": "1"}, "event": {"id": "e"}, "action": "created"},
        {"data": {}, "project": {"slug": "x"}, "group": {"id": "1"}, "event": {"id": "e"}},
    ],
)
def test_other_bodies_are_not_service_hooks(other: dict[str, Any]) -> None:
    """A body whose event is no object, or that carries an integration webhook's `action` or
    `data`, is not read as a service hook."""
    assert not sentry.matches_service_hook(other)


def test_service_hook_body_is_recognised_by_normalize_body() -> None:
    """Through the pipeline's entry point, a service hook is a Sentry alert, not an unknown
    format."""
    alert = only(UNSEEN / "sentry/service-hook-event-alert.json")
    assert alert.identity == {"issue_id": "4504689410"}


@pytest.mark.parametrize("part", ["group", "event", "project"])
@pytest.mark.parametrize("odd", [{"x": 1}, [1], 7, True, None, ""])
def test_service_hook_fields_of_odd_types_never_cost_the_alert(part: str, odd: Any) -> None:
    """Every field but the issue id is only shown: any one of odd JSON type is passed over,
    and the hook is still the issue's firing alert."""
    base = service_hook()
    for key in [k for k in base[part] if not (part == "group" and k == "id")]:
        body = service_hook()
        body[part][key] = odd
        alert = hook_alert(body)
        assert (alert.status, alert.identity) == (Status.FIRING, {"issue_id": "4504689410"})
