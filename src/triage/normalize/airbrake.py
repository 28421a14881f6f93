"""Airbrake's webhook integration: one error group (`error`: its `id`, `error_class`,
`error_message`, `file`, `line_number`, `project`, `environment`, `severity`, `last_notice`,
`first_occurred_at`, `last_occurred_at`, `times_occurred`) and its page, `airbrake_error_url`
(the body Zulip's and other receivers' Airbrake integrations read). Airbrake posts it when an
error first occurs and when it occurs again. Read as format `airbrake`, source `airbrake`.

Identity: the project's id and the error group's id; never its message, counts, notice or
times, so each occurrence repeats its incident. Airbrake sends nothing when an error is
resolved: the incident stays open until `triage incidents close` closes it (or its route's
`resolve_after_s`).
"""

from __future__ import annotations

from typing import Any

from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized
from triage.normalize.generic import dated
from triage.normalize.vendors import labelled, paragraphs, untitled

SOURCE = "airbrake"
#: The key only Airbrake's webhook sends, beside its `error`.
_ERROR_URL = "airbrake_error_url"


def matches(payload: dict[str, Any]) -> bool:
    """An Airbrake webhook: its `error` object and the error's page. Never a body with a
    `title`: a script's generic alert."""
    return untitled(payload) and _ERROR_URL in payload and isinstance(payload.get("error"), dict)


def normalize(payload: dict[str, Any]) -> Normalized:
    error = common.obj(payload.get("error"), "error", required=True)
    project = common.obj_or_empty(error.get("project"))
    project_id = common.ident(project.get("id"), "error.project.id")
    group = common.ident(error.get("id"), "error.id")
    kind = common.line(common.unnested(error.get("error_class")), "error.error_class", shown=True)
    message = common.line(
        common.unnested(error.get("error_message")), "error.error_message", shown=True
    )
    project_name = common.line(common.unnested(project.get("name")), "error.project.name")
    where = common.line(common.unnested(error.get("file")), "error.file", shown=True)
    line_number = common.count(error.get("line_number"))
    occurred, notes = dated(error.get("last_occurred_at"), "airbrake error.last_occurred_at")
    said = ": ".join(part for part in (kind, message) if part)
    alert = Alert(
        source=SOURCE,
        status=Status.FIRING,
        title=common.first_title(
            f"{said} in {project_name}" if said and project_name else said,
            f"Airbrake error {group} in {project_name or f'project {project_id}'}",
        ),
        severity=common.word(error.get("severity"), "error.severity"),
        description=paragraphs(
            message,
            f"At {where}:{line_number}" if where and line_number else where,
            _occurrences(error.get("times_occurred")),
        ),
        links=common.links(source=common.url(payload.get(_ERROR_URL), _ERROR_URL)),
        labels=labelled(
            ("project_id", project_id),
            ("project", project_name),
            ("error_id", group),
            ("error_class", kind),
            ("environment", error.get("environment")),
        ),
        occurred_at=occurred,
        identity={"project": project_id, "error": group},
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _occurrences(times: Any) -> str | None:
    """How often the error occurred, as a sentence (None when Airbrake says no count)."""
    count = common.count(times)
    return f"Occurred {count:,} times." if count else None
