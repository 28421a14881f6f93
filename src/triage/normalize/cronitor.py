"""Cronitor's webhook integration (https://cronitor.io/docs/using-webhooks): one monitor's alert
or recovery, `id` (the monitor's key), `monitor` (its name), `type` ALERT or RECOVERY,
`description` (why), `rule` (the assertion it broke), `environment`, `group`, `issue_url` and
`monitor_url`. Read as format `cronitor`, source `cronitor`.

Identity: the monitor's key and its environment (a job late in staging is not the one late in
production); never its description or rule, which its RECOVERY may not repeat, so the recovery
closes the alert's incident. States (`type`): ALERT fires, RECOVERY resolves; any other is
refused, naming it.
"""

from __future__ import annotations

from typing import Any

from triage.errors import InvalidAlertError
from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized
from triage.normalize.vendors import labelled, paragraphs, untitled

SOURCE = "cronitor"

_STATES = {"alert": Status.FIRING, "recovery": Status.RESOLVED}
#: The links every Cronitor webhook carries besides its monitor's fields.
_LINKS = ("monitor_url", "issue_url")


def matches(payload: dict[str, Any]) -> bool:
    """A Cronitor webhook: the monitor's key and name, a `type`, and one of its links. Never a
    body with a `title`: a script's generic alert."""
    return (
        untitled(payload)
        and isinstance(payload.get("monitor"), str)
        and "id" in payload
        and "type" in payload
        and any(key in payload for key in _LINKS)
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    kind = common.line(common.unnested(payload.get("type")), "type", 64)
    status = _STATES.get((kind or "").strip().lower())
    if status is None:
        raise InvalidAlertError(
            f"cronitor type {common.short(payload.get('type'))} is not ALERT or RECOVERY"
        )
    key = common.ident(payload.get("id"), "id")
    environment = common.ident_or_none(payload.get("environment"), "environment") or ""
    name = common.line(payload.get("monitor"), "monitor", shown=True)
    rule = common.line(common.unnested(payload.get("rule")), "rule", 120, shown=True)
    monitor = name or f"Cronitor monitor {key}"
    if status is Status.RESOLVED:
        title = f"{monitor} recovered"
    else:
        title = f"{monitor}: {rule}" if rule else f"{monitor} is failing"
    alert = Alert(
        source=SOURCE,
        status=status,
        title=common.first_title(title, f"Cronitor monitor {key}"),
        description=paragraphs(payload.get("description")),
        links=common.links(
            monitor=common.url(payload.get("monitor_url"), "monitor_url"),
            issue=common.url(payload.get("issue_url"), "issue_url"),
        ),
        labels=labelled(
            ("monitor_key", key),
            ("monitor", name),
            ("rule", rule),
            ("environment", environment),
            ("group", payload.get("group")),
        ),
        occurred_at=common.now(),  # Cronitor states no time: dated when it was queued
        identity={"monitor": key, "environment": environment},
        raw=payload,
    )
    return Normalized((alert,))
