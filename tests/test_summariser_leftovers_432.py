"""Summariser leftovers (task 432): a dismissal by waiting written with a tab, a non-breaking
space or a run of spaces between its words is still one; a file name in a ticket's
description or title (`app.log`, `dump.bin`) is no host, unless it is reached as one."""

from __future__ import annotations

import pytest

from triage.summarise import claims
from triage.summarise.grounding import MARK


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
