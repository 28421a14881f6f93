"""A custom notification of Amazon Q Developer in chat applications (formerly AWS Chatbot): the
JSON teams publish to an SNS topic so that Chatbot shows it in Slack or Teams, and subscribe
their alert queue to the same topic (docs.aws.amazon.com/chatbot/latest/adminguide/
custom-notifs.html). `version` "1.0", `source` "custom", `content` (`title`, `description`,
`nextSteps`, `keywords`) and optional `metadata` (`threadId`, `summary`, `eventType`,
`relatedResources`, `additionalContext`). Read as format `chatbot-custom`, source `chatbot`.

Identity: `metadata.threadId`, the key Chatbot itself threads a sender's notifications of one
matter by; without one, the event type and the title, as a generic alert without a
`dedup_key` is keyed by its title; never the notification's `id`, new on each. The schema has
no state: each notification fires (a repeat of its thread's incident counts). A priority or
severity and the team the sender put in `additionalContext` are read as a generic alert's
are; its other facts become labels.
"""

from __future__ import annotations

import re
from typing import Any

from triage.models import Alert, Status
from triage.normalize import common
from triage.normalize.common import Normalized
from triage.normalize.vendors import add_own_labels, labelled, paragraphs

SOURCE = "chatbot"
FORMAT = "chatbot-custom"
#: The `source` every custom notification names, and the schema version Chatbot reads.
_CUSTOM, _VERSION = "custom", "1.0"
#: Slack emoji codes a title starts with (":rotating_light: Deploy failed"): Chatbot shows them
#: as pictures; a ticket's title is plain text.
_EMOJI = re.compile(r"^(?::[a-z0-9_+-]{1,40}:\s*)+")
#: At most this many next steps, keywords and related resources are read.
_LISTED_MAX = 20


def matches(payload: dict[str, Any]) -> bool:
    """A custom notification: `source` "custom" and a `content` object with a description or
    a title (Chatbot needs the description; the title is optional)."""
    content = payload.get("content")
    return (
        payload.get("source") == _CUSTOM
        and isinstance(content, dict)
        and ("description" in content or "title" in content)
        and str(payload.get("version", _VERSION)) == _VERSION
    )


def normalize(payload: dict[str, Any]) -> Normalized:
    content = common.obj_or_empty(payload.get("content"))
    meta = common.obj_or_empty(payload.get("metadata"))
    context = common.obj_or_empty(meta.get("additionalContext"))
    thread = common.ident_or_none(common.unnested(meta.get("threadId")), "metadata.threadId")
    event_type = common.ident_or_none(common.unnested(meta.get("eventType")), "metadata.eventType")
    title = common.first_title(
        _unadorned(content.get("title")),
        common.unnested(meta.get("summary")),
        _first_line(content.get("description")),
        f"Chatbot notification {event_type}" if event_type else None,
        field="content.title",
    )
    labels = labelled(
        ("thread", thread),
        ("event_type", event_type),
        ("keywords", _listed(content.get("keywords"))),
        ("resources", _listed(meta.get("relatedResources"))),
    )
    add_own_labels(labels, context)
    priority, notes = common.first_priority(
        labels,
        ("metadata.additionalContext.priority", context.get("priority")),
        ("metadata.additionalContext.severity", context.get("severity")),
    )
    alert = Alert(
        source=SOURCE,
        status=Status.FIRING,
        title=title,
        team=common.word(common.unnested(context.get("team")), "metadata.additionalContext.team"),
        priority=priority,
        severity=common.word(common.unnested(context.get("severity")), "severity"),
        description=paragraphs(content.get("description"), _steps(content.get("nextSteps"))),
        labels=labels,
        occurred_at=common.now(),  # the schema states no time: dated when it was queued
        identity=_identity(thread, event_type, title),
        raw=payload,
    )
    return Normalized((alert,), (), notes)


def _identity(thread: str | None, event_type: str | None, title: str) -> dict[str, str]:
    """The thread when the sender names one, else its event type and title."""
    if thread:
        return {"thread": thread}
    return {"event_type": event_type or "", "title": common.ident(title, "content.title")}


def _unadorned(value: Any) -> Any:
    """A title without the emoji codes it starts with (the title itself when it is only those)."""
    if not isinstance(value, str):
        return common.unnested(value)
    return _EMOJI.sub("", value) or value


def _first_line(value: Any) -> str | None:
    """The first line of a description that shows something, for a notification with no title."""
    text = common.text(common.unnested(value), "content.description")
    if not text:
        return None
    return next((line for line in text.splitlines() if line.strip()), None)


def _steps(value: Any) -> str | None:
    """The sender's next steps, one `- step` line each."""
    steps = [
        common.line(common.unnested(step), "content.nextSteps[]", shown=True)
        for step in common.items_or_empty(value)[:_LISTED_MAX]
    ]
    lines = [f"- {step}" for step in steps if step]
    return "Next steps:\n" + "\n".join(lines) if lines else None


def _listed(value: Any) -> str | None:
    """A list of words (keywords, resources) as one label value."""
    words = [
        common.whole_word(common.unnested(item), "listed")
        for item in common.items_or_empty(value)[:_LISTED_MAX]
    ]
    return ", ".join(word for word in words if word) or None
