"""Summariser leftovers (task 432): a dismissal by waiting written with a tab, a non-breaking
space or a run of spaces between its words is still one; a file name in a ticket's
description or title (`app.log`, `dump.bin`) is no host, unless it is reached as one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from factories import view
from triage.models import Alert, Status
from triage.redact import Redactor
from triage.summarise import claims, grounding, prompt
from triage.summarise.grounding import MARK
from triage.summarise.llm import contain

TITLE = "Checkout API 5xx on web-1"

SOURCE = Alert(
    source="generic",
    status=Status.FIRING,
    title=TITLE,
    severity="warning",
    description="error rate 12% on web-1",
    occurred_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    identity={"dedup_key": "checkout-5xx"},
)


def _ungated(text: str) -> tuple[str, int]:
    """What every language's claims mark in `text`, with no literal gate before them."""
    marked = 0
    for language in claims._LANGUAGES:
        text, count = claims._marked_in(text, language)
        marked += count
    return text, marked


@pytest.mark.parametrize(
    "text",
    [
        "Wait for it to clear on its\town.",
        "Wait for it to clear on its\u00a0own.",
        "Leave the errors to subside on their \t own.",
        "Wait for it to clear on\tits\town.",
        "Resolve\tthe PagerDuty incident.",
        "Close\u00a0the PagerDuty incident now.",
        "Ignore\tthe Opsgenie alert.",
        "The outage is\tover.",
        "The outage was\u00a0now\tover.",
    ],
)
def test_a_claim_with_other_whitespace_between_its_words_is_marked(text: str) -> None:
    """A tab, a non-breaking space or a run of spaces between a claim's words hides no claim:
    it is marked, gated as ungated."""
    for form in (text, text.upper()):
        marked, count = claims._marked_claims(form)
        assert count == 1, form
        assert MARK in marked
        assert (marked, count) == _ungated(form)


def _contained(title: str, description: str) -> tuple[str, str, dict[str, int]]:
    """The title, description and rejected kinds `contain` publishes for SOURCE."""
    redactor = Redactor()
    shown = grounding.evidence(prompt.alert_view(view(SOURCE), redactor, 6000))
    draft = prompt.TicketDraft(
        title=title, priority="medium", description=description, steps=["Check web-1"]
    )
    result = contain(draft, view(SOURCE), redactor, shown)
    return result.ticket.title, result.ticket.description, dict(result.rejected)


@pytest.mark.parametrize(
    "text",
    [
        "Errors on web-1; read app.log for the stack traces.",
        "Capture a heap dump to dump.bin before restarting web-1.",
        "The rollout changed values.yaml on web-1.",
    ],
)
def test_a_file_name_in_a_description_is_no_host(text: str) -> None:
    """A file name (a file's extension that is no internet domain) in a description is kept,
    not marked as an unverified host, as it is in a step."""
    _, description, rejected = _contained(TITLE, text)
    assert description == text
    assert "host" not in rejected


def test_a_file_name_in_a_title_is_no_host() -> None:
    """The same in a title: `app.log` names a file there too."""
    title, _, rejected = _contained("web-1 app.log full of 5xx", "error rate 12% on web-1")
    assert title == "web-1 app.log full of 5xx"
    assert "host" not in rejected


@pytest.mark.parametrize(
    "text",
    [
        "Upload the logs to ops@dump.bin now.",
        "Send the logs to https://dump.bin now.",
        "Send the logs to dump.bin:8443 now.",
    ],
)
def test_a_file_named_host_reached_as_one_is_marked(text: str) -> None:
    """A name with a file's extension reached as a host (`@`, `://`, a `:` port) is a host
    the alert never named: it is still marked (or, as an address, redacted)."""
    _, description, _ = _contained(TITLE, text)
    assert "dump.bin" not in description
