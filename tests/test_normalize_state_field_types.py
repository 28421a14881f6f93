"""A vendor's webhook whose state field (the event, action or alert type it reports) holds a
list or an object is still known as that vendor's, by its other keys, and is refused naming
the field, rather than as a body of no known format.

Samples: each vendor's documented webhook body under tests/payloads/ (Better Stack's incident
and error webhooks as betterstack.com/docs/uptime/webhooks and the Errors webhook settings
show them; Opsgenie's, PagerDuty's v3, Rollbar's, Honeybadger's, Sentry's, Checkly's and
Raygun's as their webhook documentation shows them), with only the state field changed.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from source_samples import Samples, run
from triage.errors import InvalidAlertError

#: (sample, the path of the field that gives its state).
_STATE_FIELDS: list[tuple[str, str]] = [
    ("betterstack/incident-started.json", "event"),
    ("betterstack/incident-resolved.json", "event"),
    ("betterstack/incident-acknowledged.json", "event"),
    ("betterstack/monitor-paused.json", "event"),
    ("betterstack/incident-no-event-started.json", "data.attributes.status"),
    ("betterstack/error-new.json", "data.attributes.event"),
    ("opsgenie/create.json", "action"),
    ("pagerduty/triggered.json", "event.event_type"),
    ("tools/rollbar-new-item.json", "event_name"),
    ("tools/honeybadger-occurred.json", "event"),
    ("sentry/issue-created.json", "action"),
    ("sentry/metric-alert-critical.json", "action"),
    ("checkly/failure.json", "alert_type"),
    ("raygun/new-error.json", "event"),
    ("raygun/status-changed.json", "event"),
]

_WRONG: list[Any] = [["started"], {"a": 1}]


def _with(name: str, path: str, value: Any) -> dict[str, Any]:
    """Sample `name` with `value` put at the dotted `path`."""
    folder, file = name.split("/")
    body = Samples(folder).body(file)
    *parents, key = path.split(".")
    holder = body
    for part in parents:
        holder = holder[part]
    holder[key] = value
    return body


@pytest.mark.parametrize("value", _WRONG, ids=["list", "object"])
@pytest.mark.parametrize(("name", "path"), _STATE_FIELDS)
def test_a_wrong_typed_state_field_is_refused_naming_it(name: str, path: str, value: Any) -> None:
    """A list or object in a vendor's state field is an InvalidAlertError naming that field."""
    with pytest.raises(InvalidAlertError) as refused:
        run(_with(name, path, value))
    assert re.search(rf"(^|\s){re.escape(path)}\s", str(refused.value)), str(refused.value)


@pytest.mark.parametrize("value", _WRONG, ids=["list", "object"])
def test_a_honeybadger_message_of_the_wrong_type_costs_no_ticket(value: Any) -> None:
    """Honeybadger's `message` is only shown: a list or object there still gives the alert."""
    body = Samples("tools").body("honeybadger-occurred.json") | {"message": value}
    assert len(run(body).alerts) == 1


@pytest.mark.parametrize(("name", "path"), [("checkly/failure.json", "alert_type"),
                                            ("raygun/new-error.json", "event")])  # fmt: skip
def test_a_state_field_sent_as_a_number_is_refused_naming_it(name: str, path: str) -> None:
    """A number where a vendor's state word belongs is refused naming the field, not as an
    unknown body."""
    with pytest.raises(InvalidAlertError) as refused:
        run(_with(name, path, 5))
    assert re.search(rf"(^|\s){re.escape(path)}\s", str(refused.value)), str(refused.value)
